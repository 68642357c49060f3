"""The sync API in the OpenAPI schema, generated from the registry of syncable entities.

Each entity's record is one named component (`StoreRecord`, `SurveyRecord`, ...) with the
fields the registry lists, in the types, enums and limits of the entity's wire serializer,
and the registry's server-computed fields read-only. The REST resources answer with it,
pull's changes carry it and push's mutations send it (`Patched<Entity>RecordRequest`: any
subset of the writable fields), so an app developer reads one definition per entity.

Only the schema reads these classes: the engine validates with the entity's own wire
serializer (`EntitySpec.serializer`), whose fields these are.
"""

import copy
from functools import cache

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema_field,
)
from rest_framework import serializers

from fieldline.conf import FieldlineSettings
from sync.registry import ALL_ROLES, EntitySpec, all_entities
from sync.serializers import WireSerializer

# Fields the engine keeps to itself: versions, stamps and the tombstone flag are written
# by every write, never by a client.
ENGINE_FIELDS = frozenset(WireSerializer.META_FIELDS) - {"id"}


def record_component_name(spec: EntitySpec) -> str:
    """`StoreWireSerializer` → `StoreRecord` (the name the schema gives the record)."""
    return spec.serializer.__name__.removesuffix("WireSerializer") + "Record"


def record_field_names(spec: EntitySpec) -> tuple[str, ...]:
    """The record's fields on the wire (`sync.mutations.record_wire`), in the serializer's
    order (the published one), then any registered field it leaves out."""
    registered = {*WireSerializer.META_FIELDS, *spec.field_names, *spec.readonly}
    declared = [name for name in spec.serializer.Meta.fields if name in registered]
    rest = [
        name
        for name in (*WireSerializer.META_FIELDS, *spec.field_names, *spec.readonly)
        if name not in declared
    ]
    return (*declared, *rest)


def read_only_names(spec: EntitySpec) -> frozenset[str]:
    """Fields no client writes: the engine's metadata and the server-computed ones."""
    return ENGINE_FIELDS | frozenset(spec.readonly)


@cache
def record_serializer(spec: EntitySpec) -> type[serializers.Serializer]:
    """The schema's serializer of one entity's record (one class per entity, so that REST,
    pull and push share its components)."""
    declared = spec.serializer().get_fields()
    read_only = read_only_names(spec)
    fields: dict[str, serializers.Field] = {}
    for name in record_field_names(spec):
        field = declared.get(name) or _model_field(spec, name)
        if name in read_only and not field.read_only:
            field = _rebuilt(field, read_only=True)
        elif name in spec.field_name_set and (roles := _roles_note(spec, name)):
            help_text = field._kwargs.get("help_text")
            field = _rebuilt(field, help_text=f"{help_text} {roles}" if help_text else roles)
        fields[name] = field
    name = record_component_name(spec)
    doc = (
        f"A `{spec.name}` record as the server sends it (REST, pull, push answers). "
        f"Read-only: {', '.join(sorted(read_only))}. A field some roles may not write says "
        "which may; the engine answers a field error for the others."
    )
    serializer = type(name + "Serializer", (serializers.Serializer,), {"__doc__": doc})
    # In the record's order (the metaclass would order fields by their creation).
    serializer._declared_fields = fields  # type: ignore[attr-defined]  # a made class
    return serializer


def _rebuilt(field: serializers.Field, **changes) -> serializers.Field:
    """The field made again with changed arguments (a serializer copies its fields from
    their arguments, so an attribute set afterwards would be lost)."""
    # Copied as DRF copies a field's arguments (a child field is made again, unbound).
    kwargs = {
        key: value if key in ("validators", "regex") else copy.deepcopy(value)
        for key, value in field._kwargs.items()
    }
    kwargs.update(changes)
    if kwargs.get("read_only"):
        for name in ("required", "default", "allow_blank", "min_length", "max_length"):
            kwargs.pop(name, None)
    return type(field)(*copy.deepcopy(field._args), **kwargs)


def _roles_note(spec: EntitySpec, name: str) -> str:
    field = spec.field(name)
    creators = field.writers if field.creators is None else field.creators
    if field.writers == ALL_ROLES and creators == ALL_ROLES:
        return ""
    note = f"Changed by: {', '.join(sorted(field.writers)) or 'nobody'}."
    if creators != field.writers:
        note += f" Set on create by: {', '.join(sorted(creators))}."
    return note


def _model_field(spec: EntitySpec, name: str) -> serializers.Field:
    """A registered field the wire serializer leaves out (a merged store's successor),
    typed from the model as a ModelSerializer would type it."""
    meta = type("Meta", (), {"model": spec.model, "fields": [name]})
    built = type("Built", (serializers.ModelSerializer,), {"Meta": meta})
    field = built().get_fields()[name]
    if isinstance(field, serializers.PrimaryKeyRelatedField):
        return serializers.UUIDField(allow_null=True, read_only=True)
    return field


def _const(value: str) -> dict:
    """Exactly `value`. A pattern, not a one-value enum: the schema's enum components are
    named by field, and six one-value `entity` enums would get hashed names."""
    return {"type": "string", "pattern": f"^{value}$", "example": value}


def schema_field(schema, base: type[serializers.Field] = serializers.CharField):
    """A new field class of `base` that the schema shows as `schema` (`extend_schema_field`
    marks the class it is given: never a DRF class itself)."""
    return extend_schema_field(schema)(type(f"Schema{base.__name__}", (base,), {}))


