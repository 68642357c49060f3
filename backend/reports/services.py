"""Writes of the reports app: background export jobs (requested here, run in `jobs.py`)."""

import logging
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone

from accounts.models import User
from accounts.scope import scope_filter
from reports.exports import export_download_name, store_geojson, survey_csv
from reports.models import CsvDialect, ExportJob, ExportKind, ExportStatus
from stores.filters import StoreFilter
from stores.models import Store
from surveys.filters import SurveyFilter
from surveys.selectors import survey_list

logger = logging.getLogger(__name__)


class ExportFiltersInvalid(Exception):
    """The filters do not parse: `errors` maps each filter to its messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = dict(errors)


@dataclass(frozen=True)
class ExportFormat:
    filterset: type
    file_name: str
    content_type: str


FORMATS = {
    ExportKind.SURVEYS_CSV: ExportFormat(SurveyFilter, "surveys.csv", "text/csv"),
    ExportKind.STORES_GEOJSON: ExportFormat(StoreFilter, "stores.geojson", "application/geo+json"),
}


def export_rows(*, actor: User, kind: str, filters: Mapping[str, str]) -> QuerySet:
    """The rows an export of `kind` holds for `actor`: the same scope and the same filters
    as the streamed export (`GET /api/exports/...`)."""
    export_format = FORMATS[ExportKind(kind)]
    if kind == ExportKind.SURVEYS_CSV:
        rows = survey_list(actor=actor)
    else:
        rows = Store.objects.filter(scope_filter(user=actor), deleted=False)
    unknown = sorted(set(filters) - set(export_format.filterset.base_filters))
    if unknown:
        raise ExportFiltersInvalid({name: ["Not a filter of this export."] for name in unknown})
    filterset = export_format.filterset(data=dict(filters), queryset=rows)
    if not filterset.is_valid():
        raise ExportFiltersInvalid({k: [str(m) for m in v] for k, v in filterset.errors.items()})
    return filterset.qs


def export_region(*, actor: User, filters: Mapping[str, str]) -> str | None:
    """The one region an export's rows come from, if there is one: the region filter, or
    a manager's own region; None for HQ across all regions."""
    return filters.get("region") or (None if actor.is_hq else actor.region_id)


def export_job_create(
    *,
    actor: User,
    kind: str,
    filters: Mapping[str, str],
    dialect: str = CsvDialect.STANDARD,
) -> ExportJob:
    """Record an export and queue its job; bad filters are refused here, before any work.
    `dialect` applies to CSV exports (GeoJSON has one form)."""
    from reports.jobs import run_export_job  # the job module imports this one

    export_rows(actor=actor, kind=kind, filters=filters)
    if kind != ExportKind.SURVEYS_CSV:
        dialect = CsvDialect.STANDARD
    with transaction.atomic():
        job = ExportJob.objects.create(
            kind=kind,
            filters=dict(filters),
            dialect=dialect,
            requested_by=actor,
            created_at=timezone.now(),
        )
        run_export_job.delay_on_commit(job_id=str(job.pk))
    return job


def export_file_name(*, job: ExportJob) -> str:
    """One fixed name per job, so that running the job again replaces its file."""
    return f"exports/{job.pk}/{FORMATS[ExportKind(job.kind)].file_name}"


def export_job_run(*, job_id: str) -> ExportJob | None:
    """Write a job's file through the default storage, counting rows as pages are rendered.

    Safe to repeat: a finished job is left alone; one that was interrupted (a worker lost
    mid-run) starts over and overwrites its file. Progress is saved once per page.
    """
    job = ExportJob.objects.filter(pk=job_id).select_related("requested_by").first()
    if job is None or job.status == ExportStatus.DONE:
        return job
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.RUNNING, started_at=timezone.now(), rows_done=0, error=""
    )
    try:
        rows = export_rows(actor=job.requested_by, kind=job.kind, filters=job.filters)
        total = rows.count()
        ExportJob.objects.filter(pk=job.pk).update(rows_total=total)
        done = 0

        def on_page(count: int) -> None:
            nonlocal done
            done += count
            ExportJob.objects.filter(pk=job.pk).update(rows_done=min(done, total))

        name = export_file_name(job=job)
        with tempfile.TemporaryFile() as buffer:
            for text in rendered(kind=job.kind, rows=rows, on_page=on_page, dialect=job.dialect):
                buffer.write(text.encode())
            buffer.seek(0)
            if default_storage.exists(name):
                default_storage.delete(name)
            saved = default_storage.save(name, File(buffer))
    except ExportFiltersInvalid as error:
        return export_job_failed(job=job, message=f"Bad filters: {error.errors}")
    except Exception:
        # Recorded on the job, so its page says so instead of showing "running" for ever.
        logger.exception("export job %s failed", job.pk)
        return export_job_failed(job=job, message="The export failed; ask again.")
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE, rows_done=done, file_name=saved, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def rendered(
    *, kind: str, rows: QuerySet, on_page, dialect: str = CsvDialect.STANDARD
) -> Iterator[str]:
    if kind == ExportKind.SURVEYS_CSV:
        return survey_csv(rows, on_page=on_page, dialect=dialect)
    return store_geojson(rows, on_page=on_page)


def export_job_failed(*, job: ExportJob, message: str) -> ExportJob:
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.FAILED, error=message[:2000], finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


class ExportNotReady(Exception):
    """The job has no file yet (queued, running or failed)."""


class ExportExpired(Exception):
    """The job's file was removed after the retention period."""


def export_job_file(*, job: ExportJob) -> FileResponse:
    """The finished job's file as a streamed download (from whichever storage holds it)."""
    if job.status == ExportStatus.EXPIRED:
        raise ExportExpired
    if job.status != ExportStatus.DONE or not job.file_name:
        raise ExportNotReady
    export_format = FORMATS[ExportKind(job.kind)]
    return FileResponse(
        default_storage.open(job.file_name, "rb"),
        as_attachment=True,
        filename=export_download_name(
            kind=job.kind,
            filters=job.filters,
            region=export_region(actor=job.requested_by, filters=job.filters),
            on=timezone.localdate(job.created_at),
        ),
        content_type=export_format.content_type,
    )
