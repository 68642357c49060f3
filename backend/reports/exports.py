"""Exports for managers and HQ: surveys as CSV, stores as GeoJSON.

Rows are read in keyset pages (ordered by id, the next page after the last id seen), so an
export of any size holds one page in memory, and each page is one query (the survey page
is scored in the same query).
"""

import csv
import datetime as dt
import functools
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from django.db.models import QuerySet

from reports.models import CsvDialect, ExportKind
from stores.models import Store
from surveys.models import SURVEY_MEASURES, SiteSurvey
from surveys.selectors import TemplateRules, scored, template_rules
from sync.registry import get_entity
from sync.wire import wire_value

PAGE = 2000
BOM = "\ufeff"
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

SURVEY_COLUMNS = (
    "id",
    "store",
    "store__name",
    "store__region_id",
    "store__owner__username",
    "trade_area_type",
    "scored_type",
    "template_version",
    "scored_version",
    "score",
    "captured_at",
    *SURVEY_MEASURES,
    "lat",
    "lon",
    "accuracy_m",
    "distance_m",
    "notes",
    "review_status",
    "version",
    "updated_at",
)
SURVEY_HEADER = tuple(
    {
        "store__name": "store_name",
        "store__region_id": "region",
        "store__owner__username": "owner",
        "scored_version": "scored_template_version",
    }.get(name, name)
    for name in SURVEY_COLUMNS
)
# A store's exported properties are its fields as the sync registry lists them (once, in
# stores/syncing.py), less its position, which is the feature's geometry, and two settings
# of the phone app a map has no use for (opening hours, the geofence radius).
STORE_NOT_EXPORTED = frozenset({"lat", "lon", "opening_hours", "geofence_radius_m"})


@functools.cache
def store_properties() -> tuple[str, ...]:
    """The store columns a GeoJSON feature carries, references by their id columns."""
    spec = get_entity("store")
    assert spec is not None, "the stores app registers its entity when it loads"
    return ("id", *(f.attname for f in spec.fields if f.name not in STORE_NOT_EXPORTED))


def keyset_pages(queryset: QuerySet, fields: Sequence[str]) -> Iterator[list[dict[str, Any]]]:
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page.values(*fields)[:PAGE])
        if rows:
            yield rows
        if len(rows) < PAGE:
            return
        last = rows[-1]["id"]


def csv_cell(value: Any) -> Any:
    # The common cases first: an export runs this once per column and row.
    kind = type(value)
    if kind is int or kind is float:
        return value
    if value is None:
        return ""
    if kind is str:
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        value = wire_value(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return "" if value is None else value


def excel_cell(value: Any) -> Any:
    """A cell for a comma-decimal spreadsheet: numbers with a decimal comma (German Excel
    reads "0.75" as a date or text), everything else as `csv_cell` writes it."""
    if type(value) is float:
        return repr(value).replace(".", ",")
    return csv_cell(value)


def survey_csv(
    surveys: QuerySet[SiteSurvey],
    *,
    dialect: str = CsvDialect.STANDARD,
    templates: Sequence[TemplateRules] | None = None,
    on_page: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """The CSV text of these surveys, a page of rows at a time, with their scores.
    `dialect` "excel": a byte-order mark first, `;` between cells, decimal commas (see
    `CsvDialect`). `on_page(rows)` is told of each page once it is rendered (a background
    export's progress)."""
    templates = template_rules() if templates is None else templates
    buffer = io.StringIO()
    excel = dialect == CsvDialect.EXCEL
    writer = csv.writer(buffer, delimiter=";" if excel else ",")
    cell = excel_cell if excel else csv_cell
    if excel:
        buffer.write(BOM)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(SURVEY_HEADER)
    yield flush()
    for page in keyset_pages(scored(surveys, templates=templates), SURVEY_COLUMNS):
        for row in page:
            writer.writerow([cell(row[name]) for name in SURVEY_COLUMNS])
        if on_page is not None:
            on_page(len(page))
        yield flush()


def store_geojson(
    stores: QuerySet[Store], *, on_page: Callable[[int], None] | None = None
) -> Iterator[str]:
    """A GeoJSON FeatureCollection of these stores (points at lon, lat), page by page;
    `on_page(rows)` as for `survey_csv`."""
    yield '{"type":"FeatureCollection","features":['
    first = True
    columns = store_properties()
    for page in keyset_pages(stores, (*columns, "lat", "lon")):
        features = []
        for row in page:
            properties = {name.removesuffix("_id"): wire_value(row[name]) for name in columns}
            features.append(
                json.dumps(
                    {
                        "type": "Feature",
                        "id": properties["id"],
                        "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
                        "properties": properties,
                    },
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
            )
        if on_page is not None:
            on_page(len(page))
        yield ("" if first else ",") + ",".join(features)
        first = False
    yield "]}"


# What a file is named after: its kind, then these filters' values when set.
NAMED_FILTERS = {
    ExportKind.SURVEYS_CSV: ("surveys", "csv", ("review_status", "trade_area_type")),
    ExportKind.STORES_GEOJSON: ("stores", "geojson", ("status", "trade_area_type", "grade")),
}
UNSAFE = re.compile(r"[^a-z0-9]+")


def export_download_name(
    *, kind: str, filters: Mapping[str, str], region: str | None, on: dt.date
) -> str:
    """The file name a download is offered under: what it holds and when it was made, e.g.
    `surveys-north-2026-12-04.csv` or `stores-all-regions-active-2026-12-04.geojson`.
    `region` is the region the rows are limited to (a filter, or a manager's scope)."""
    stem, extension, named = NAMED_FILTERS[ExportKind(kind)]
    parts = [stem, region or "all-regions"]
    parts += [filters[name] for name in named if filters.get(name)]
    words = [UNSAFE.sub("-", str(part).lower()).strip("-") for part in parts]
    return "-".join(word for word in words if word) + f"-{on.isoformat()}.{extension}"