@cache
def change_serializer(spec: EntitySpec) -> type[serializers.Serializer]:
    """One change of a pull page for this entity: an upsert with the record, or a delete
    with its id."""
    record = record_serializer(spec)
    fields = {
        "entity": schema_field(_const(spec.name))(),
        "op": serializers.ChoiceField(choices=["upsert", "delete"]),
        "record": record(
            required=False,
            help_text="The record as it now is (upsert). A deleted one comes as `delete`.",
        ),
        "id": serializers.UUIDField(
            required=False,
            help_text="The record that was deleted or left your scope (delete): drop it.",
        ),
    }
    name = record_component_name(spec).removesuffix("Record") + "Change"
    doc = f"A `{spec.name}` change in a pull page."
    return type(name + "Serializer", (serializers.Serializer,), {**fields, "__doc__": doc})


@cache
def mutation_serializer(spec: EntitySpec) -> type[serializers.Serializer]:
    """One queued mutation of this entity in a push."""
    record = record_serializer(spec)
    fields = {
        "mutation_id": serializers.UUIDField(
            help_text="Client-generated, new for each edit: the push's idempotency key. A "
            "seen one answers the first answer again with `replayed: true`."
        ),
        "entity": schema_field(_const(spec.name))(),
        "op": serializers.ChoiceField(choices=["create", "update", "delete"]),
        "record_id": serializers.UUIDField(help_text="Client-generated on create."),
        "base_version": serializers.IntegerField(
            required=False,
            min_value=0,
            help_text="Required for an update: the record's version the edit was made on.",
        ),
        "client_ts": serializers.DateTimeField(
            required=False, help_text="When the edit was made on the phone (with a zone)."
        ),
        "fields": record(
            partial=True,
            required=False,
            help_text="The fields set (create: the new record's; update: the changed "
            "ones; delete: none). Unknown or read-only fields are rejected.",
        ),
    }
    name = record_component_name(spec).removesuffix("Record") + "Mutation"
    doc = f"A queued `{spec.name}` mutation."
    return type(name + "Serializer", (serializers.Serializer,), {**fields, "__doc__": doc})


def _by_entity(factory) -> dict[str, type[serializers.Serializer]]:
    return {spec.name: factory(spec) for spec in sorted(all_entities(), key=lambda s: s.name)}


def pull_change_proxy() -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name="PullChange",
        serializers=lambda: _by_entity(change_serializer),
        resource_type_field_name="entity",
        many=False,
    )


def push_mutation_proxy() -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name="PushMutation",
        serializers=lambda: _by_entity(mutation_serializer),
        resource_type_field_name="entity",
        many=False,
    )


def any_record_schema() -> dict:
    """A record of any entity (a push result does not name its entity: it is the one the
    mutation named)."""
    names = sorted(record_component_name(spec) for spec in all_entities())
    return {"anyOf": [{"$ref": f"#/components/schemas/{name}"} for name in names]}


# --- answers every sync endpoint can give ------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong and what to do about it.")


FIELD_ERRORS_DOC = (
    'Bad input: `{"<field or parameter>": ["message", ...]}`, or `{"detail": "..."}` for a '
    "body that is not the expected JSON object. Nothing was applied."
)


class ResyncSerializer(serializers.Serializer):
    detail = schema_field(_const("resync"))(
        help_text="Drop the local copy's sync state and pull from the beginning (no cursor)."
    )


class UpgradeSerializer(serializers.Serializer):
    detail = schema_field(_const("upgrade"))()
    min_version = serializers.CharField(
        help_text="The oldest app version served (FIELDLINE MIN_APP_VERSION)."
    )


FIELD_ERRORS = OpenApiResponse(
    response={
        "type": "object",
        "additionalProperties": {},
        "description": FIELD_ERRORS_DOC,
    },
    description="Bad input (a field or query parameter named with what to do); nothing was "
    "applied.",
)
UNAUTHORIZED = OpenApiResponse(
    response=ErrorDetailSerializer,
    description="No valid token: send `Authorization: Token <key>` "
    "(get one with POST /api/auth/token).",
)
TOO_LARGE = OpenApiResponse(
    response=ErrorDetailSerializer,
    description="The body is over the size limit, or a push holds more mutations than "
    "FIELDLINE SYNC_MAX_MUTATIONS: send it in smaller parts.",
)
UNSUPPORTED = OpenApiResponse(
    response=ErrorDetailSerializer,
    description="A body that is not JSON (`Content-Type: application/json`), or a "
    "`Content-Encoding` other than gzip.",
)
UPGRADE = OpenApiResponse(
    response=UpgradeSerializer,
    description="The app's `X-App-Version` is older than the minimum served: update the app.",
)
UNAVAILABLE = OpenApiResponse(
    response=ErrorDetailSerializer,
    description="The database was lost mid-request; nothing was applied. Retry after "
    "`Retry-After` seconds.",
)
RESYNC = OpenApiResponse(
    response=ResyncSerializer,
    description="The cursor is from another sync epoch (a restored database) or beyond "
    "what this database handed out: pull again from the beginning, without a cursor.",
)


def pull_parameters() -> list[OpenApiParameter]:
    # The declared defaults, not this process's values: the schema is the same everywhere.
    defaults = FieldlineSettings
    return [
        OpenApiParameter(
            "cursor",
            str,
            required=False,
            description="The `cursor` of the previous page, opaque and signed; none for the "
            "first page of a first sync. Keep the last one across app restarts: the next "
            "sync resumes from it. A cursor of another epoch answers 410 (resync).",
        ),
        OpenApiParameter(
            "limit",
            int,
            required=False,
            description="Changes per page: 1 to FIELDLINE SYNC_PULL_MAX_LIMIT (default "
            f"{defaults.SYNC_PULL_MAX_LIMIT}); without it, SYNC_PULL_DEFAULT_LIMIT (default "
            f"{defaults.SYNC_PULL_DEFAULT_LIMIT}). A page may carry fewer; `has_more` says "
            "whether to ask again. Anything else answers 400 naming `limit`.",
        ),
    ]
