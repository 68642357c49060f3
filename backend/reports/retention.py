"""Storage that does not only grow: export files, import uploads and the bytes of deleted
photos are removed once their retention period has passed, on local storage and S3 alike,
and each removal is recorded (`StoredFileRemoval`), so the audit keeps what went.

Run daily by `reports.jobs.storage_retention_sweep_job` (CELERY_BEAT_SCHEDULE); each step
takes a bounded batch, so a backlog is worked off over a few runs.
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from crm.orders.services import order_import_uploads_remove
from fieldline.conf import fieldline_settings
from photos.retention import RemovedFile, photo_bytes_of_deleted_remove, remove_stored
from reports.models import ExportJob, ExportStatus, StoredFileKind, StoredFileRemoval


def export_files_remove(*, finished_before: dt.datetime, limit: int) -> list[RemovedFile]:
    """Remove the files of exports finished before `finished_before`; the job stays, as
    `expired` (its download then says to export again)."""
    jobs = list(
        ExportJob.objects.filter(status=ExportStatus.DONE, finished_at__lt=finished_before)
        .exclude(file_name="")
        .order_by("finished_at", "pk")
        .values_list("pk", "file_name")[:limit]
    )
    removed = [
        RemovedFile(
            StoredFileKind.EXPORT,
            name,
            remove_stored(name),
            str(pk),
            "export finished before the retention period",
        )
        for pk, name in jobs
    ]
    ExportJob.objects.filter(pk__in=[pk for pk, _ in jobs]).update(
        status=ExportStatus.EXPIRED, file_name=""
    )
    return removed


def removals_record(*, removed: Iterable[RemovedFile], at: dt.datetime) -> int:
    rows = [
        StoredFileRemoval(
            kind=item.kind,
            name=item.name[:255],
            size_bytes=item.size_bytes,
            subject_id=item.subject_id,
            reason=item.reason,
            removed_at=at,
        )
        for item in removed
    ]
    StoredFileRemoval.objects.bulk_create(rows)
    return len(rows)


def storage_retention_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """One run of the retention sweep; returns how many files of each kind it removed.
    Each step commits with its audit rows, so a crash loses no record of what went (a file
    deleted before a crash is deleted again, harmlessly, by the next run)."""
    now = now or timezone.now()
    conf = fieldline_settings
    limit = conf.RETENTION_BATCH
    steps = (
        lambda: export_files_remove(
            finished_before=now - dt.timedelta(days=conf.EXPORT_RETENTION_DAYS), limit=limit
        ),
        lambda: order_import_uploads_remove(
            finished_before=now - dt.timedelta(days=conf.IMPORT_UPLOAD_RETENTION_DAYS),
            limit=limit,
        ),
        lambda: photo_bytes_of_deleted_remove(
            deleted_before=now - dt.timedelta(days=conf.DELETED_PHOTO_RETENTION_DAYS),
            limit=limit,
        ),
    )
    counts: Counter[str] = Counter()
    for step in steps:
        with transaction.atomic():
            removed = step()
            removals_record(removed=removed, at=now)
        counts.update(item.kind for item in removed)
    return {kind: counts.get(kind, 0) for kind in StoredFileKind.values}
