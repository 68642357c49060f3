"""Query parameters a list does not take are an error, not silence.

`?search=fresh` on a list whose search parameter is `q` used to answer every record, as if
the filter had matched everything; a client could not tell a typo from a match. Every
paginated list (the paginator calls this) and the sync pull answer 400 naming each
unknown parameter, what to use instead when it is a known slip, and what the list takes.

A view's accepted parameters are the ones its schema documents, read from the same
declarations: its pagination, its filterset, and the query parameters of its
`@extend_schema` (query serializers, `OpenApiParameter`s). `tests/fieldline/
test_query_params.py` checks the two agree for every list endpoint of the URL conf.
"""

import difflib
from collections.abc import Iterable

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.settings import api_settings

# Parameters other APIs use for what these lists call otherwise.
SLIPS = {
    "search": "q",
    "query": "q",
    "name": "q",
    "per_page": "page_size",
    "limit": "page_size",
    "size": "page_size",
    "offset": "page",
    "cursor": "page",
}

_ACCEPTED: dict[tuple[type, str], frozenset[str]] = {}


def accepted_query_params(view, method: str = "GET") -> frozenset[str]:
    """The query parameters `view` documents for `method` (cached per view class)."""
    key = (type(view), method.upper())
    if key not in _ACCEPTED:
        _ACCEPTED[key] = frozenset(_documented(view, method.upper()))
    return _ACCEPTED[key]


def _documented(view, method: str) -> Iterable[str]:
    if api_settings.URL_FORMAT_OVERRIDE:
        yield api_settings.URL_FORMAT_OVERRIDE  # ?format=json, DRF's own
    # A generic view's paginator, or the one an APIView makes from `pagination_class`.
    pagination_class = getattr(view, "pagination_class", None)
    paginator = getattr(view, "paginator", None) or (pagination_class and pagination_class())
    if paginator is not None:
        yield from (p["name"] for p in paginator.get_schema_operation_parameters(view))
    filterset_class = getattr(view, "filterset_class", None)
    if filterset_class is not None:
        yield from filterset_class.base_filters
    yield from getattr(view, "filterset_fields", None) or ()
    yield from _annotated(view, method)


def _annotated(view, method: str) -> Iterable[str]:
    """Query parameters of the handler's `@extend_schema(parameters=...)`."""
    action = getattr(view, "action", None) or method.lower()
    handler = getattr(type(view), action, None) or getattr(type(view), method.lower(), None)
    schema_class = getattr(handler, "kwargs", {}).get("schema")
    if schema_class is None:
        return
    schema = schema_class()
    schema.view = view
    schema.method = method
    for parameter in schema.get_override_parameters():
        if isinstance(parameter, type) and issubclass(parameter, serializers.Serializer):
            yield from parameter().fields
        elif isinstance(parameter, serializers.Serializer):
            yield from parameter.fields
        elif getattr(parameter, "location", "query") == "query" and hasattr(parameter, "name"):
            yield parameter.name


def refuse_unknown_query_params(request: Request, view) -> None:
    """400 naming every query parameter `view` does not take; nothing is read or changed."""
    accepted = accepted_query_params(view, request.method)
    unknown = sorted(set(request.query_params) - accepted)
    if unknown:
        raise ValidationError({name: [unknown_message(name, accepted)] for name in unknown})


def unknown_message(name: str, accepted: frozenset[str]) -> str:
    shown = sorted(accepted - {api_settings.URL_FORMAT_OVERRIDE})
    slip = SLIPS.get(name)
    if slip not in accepted:
        close = difflib.get_close_matches(name, shown, n=1)
        slip = close[0] if close else None
    instead = f" Use `{slip}`." if slip else ""
    takes = f" This address takes: {', '.join(shown)}." if shown else " It takes none."
    return f"Unknown query parameter `{name}`.{instead}{takes}"
