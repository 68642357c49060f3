"""WSGI entry point for gunicorn."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path[:0] = [str(ROOT / "backend"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldline.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import get_resolver  # noqa: E402

application = get_wsgi_application()
# Import every view now, when the worker boots, rather than on its first request: the
# first phone to reach a fresh worker should not wait for the URLconf to load.
get_resolver().resolve("/api/health")
