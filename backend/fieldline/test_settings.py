"""Settings of the test run (pytest's DJANGO_SETTINGS_MODULE): the project's own, with
DEBUG on, said here since the settings default to production, and so background jobs
inline. Set in the environment before the settings read it, so the commands the tests
start in subprocesses make the same choice; those that test production (the live servers,
the deploy checks) set DEBUG=false and what it needs themselves."""

import os

os.environ["DEBUG"] = "true"

from fieldline.settings import *  # noqa: E402, F403

# No base map in tests: the HQ map makes no request to a tile server (or any other host).
FIELDLINE = {**FIELDLINE, "MAP_TILES_URL": ""}  # noqa: F405
