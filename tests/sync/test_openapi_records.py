"""The sync API as api_schema/openapi.yaml documents it, checked against the registry of
syncable entities and against what the server really answers.

Each registered entity has one record component: its fields are the registry's, typed as
the model types them, with the model's choices as enums and the server's fields
read-only; pull, push and REST use it; push and pull document every answer they give.
"""

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db import models
from openapi_schema_validator import OAS30Validator

from sync.openapi import read_only_names, record_component_name
from sync.registry import RefKind, all_entities
from sync.serializers import WireSerializer

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = yaml.safe_load((ROOT / "api_schema" / "openapi.yaml").read_text(encoding="utf-8"))
SCHEMAS = DOCUMENT["components"]["schemas"]
ENTITIES = sorted(all_entities(), key=lambda spec: spec.name)


def ref(name: str) -> str:
    return f"#/components/schemas/{name}"


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """A property's schema with `$ref`/`allOf`/`oneOf` of one component (an enum)
    followed, blank-choice enums left out."""
    if "$ref" in schema:
        return resolve(SCHEMAS[schema["$ref"].rsplit("/", 1)[1]])
    for key in ("allOf", "oneOf"):
        parts = [resolve(part) for part in schema.get(key, [])]
        parts = [part for part in parts if part.get("enum") != [""]]
        if len(parts) == 1:
            return {**parts[0], **{k: v for k, v in schema.items() if k != key}}
    return schema


# JSON Schema types of the model fields, as the wire carries them.
JSON_TYPES = [
    (models.BooleanField, "boolean"),
    (models.FloatField, "number"),
    (models.DecimalField, "number"),
    (models.IntegerField, "integer"),
    (models.DateTimeField, "string"),
    (models.DateField, "string"),
    (models.UUIDField, "string"),
    (models.CharField, "string"),
    (models.TextField, "string"),
]


def json_type(spec, name: str) -> str | None:
    model_field = spec.model._meta.get_field(spec.attname(name).removesuffix("_id"))
    if model_field.is_relation:
        kind = spec.field(name).ref if name in spec.field_name_set else RefKind.RECORD
        return "integer" if kind == RefKind.USER else "string"
    for field_class, json in JSON_TYPES:
        if isinstance(model_field, field_class):
            return json
    return None  # JSON, arrays: the wire serializer decides


def get_answers() -> dict[str, str]:
    """{path: the component its GET answers with 200} for the paths that name one."""
    answers = {}
    for path, item in DOCUMENT["paths"].items():
        content = item.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        target = content.get("application/json", {}).get("schema", {}).get("$ref")
        if target:
            answers[path] = target
    return answers


@pytest.mark.parametrize("spec", ENTITIES, ids=lambda spec: spec.name)
def test_each_entity_has_a_record_component_from_the_registry(spec):
    component = SCHEMAS[record_component_name(spec)]
    properties = component["properties"]
    assert set(properties) == {*WireSerializer.META_FIELDS, *spec.field_names, *spec.readonly}
    read_only = {name for name, schema in properties.items() if schema.get("readOnly")}
    assert read_only == read_only_names(spec)
    for name in properties:
        schema = resolve(properties[name])
        if name in WireSerializer.META_FIELDS:
            continue
        expected = json_type(spec, name)
        if expected is not None:
            assert schema.get("type") == expected, name
        choices = spec.model._meta.get_field(spec.attname(name)).choices
        if choices and name not in spec.readonly:
            values = {value for value, _ in choices if value != ""}
            assert set(schema["enum"]) - {"", None} == values, name
    # The request forms carry exactly the fields a client may write.
    writable = {"id", *spec.field_names}
    create = SCHEMAS[f"{record_component_name(spec)}Request"]["properties"]
    patch = SCHEMAS[f"Patched{record_component_name(spec)}Request"]["properties"]
    assert set(create) == set(patch) == writable
    # A field some role may not write says who may.
    for field in spec.fields:
        if field.writers != {"rep", "manager", "hq"}:
            assert "Changed by:" in properties[field.name].get("description", ""), field.name


