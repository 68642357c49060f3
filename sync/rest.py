"""REST resources over syncable records: parse, authorize, hand the write to the engine.

Every write a REST client makes becomes a `Mutation` applied by `sync.services`, so it is
versioned and reaches phones exactly like a push.
"""

import uuid
from typing import Any

from django.http import Http404
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ParseError, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from sync.merge import Status
from sync.models import ChangeSource
from sync.registry import EntitySpec, get_entity
from sync.selectors import record_list
from sync.services import Mutation, MutationResult, apply_mutation, record_wire




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

    @property
    def spec(self) -> EntitySpec:
        spec = get_entity(self.entity)
        assert spec is not None, self.entity
        return spec

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
        body = self.body(request)
        raw_id = body.pop("id", None)
        try:
            record_id = uuid.UUID(str(raw_id)) if raw_id is not None else uuid.uuid4()
        except ValueError as error:
            raise ValidationError({"id": ["Must be a UUID."]}) from error
        body.pop("version", None)
        if self.spec.model.objects.filter(pk=record_id).exists():
            raise ValidationError({"id": ["A record with this id exists."]})
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
        result = apply_mutation(
            actor=self.request.user,
            mutation=mutation,
            device_id=f"rest-{self.request.user.pk}",
            source=ChangeSource.REST,
        )
        if result.status != Status.REJECTED:
            return result
        if result.reason == "not_found":
            raise Http404
        if result.reason == "forbidden":
            raise PermissionDenied(result.errors)
        raise ValidationError(result.errors)
