"""Writes of the orders import: a CSV file at once, or in the background as a job."""

import csv
import datetime as dt
import io
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from itertools import groupby
from typing import Any, BinaryIO, TextIO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import User
from crm.orders.imports import (
    MAX_AMOUNT,
    OrderFileError,
    ParsedLine,
    check_header,
    check_upload,
    count_rows,
    parse_line,
)
from crm.orders.models import Order, OrderImportJob, OrderImportStatus, OrderLine
from stores.models import Store

logger = logging.getLogger(__name__)

# --- orders import --------------------------------------------------------------------


@dataclass(frozen=True)
class RejectedRow:
    line: int
    order_id: str
    reasons: tuple[str, ...]


@dataclass
class OrderImportReport:
    rows_read: int = 0
    rows_rejected: int = 0
    orders_created: int = 0
    lines_created: int = 0
    orders_skipped: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StagedOrder:
    """A whole, valid order ready to insert: its lines never arrive without it."""

    id: uuid.UUID
    external_id: str
    store_id: uuid.UUID
    order_date: dt.date
    amount: Decimal
    lines: tuple[tuple[str, int, Decimal], ...]


def orders_import(
    *,
    csv_text: TextIO | Iterable[str],
    chunk_rows: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    atomic: bool = True,
) -> OrderImportReport:
    """Import order lines from CSV: validated row by row, inserted set-based, idempotent.

    Orders are keyed by `order_id`: one already in the database is skipped whole, so the
    same file imported twice changes nothing. An order with any rejected line is rejected
    whole (a partial order would carry a wrong amount, and a later corrected import would
    skip it). The file is read in chunks that end at an order boundary, so the lines of
    one order must be consecutive in the file, as ERP exports write them; lines of an
    order that reappears after other orders are rejected.

    `on_progress` is called with the rows of each chunk once it is written. `atomic=False`
    commits each chunk on its own (background jobs: the progress is visible while the job
    runs, and a rerun after a lost worker skips what was committed); the caller then checks
    the whole file first (`crm.orders.imports.count_rows`), so a bad file still changes nothing.
    """
    chunk_rows = chunk_rows or settings.FIELDLINE["ORDER_IMPORT_CHUNK_ROWS"]
    listed = settings.FIELDLINE["ORDER_IMPORT_REJECTED_LISTED"]
    report = OrderImportReport()
    today = timezone.localdate()
    try:
        reader = csv.DictReader(csv_text)
        check_header(reader.fieldnames)
        seen_orders: set[str] = set()
        with transaction.atomic() if atomic else nullcontext():
            for chunk in _order_chunks(reader, chunk_rows=chunk_rows, today=today):
                orders, rejected = _resolve_chunk(chunk, seen_orders=seen_orders)
                created, lines = insert_orders(orders=orders)
                report.rows_read += len(chunk)
                report.rows_rejected += len(rejected)
                report.orders_created += created
                report.lines_created += lines
                report.orders_skipped += len(orders) - created
                report.rejected.extend(rejected[: max(0, listed - len(report.rejected))])
                if on_progress:
                    on_progress(len(chunk))
    except csv.Error as error:
        raise OrderFileError(f"Not a readable CSV file: {error}.") from error
    except UnicodeDecodeError as error:
        raise OrderFileError("The file is not UTF-8 text.") from error
    return report


def _order_chunks(
    reader: csv.DictReader, *, chunk_rows: int, today: dt.date
) -> Iterator[list[ParsedLine]]:
    chunk: list[ParsedLine] = []
    for row in reader:
        parsed = parse_line(line=reader.line_num, row=row, today=today)
        if len(chunk) >= chunk_rows and parsed.order_id != chunk[-1].order_id:
            yield chunk
            chunk = []
        chunk.append(parsed)
    if chunk:
        yield chunk


