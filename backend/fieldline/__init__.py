# The Celery app is created with the project, so that `@shared_task` jobs bind to it.
from .celery import app as celery_app

__all__ = ["celery_app"]
