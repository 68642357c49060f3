"""Settings of the test run (pytest's DJANGO_SETTINGS_MODULE): the project's own, with
DEBUG on, said here since the settings default to production, and so background jobs
inline. Set in the environment before the settings read it, so the commands the tests
start in subprocesses make the same choice; those that test production (the live servers,
the deploy checks) set DEBUG=false and what it needs themselves."""

import os

os.environ["DEBUG"] = "true"

from fieldline.settings import *  # noqa: E402, F403

# A replica alias that is the test database itself (Django's test mirror), for the tests
# of the read routing: they name it in settings.DATABASE_REPLICAS; otherwise unused.
if "replica_mirror" not in DATABASES:  # noqa: F405
    DATABASES["replica_mirror"] = {  # noqa: F405
        **DATABASES["default"],  # noqa: F405
        "TEST": {"MIRROR": "default"},
    }

# No base map in tests: the HQ map makes no request to a tile server (or any other host).
FIELDLINE = {**FIELDLINE, "MAP_TILES_URL": ""}  # noqa: F405