def _resolve_chunk(
    chunk: list[ParsedLine], *, seen_orders: set[str]
) -> tuple[list[StagedOrder], list[RejectedRow]]:
    """Look the chunk's stores up (two queries), then group its lines into orders."""
    ids = {line.store_id for line in chunk if line.store_id}
    phones = {line.store_phone for line in chunk if line.store_phone}
    known_ids = set(Store.objects.filter(pk__in=ids, deleted=False).values_list("pk", flat=True))
    by_phone: dict[str, list[uuid.UUID]] = defaultdict(list)
    for phone, pk in Store.objects.filter(phone__in=phones, deleted=False).values_list(
        "phone", "pk"
    ):
        by_phone[phone].append(pk)

    store_of: dict[int, uuid.UUID] = {}
    for line in chunk:
        phone_matches = by_phone.get(line.store_phone or "", [])
        if line.store_id:
            if line.store_id not in known_ids:
                line.reasons.append("unknown store")
            elif line.store_phone and phone_matches and line.store_id not in phone_matches:
                line.reasons.append("store_id and store_phone name different stores")
            else:
                store_of[line.line] = line.store_id
        elif line.store_phone:
            if not phone_matches:
                line.reasons.append("no store has this phone number")
            elif len(phone_matches) > 1:
                line.reasons.append("several stores have this phone number")
            else:
                store_of[line.line] = phone_matches[0]

    orders: list[StagedOrder] = []
    rejected: list[RejectedRow] = []
    for order_id, group in groupby(chunk, key=lambda line: line.order_id):
        lines = list(group)
        _check_order(order_id, lines, store_of=store_of, seen_orders=seen_orders)
        if order_id:
            seen_orders.add(order_id)
        if any(line.reasons for line in lines):
            for line in lines:
                reasons = line.reasons or [f"another line of order {order_id} was rejected"]
                rejected.append(RejectedRow(line.line, order_id, tuple(reasons)))
            continue
        first = lines[0]
        assert first.order_date is not None
        orders.append(
            StagedOrder(
                id=uuid.uuid4(),
                external_id=order_id,
                store_id=store_of[first.line],
                order_date=first.order_date,
                amount=sum((line.amount for line in lines), Decimal(0)),
                lines=tuple((line.sku, line.quantity, line.amount) for line in lines),
            )
        )
    return orders, rejected


def _check_order(
    order_id: str,
    lines: list[ParsedLine],
    *,
    store_of: dict[int, uuid.UUID],
    seen_orders: set[str],
) -> None:
    """Reasons that concern the order as a whole, added to the lines they concern."""
    if order_id and order_id in seen_orders:
        for line in lines:
            line.reasons.append(f"lines of order {order_id} are not consecutive in the file")
        return
    first = lines[0]
    for line in lines[1:]:
        store, first_store = store_of.get(line.line), store_of.get(first.line)
        if store and first_store and store != first_store:
            line.reasons.append("store differs from the first line of the order")
        if line.order_date and first.order_date and line.order_date != first.order_date:
            line.reasons.append("order_date differs from the first line of the order")
    if sum((line.amount for line in lines), Decimal(0)) > MAX_AMOUNT:
        first.reasons.append("the order's total amount is too large")


def insert_orders(*, orders: Sequence[StagedOrder]) -> tuple[int, int]:
    """Insert orders and their lines, skipping orders whose `external_id` exists already.

    Returns (orders created, lines created). PostgreSQL COPYs the chunk into temporary
    staging tables and moves it with INSERT ... SELECT ... ON CONFLICT DO NOTHING; other
    databases use bulk_create with ignore_conflicts.
    """
    if not orders:
        return 0, 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            return _insert_orders_copy(orders)
        return _insert_orders_portable(orders)


