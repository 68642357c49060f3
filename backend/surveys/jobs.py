"""Background jobs of surveys and photos (Celery; inline without a broker, see
fieldline/celery.py). Each is safe to repeat: a worker lost mid-job has it run again."""

from celery import shared_task
from django.conf import settings

# The job bodies import their services when they run: photo_content queues these jobs,
# and the thumbnail service reads photo_content.


@shared_task
def photo_thumbnail(*, photo_id: str) -> str:
    """Make one photo's thumbnail, queued when its bytes arrive."""
    from surveys.photo_thumbnails import photo_thumbnail_make

    return str(photo_thumbnail_make(photo_id=photo_id))


@shared_task
def photo_thumbnails_sweep() -> int:
    """Queue the thumbnails a lost or failed job did not make, a bounded batch per run
    (CELERY_BEAT_SCHEDULE). Returns how many were queued."""
    from surveys.photo_thumbnails import photos_missing_thumbnails

    limit = int(settings.FIELDLINE.get("THUMBNAIL_SWEEP_BATCH", 200))
    photo_ids = list(photos_missing_thumbnails(limit=limit).values_list("pk", flat=True))
    for photo_id in photo_ids:
        photo_thumbnail.delay(photo_id=str(photo_id))
    return len(photo_ids)
