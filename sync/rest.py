"""REST resources over syncable records: parse, authorize, hand the write to the engine.

Every write a REST client makes becomes a `Mutation` applied by `sync.batch`, so it is
versioned and reaches phones exactly like a push.
"""

import datetime as dt
import uuid
from typing import Any

import django_filters
from django import forms
from django.http import Http404
from django_filters.fields import IsoDateTimeField
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import (
    APIException,
    ParseError,
    PermissionDenied,
    ValidationError,
)
from rest_framework.request import Request
from rest_framework.response import Response

from fieldline.parsers import JSONBodyParser
from sync.batch import apply_mutation
from sync.merge import Status
from sync.models import ChangeSource
from sync.mutations import Mutation, MutationResult, record_wire
from sync.openapi import record_serializer
from sync.registry import EntitySpec, get_entity
from sync.retries import retried_on_contention
from sync.selectors import record_list
from sync.serializers import MAX_USER_ID

# --- filters -----------------------------------------------------------------------------
# A filter on a reference takes the id as a value, never as a choice among all rows: a
# "not a valid choice" answer would tell a caller which ids exist outside their scope.


class RecordRefFilter(django_filters.UUIDFilter):
    """Records that reference the given record's UUID (an unknown one matches nothing)."""


class UserIdField(forms.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_USER_ID)
        super().__init__(**kwargs)


class UserRefFilter(django_filters.NumberFilter):
    """Records that reference the given user id (an unknown one matches nothing)."""

    field_class = UserIdField


class UTCDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return value
        try:
            return value.astimezone(dt.UTC)
        except OverflowError as error:
            raise forms.ValidationError("Date and time out of range.", code="invalid") from error


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date and time, compared in UTC; one that has no UTC equivalent (year 1
    at +01:00) is a 400, not an overflow in the database adapter."""

    field_class = UTCDateTimeField


class Conflict(APIException):
    """The record's state refuses the write (e.g. an approved survey a rep would delete)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record's state does not allow this."
    default_code = "conflict"


UNUSABLE_ID = "Must be a new UUID: leave it out, or send one no record uses."

# --- parsing -----------------------------------------------------------------------------


class SyncableViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """List/retrieve in scope; create/update/delete through the sync engine.

    A body may carry `version`: the version the client edited, so that a concurrent change
    of other fields is merged rather than overwritten. Without it the edit applies to the
    current version.
    """

    entity: str = ""
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    # Records travel as JSON objects only; a form or multipart body is a 415.
    parser_classes = [JSONBodyParser]

    @property
    def spec(self) -> EntitySpec:
        spec = get_entity(self.entity)
        assert spec is not None, self.entity
        return spec

    def get_serializer_class(self):
        # The schema's record component, from the registry; the engine validates writes
        # with the entity's wire serializer.
        return record_serializer(self.spec)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.spec.model.objects.none()
        return record_list(actor=self.request.user, spec=self.spec)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(
            [record_wire(spec=self.spec, record=record) for record in page]
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(record_wire(spec=self.spec, record=self.get_object()))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if request.user.role not in self.spec.creators:
            # Before the body is read: whatever it holds, the role may not create these.
            raise PermissionDenied("Your role may not create this record.")
        body = self.body(request)
        raw_id = body.pop("id", None)
        # One answer for every id that cannot be used, whether it is malformed, taken in
        # the caller's scope or taken in another's: no answer tells an id in another scope
        # exists.
        unusable = ValidationError({"id": [UNUSABLE_ID]})
        try:
            record_id = uuid.UUID(str(raw_id)) if raw_id is not None else uuid.uuid4()
        except ValueError as error:
            raise unusable from error
        body.pop("version", None)
        if self.spec.model.objects.filter(pk=record_id).exists():
            raise unusable
        result = self.write(
            Mutation(entity=self.entity, op="create", record_id=record_id, fields=body)
        )
        return Response(result.record, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        record = self.get_object()
        body = self.body(request)
        body.pop("id", None)
        base_version = body.pop("version", record.version)
        if isinstance(base_version, bool) or not isinstance(base_version, int):
            raise ValidationError({"version": ["An integer is required."]})
        result = self.write(
            Mutation(
                entity=self.entity,
                op="update",
                record_id=record.pk,
                fields=body,
                base_version=base_version,
            )
        )
        return Response(result.record)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        record = self.get_object()
        self.write(Mutation(entity=self.entity, op="delete", record_id=record.pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- pieces -------------------------------------------------------------------------

    @staticmethod
    def body(request: Request) -> dict[str, Any]:
        if not isinstance(request.data, dict):
            raise ParseError("A JSON object is required.")
        return dict(request.data)

    def write(self, mutation: Mutation) -> MutationResult:
        result = retried_on_contention(apply_mutation)(
            actor=self.request.user,
            mutation=mutation,
            device_id=f"rest-{self.request.user.pk}",
            source=ChangeSource.REST,
        )
        if result.status != Status.REJECTED:
            return result
        if result.reason == "not_found":
            raise Http404
        errors = dict(result.errors or {})
        if result.code:
            errors["code"] = result.code
        if result.reason == "forbidden":
            raise PermissionDenied(errors)
        if result.reason == "conflict":
            raise Conflict(errors)
        raise ValidationError(errors)