def _insert_orders_copy(orders: Sequence[StagedOrder]) -> tuple[int, int]:
    order_table = connection.ops.quote_name(Order._meta.db_table)
    line_table = connection.ops.quote_name(OrderLine._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS crm_order_stage (id uuid, external_id text,"
            " store_id uuid, order_date date, amount numeric(12, 2)) ON COMMIT DROP"
        )
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS crm_orderline_stage (order_id uuid, sku text,"
            " quantity integer, amount numeric(12, 2)) ON COMMIT DROP"
        )
        cursor.execute("TRUNCATE crm_order_stage, crm_orderline_stage")
        copy_sql = "COPY crm_order_stage (id, external_id, store_id, order_date, amount) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for order in orders:
                copy.write_row(
                    (order.id, order.external_id, order.store_id, order.order_date, order.amount)
                )
        copy_sql = "COPY crm_orderline_stage (order_id, sku, quantity, amount) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for order in orders:
                for sku, quantity, amount in order.lines:
                    copy.write_row((order.id, sku, quantity, amount))
        cursor.execute(
            f"INSERT INTO {order_table} (id, external_id, store_id, order_date, amount)"
            " SELECT id, external_id, store_id, order_date, amount FROM crm_order_stage"
            " ON CONFLICT (external_id) DO NOTHING"
        )
        created = cursor.rowcount
        # Only the orders just inserted carry the staged ids: skipped ones bring no lines.
        cursor.execute(
            f"INSERT INTO {line_table} (order_id, sku, quantity, amount)"
            " SELECT s.order_id, s.sku, s.quantity, s.amount FROM crm_orderline_stage s"
            f" JOIN {order_table} o ON o.id = s.order_id"
        )
        lines = cursor.rowcount
        cursor.execute("TRUNCATE crm_order_stage, crm_orderline_stage")
    return created, lines


def _insert_orders_portable(orders: Sequence[StagedOrder]) -> tuple[int, int]:
    Order.objects.bulk_create(
        [
            Order(
                id=order.id,
                external_id=order.external_id,
                store_id=order.store_id,
                order_date=order.order_date,
                amount=order.amount,
            )
            for order in orders
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    staged = [order.id for order in orders]
    created: set[uuid.UUID] = set()
    for start in range(0, len(staged), 1000):
        created.update(
            Order.objects.filter(pk__in=staged[start : start + 1000]).values_list("pk", flat=True)
        )
    lines = [
        OrderLine(order_id=order.id, sku=sku, quantity=quantity, amount=amount)
        for order in orders
        if order.id in created
        for sku, quantity, amount in order.lines
    ]
    OrderLine.objects.bulk_create(lines, batch_size=1000)
    return len(created), len(lines)


# --- orders import jobs ---------------------------------------------------------------


def order_import_job_create(*, actor: User, upload: BinaryIO) -> tuple[OrderImportJob, bool]:
    """Keep an uploaded orders CSV in the default storage and queue its import; answers the
    job and whether it is new. What is cheap to check (empty, not UTF-8, columns missing)
    is refused here with `OrderFileError`, before anything is stored. The same file while
    its import is queued or running answers that job: no second import of it in parallel.
    """
    from crm.orders.jobs import run_order_import  # the job module imports this one

    sha256, size = check_upload(upload)
    upload.seek(0)
    header = io.TextIOWrapper(upload, encoding="utf-8-sig", newline="")
    try:
        count_rows(header, header_only=True)
    finally:
        header.detach()
    active = _active_order_import_job(sha256=sha256)
    if active is not None:
        return active, False
    job_id = uuid.uuid4()
    upload.seek(0)
    file_name = default_storage.save(f"imports/orders/{job_id}.csv", File(upload))
    try:
        with transaction.atomic():
            job = OrderImportJob.objects.create(
                id=job_id,
                file_name=file_name,
                sha256=sha256,
                size_bytes=size,
                requested_by=actor,
                created_at=timezone.now(),
            )
    except IntegrityError:
        # The same file posted at the same moment: the other request's job won.
        default_storage.delete(file_name)
        active = _active_order_import_job(sha256=sha256)
        if active is None:
            raise
        return active, False
    run_order_import.delay_on_commit(job_id=str(job.pk))
    return job, True


def _active_order_import_job(*, sha256: str) -> OrderImportJob | None:
    return OrderImportJob.objects.filter(
        sha256=sha256, status__in=[OrderImportStatus.QUEUED, OrderImportStatus.RUNNING]
    ).first()


def order_import_job_run(*, job_id: str) -> OrderImportJob | None:
    """Import a job's stored file with `orders_import`, saving progress once per chunk.

    The file is read twice: first to count its rows and check it is readable CSV through
    to the end (a bad file fails the job and writes nothing), then to import it, each chunk
    committed on its own. Safe to repeat: a finished job is left alone; one that was
    interrupted runs again and skips the orders its first run committed.
    """
    job = OrderImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status == OrderImportStatus.DONE:
        return job
    OrderImportJob.objects.filter(pk=job.pk).update(
        status=OrderImportStatus.RUNNING,
        started_at=timezone.now(),
        finished_at=None,
        rows_total=None,
        rows_done=0,
        error="",
    )
    done = 0

    def on_progress(rows: int) -> None:
        nonlocal done
        done += rows
        OrderImportJob.objects.filter(pk=job.pk).update(rows_done=done)

    try:
        with _stored_text(job.file_name) as csv_text:
            total = count_rows(csv_text)
        OrderImportJob.objects.filter(pk=job.pk).update(rows_total=total)
        with _stored_text(job.file_name) as csv_text:
            report = orders_import(csv_text=csv_text, on_progress=on_progress, atomic=False)
    except OrderFileError as error:
        return _order_import_job_failed(job=job, message=str(error))
    except Exception:
        # Recorded on the job, so its status says so instead of "running" for ever.
        logger.exception("orders import job %s failed", job.pk)
        return _order_import_job_failed(
            job=job,
            message="The import stopped before the end of the file; post the file again: "
            "the orders already imported are skipped.",
        )
    OrderImportJob.objects.filter(pk=job.pk).update(
        status=OrderImportStatus.DONE,
        rows_done=report.rows_read,
        report=report.as_dict(),
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


@contextmanager
def _stored_text(name: str) -> Iterator[TextIO]:
    """A stored upload as text, streamed from whichever storage holds it."""
    with default_storage.open(name, "rb") as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        try:
            yield text
        finally:
            text.detach()


def _order_import_job_failed(*, job: OrderImportJob, message: str) -> OrderImportJob:
    OrderImportJob.objects.filter(pk=job.pk).update(
        status=OrderImportStatus.FAILED, error=message[:2000], finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job
