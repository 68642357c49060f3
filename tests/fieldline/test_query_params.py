"""An unknown query parameter on any list answers 400 naming it (fieldline.query_params).

The lists are enumerated from the URL conf (every paginated view, every view the schema
says answers an array, and the sync pull), so a new list is covered without being named
here; each one's accepted parameters must be the ones api_schema/openapi.yaml documents.
"""

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.test import APIClient

from crm.subsidies.models import SubsidyBudget
from fieldline.query_params import accepted_query_params
from sync.apis import PullApi

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = yaml.safe_load((ROOT / "api_schema" / "openapi.yaml").read_text(encoding="utf-8"))


def routes(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def schema_path(route: str) -> str:
    """`api/^stores/$` → `/api/stores/`; `<uuid:pk>` → `{id}` as the schema spells it."""
    path = route.replace("^", "").replace("$", "")
    path = re.sub(r"<(?:\w+:)?pk>", "{id}", path)
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
    return "/" + path


def answers_an_array(path: str) -> bool:
    """A list that is not paginated (stores nearby, the templates in force)."""
    operation = DOCUMENT["paths"].get(path, {}).get("get", {})
    content = operation.get("responses", {}).get("200", {}).get("content", {})
    return content.get("application/json", {}).get("schema", {}).get("type") == "array"


def list_views() -> dict[str, type]:
    """{schema path: view class} of every list: a generic list, or a view that paginates."""
    found = {}
    for route, callback in routes(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        if view is None or "(?P<format>" in route:
            continue
        actions = getattr(callback, "actions", None)
        if actions is not None:
            is_list = actions.get("get") == "list"
        else:
            # A generic list, or a plain view that paginates what it answers.
            is_list = issubclass(view, ListModelMixin) or (
                not issubclass(view, GenericAPIView)
                and getattr(view, "pagination_class", None) is not None
            )
        if is_list or view is PullApi or answers_an_array(schema_path(route)):
            found[schema_path(route)] = (view, actions)
    return found


LISTS = list_views()


def documented(path: str) -> set[str]:
    operation = DOCUMENT["paths"][path]["get"]
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def instance(view: type, actions):
    made = view(**({"action": actions["get"]} if actions else {}))
    made.format_kwarg = None
    return made


def test_the_lists_are_found():
    assert {"/api/stores/", "/api/audit", "/api/sync/pull", "/api/stores/nearby"} <= set(LISTS)
    assert len(LISTS) >= 28


@pytest.mark.parametrize("path", sorted(LISTS))
def test_each_list_accepts_what_its_schema_documents(path):
    view, actions = LISTS[path]
    accepted = accepted_query_params(instance(view, actions))
    assert accepted - {"format"} == documented(path)


def concrete(path: str, world, regions) -> str:
    """The path with a record of the test world (a budget made for the ledger)."""
    record = world["rep_north"]["survey"]
    if path.startswith("/api/subsidies/budgets/"):
        record = SubsidyBudget.objects.create(
            region=regions["north"],
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 12, 31),
            created_at=timezone.now(),
        ).pk
    return path.replace("{id}", str(record)).replace("{pk}", str(record))


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(LISTS))
def test_an_unknown_query_parameter_is_a_400_naming_it(path, client_for, world, regions):
    url = concrete(path, world, regions)
    for who in ("hq", "manager_north", "rep_north"):
        client = client_for(who)
        response = client.get(url, {"search": "fresh", "page_sise": "5"})
        if response.status_code != 403:
            break
    if response.status_code == 404 and "{" in path:
        pytest.skip(f"{path}: no record of this kind in the test world")
    assert response.status_code == 400, (path, response.status_code, response.content[:300])
    errors = response.json()
    assert set(errors) >= {"search", "page_sise"}, errors
    assert errors["search"][0].startswith("Unknown query parameter `search`.")
    if "q" in documented(path):
        assert "Use `q`." in errors["search"][0]
    if "page_size" in documented(path):
        assert "Use `page_size`." in errors["page_sise"][0]


@pytest.mark.django_db
def test_the_right_parameter_still_filters(client_for, world):
    client = client_for("hq")
    assert client.get("/api/stores/", {"q": "no such store"}).json()["results"] == []
    paged = client.get("/api/stores/", {"page": 1, "page_size": 2, "format": "json"})
    assert paged.status_code == 200
    refused = client.get("/api/stores/", {"search": "no such store"})
    assert refused.status_code == 400
    assert refused.json() == {
        "search": [
            "Unknown query parameter `search`. Use `q`. This address takes: "
            + ", ".join(sorted(documented("/api/stores/")))
            + "."
        ]
    }


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/sync/pull", "/api/sync/push"])
def test_a_bearer_token_on_sync_is_told_which_scheme_to_use(path):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer abc123")
    response = client.get(path) if path.endswith("pull") else client.post(path, {})
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert "'Bearer' authorization scheme is not accepted" in detail
    assert "Authorization: Token <key>" in detail
