"""Background jobs of photos (Celery; inline without a broker, see fieldline/celery.py).
Each is safe to repeat: a worker lost mid-job has it run again. The task names stay the
ones they had in the surveys app (`surveys.jobs.*`): the beat schedule and messages
already queued use them."""

from celery import shared_task
from django.conf import settings

# The job bodies import their services when they run: photos.content queues these jobs,
# and the thumbnail service reads photos.content.


@shared_task(name="surveys.jobs.photo_thumbnail")
def photo_thumbnail(*, photo_id: str) -> str:
    """Make one photo's thumbnail, queued when its bytes arrive."""
    from photos.thumbnails import photo_thumbnail_make

    return str(photo_thumbnail_make(photo_id=photo_id))


@shared_task(name="surveys.jobs.photo_thumbnails_sweep")
def photo_thumbnails_sweep() -> int:
    """Queue the thumbnails a lost or failed job did not make, a bounded batch per run
    (CELERY_BEAT_SCHEDULE). Returns how many were queued."""
    from photos.thumbnails import photos_missing_thumbnails

    limit = int(settings.FIELDLINE.get("THUMBNAIL_SWEEP_BATCH", 200))
    photo_ids = list(photos_missing_thumbnails(limit=limit).values_list("pk", flat=True))
    for photo_id in photo_ids:
        photo_thumbnail.delay(photo_id=str(photo_id))
    return len(photo_ids)