def test_pull_push_and_rest_use_the_record_components():
    names = {spec.name: record_component_name(spec) for spec in ENTITIES}
    change = SCHEMAS["PullChange"]
    assert change["discriminator"]["propertyName"] == "entity"
    mapping = change["discriminator"]["mapping"]
    assert set(mapping) == set(names)
    for entity, target in mapping.items():
        record = SCHEMAS[target.rsplit("/", 1)[1]]["properties"]["record"]
        assert resolve(record)["properties"] == SCHEMAS[names[entity]]["properties"]
    mutation = SCHEMAS["PushMutationRequest"]["discriminator"]["mapping"]
    assert set(mutation) == set(names)
    for entity, target in mutation.items():
        fields = SCHEMAS[target.rsplit("/", 1)[1]]["properties"]["fields"]
        assert fields["allOf"] == [{"$ref": ref(f"Patched{names[entity]}Request")}]
    result = SCHEMAS["MutationResult"]["properties"]["record"]
    assert {part["$ref"] for part in result["anyOf"]} == {ref(name) for name in names.values()}
    listed = set(get_answers().values())
    for name in names.values():
        assert ref(f"Paginated{name}List") in listed
        assert ref(name) in listed  # retrieve


def test_push_and_pull_document_every_answer_they_give():
    pull = DOCUMENT["paths"]["/api/sync/pull"]["get"]
    push = DOCUMENT["paths"]["/api/sync/push"]["post"]
    assert set(pull["responses"]) == {"200", "400", "401", "410", "413", "415", "426", "503"}
    assert set(push["responses"]) == {"200", "400", "401", "413", "415", "426", "503"}
    for operation in (pull, push):
        for status, response in operation["responses"].items():
            assert response["content"]["application/json"]["schema"], status
            assert status == "200" or response["description"], status
    parameters = {p["name"]: p for p in pull["parameters"]}
    assert set(parameters) == {"cursor", "limit"}
    assert all(p["description"] for p in parameters.values())


# --- what the server answers matches the components -------------------------------------


def validator(component: str) -> OAS30Validator:
    return OAS30Validator({**DOCUMENT, "$ref": ref(component)})


def assert_valid(component: str, body: Any) -> None:
    errors = sorted(validator(component).iter_errors(body), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


@pytest.mark.django_db(transaction=True)
def test_pull_pages_and_push_answers_match_the_schema(client_for, world):
    client = client_for("rep_north")
    seen, cursor = set(), ""
    while True:  # the first sync comes in tiers: today's work first
        page = client.get("/api/sync/pull", {"limit": 1000, "cursor": cursor}).json()
        assert_valid("PullResponse", page)
        seen |= {change["entity"] for change in page["changes"]}
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert seen == {spec.name for spec in ENTITIES}
    mine = world["rep_north"]
    mutations = [
        {
            "mutation_id": str(uuid.uuid4()),
            "entity": "followup",
            "op": "create",
            "record_id": str(uuid.uuid4()),
            "fields": {"store": str(mine["store"]), "due_date": "2026-12-24", "note": "x"},
        },
        {
            "mutation_id": str(uuid.uuid4()),
            "entity": "survey",
            "op": "update",
            "record_id": str(mine["survey"]),
            "base_version": 1,
            "fields": {"footfall_weekday": 12},
        },
        {
            "mutation_id": str(uuid.uuid4()),
            "entity": "store",
            "op": "update",
            "record_id": str(mine["store"]),
            "base_version": 1,
            "fields": {"nope": 1},
        },
    ]
    body = {"device_id": "schema-check", "mutations": mutations}
    assert_valid("PushRequestRequest", body)
    answer = client.post("/api/sync/push", body, format="json").json()
    assert [r["status"] for r in answer["results"]] == ["applied", "applied", "rejected"]
    assert_valid("PushResponse", answer)
    replayed = client.post("/api/sync/push", body, format="json").json()
    assert all(r["replayed"] for r in replayed["results"])
    assert_valid("PushResponse", replayed)
    assert_valid("Resync", {"detail": "resync"})
    assert_valid("Upgrade", {"detail": "upgrade", "min_version": "2.0.0"})
    too_large = client.post(
        "/api/sync/push", {"mutations": [mutations[0]] * 501}, format="json"
    ).json()
    assert_valid("ErrorDetail", too_large)
    # REST lists answer the same records.
    for path, target in get_answers().items():
        component = target.rsplit("/", 1)[-1]
        if component.startswith("Paginated") and component.endswith("RecordList"):
            listed = client.get(path)
            assert listed.status_code == 200, path
            assert listed.json()["results"], path
            assert_valid(component, listed.json())
