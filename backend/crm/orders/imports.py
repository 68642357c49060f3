"""Parsing and validation of the orders CSV: pure functions over text, no database.

A row is one order line. The checks that need the database (does the store exist?) are
made per chunk in `crm.orders.services`, with one query for all the stores a chunk names.
"""

import codecs
import csv
import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO, TextIO

from fieldline.inputs import parse_count, parse_decimal, text_problem
from stores.phones import PhoneNumberError, normalize_phone

REQUIRED_COLUMNS = ("order_id", "order_date", "sku", "quantity", "amount")
STORE_COLUMNS = ("store_id", "store_phone")
MAX_ID_LENGTH = 64
# Order and line amounts are DECIMAL(12, 2).
MAX_AMOUNT = Decimal("9999999999.99")
MAX_QUANTITY = 2_147_483_647
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
UPLOAD_BLOCK = 1024 * 1024
KNOWN_COLUMNS = frozenset((*REQUIRED_COLUMNS, *STORE_COLUMNS))
AMOUNT_REASONS = {
    "too large": "amount is too large",
    "more than 2 decimal places": "amount has more than 2 decimal places",
}


class OrderFileError(ValueError):
    """The file as a whole cannot be read (not CSV, not UTF-8, columns missing)."""


@dataclass
class ParsedLine:
    """One CSV row as far as it could be read; `reasons` empty means valid so far."""

    line: int
    order_id: str
    store_id: uuid.UUID | None = None
    store_phone: str | None = None
    order_date: dt.date | None = None
    sku: str = ""
    quantity: int = 0
    amount: Decimal = Decimal(0)
    reasons: list[str] = field(default_factory=list)


def check_header(columns: list[str] | None) -> None:
    present = set(columns or ())
    missing = [name for name in REQUIRED_COLUMNS if name not in present]
    if not present & set(STORE_COLUMNS):
        missing.append("store_id or store_phone")
    if missing:
        raise OrderFileError(f"Missing columns: {', '.join(missing)}.")


def check_upload(binary: BinaryIO) -> tuple[str, int]:
    """The sha256 and size of an upload, checking on the way that it is UTF-8 text and not
    empty: one pass at C speed, so a bad file is refused before a job is queued for it."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    size = 0
    try:
        while block := binary.read(UPLOAD_BLOCK):
            digest.update(block)
            decoder.decode(block)
            size += len(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise OrderFileError("The file is not UTF-8 text.") from error
    if not size:
        raise OrderFileError("The file is empty.")
    return digest.hexdigest(), size


def count_rows(csv_text: TextIO, *, header_only: bool = False) -> int:
    """The data rows of a file as `orders_import` reads them (blank lines skipped), checking
    the header and that the whole file is readable CSV before anything is written.
    `header_only`: check the header alone (a cheap check at upload time) and answer 0."""
    reader = csv.reader(csv_text)
    try:
        check_header(next(reader, None))
        return 0 if header_only else sum(1 for row in reader if row)
    except csv.Error as error:
        raise OrderFileError(f"Not a readable CSV file: {error}.") from error
    except UnicodeDecodeError as error:
        raise OrderFileError("The file is not UTF-8 text.") from error


def parse_line(*, line: int, row: dict[str, str | None], today: dt.date) -> ParsedLine:
    """Read and check one row on its own (the store is only parsed here, not looked up)."""

    def cell(name: str) -> str:
        value = row.get(name)
        return value.strip() if isinstance(value, str) else ""

    parsed = ParsedLine(line=line, order_id=cell("order_id"))
    reasons = parsed.reasons
    for name, value in row.items():
        problem = text_problem(value) if isinstance(value, str) else None
        if problem:
            # The cell is not used further: a NUL would reach the database's lookups.
            reasons.append(f"{name if name in KNOWN_COLUMNS else 'a cell'}: {problem}")
            parsed.order_id = ""
            return parsed
    if None in row:
        reasons.append("more cells than columns")
    if not parsed.order_id:
        reasons.append("order_id is missing")
    elif len(parsed.order_id) > MAX_ID_LENGTH:
        reasons.append(f"order_id is longer than {MAX_ID_LENGTH} characters")

    store_id, store_phone = cell("store_id"), cell("store_phone")
    if store_id:
        try:
            parsed.store_id = uuid.UUID(store_id)
        except ValueError:
            reasons.append("store_id is not a valid id")
    if store_phone:
        try:
            parsed.store_phone = normalize_phone(store_phone)
        except PhoneNumberError:
            reasons.append("store_phone is not a valid phone number")
    if not store_id and not store_phone:
        reasons.append("store_id or store_phone is required")

    order_date = cell("order_date")
    try:
        if not ISO_DATE.fullmatch(order_date):
            raise ValueError(order_date)
        parsed.order_date = dt.date.fromisoformat(order_date)
    except ValueError:
        reasons.append("order_date is not a date (YYYY-MM-DD)")
    else:
        if parsed.order_date > today:
            reasons.append("order_date is in the future")

    parsed.sku = cell("sku")
    if not parsed.sku:
        reasons.append("sku is missing")
    elif len(parsed.sku) > MAX_ID_LENGTH:
        reasons.append(f"sku is longer than {MAX_ID_LENGTH} characters")

    # Numbers through the one input check (fieldline.inputs): plain digits, bounded in
    # length before any conversion, so that a 5,000-digit quantity, `1e999999999` or
    # `sNaN` is a rejected row, never an error of the whole import.
    try:
        parsed.quantity = parse_count(cell("quantity"), max_value=MAX_QUANTITY)
        if parsed.quantity < 1:
            raise ValueError("zero")
    except ValueError:
        reasons.append("quantity is not a whole number of at least 1")

    amount = cell("amount")
    try:
        parsed.amount = parse_decimal(amount, max_digits=12, decimal_places=2)
    except ValueError as error:
        reasons.append(AMOUNT_REASONS.get(str(error), "amount is not a number"))
    else:
        if parsed.amount < 0:
            reasons.append("amount is negative")
    return parsed
