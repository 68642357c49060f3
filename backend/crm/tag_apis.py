"""HTTP for HQ's rule tags: managers may read them (to know what a rule tag means), HQ
writes them."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsHQOrReadOnly, IsOffice
from crm.models import TagRule
from crm.tag_rule_services import (
    TagRuleRejected,
    tag_rule_create,
    tag_rule_delete,
    tag_rule_update,
)
from crm.tags import OPS, RULE_FIELDS
from fieldline.pagination import PageNumberPagination

CONDITIONS_HELP = (
    "All must hold. Each is {field, op, value}; fields and their operators: "
    + "; ".join(f"{name} ({', '.join(OPS[kind])})" for name, kind in RULE_FIELDS.items())
    + ". `in`, `not_in` and `contains_any` take a list; `exists` takes true or false."
)


class TagConditionSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=list(RULE_FIELDS))
    op = serializers.CharField()
    value = serializers.JSONField()


class TagRuleSerializer(serializers.ModelSerializer):
    conditions = TagConditionSerializer(many=True, help_text=CONDITIONS_HELP)

    class Meta:
        model = TagRule
        fields = [
            "id",
            "name",
            "description",
            "conditions",
            "active",
            "created_by",
            "created_at",
            "updated_at",
        ]


class TagRuleInputSerializer(serializers.Serializer):
    """Shapes only; the conditions' meaning is checked by the service."""

    name = serializers.CharField(max_length=50)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    conditions = serializers.JSONField(help_text=CONDITIONS_HELP)
    active = serializers.BooleanField(required=False)


class TagRuleListApi(APIView):
    """Rule tags: stores matching all of a rule's conditions carry its tag after the next
    analytics recompute."""

    permission_classes = [IsAuthenticated, IsOffice, IsHQOrReadOnly]
    pagination_class = PageNumberPagination

    @extend_schema(responses={200: TagRuleSerializer(many=True)})
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(TagRule.objects.order_by("name"), request, view=self)
        return paginator.get_paginated_response(TagRuleSerializer(page, many=True).data)

    @extend_schema(request=TagRuleInputSerializer, responses={201: TagRuleSerializer})
    def post(self, request: Request) -> Response:
        payload = TagRuleInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            rule = tag_rule_create(actor=request.user, **payload.validated_data)
        except TagRuleRejected as error:
            raise ValidationError(error.errors) from error
        return Response(TagRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class TagRuleDetailApi(APIView):
    permission_classes = [IsAuthenticated, IsOffice, IsHQOrReadOnly]

    @extend_schema(responses={200: TagRuleSerializer})
    def get(self, request: Request, pk) -> Response:
        return Response(TagRuleSerializer(get_object_or_404(TagRule, pk=pk)).data)

    @extend_schema(request=TagRuleInputSerializer(partial=True), responses={200: TagRuleSerializer})
    def patch(self, request: Request, pk) -> Response:
        rule = get_object_or_404(TagRule, pk=pk)
        payload = TagRuleInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        try:
            rule = tag_rule_update(actor=request.user, rule=rule, changes=payload.validated_data)
        except TagRuleRejected as error:
            raise ValidationError(error.errors) from error
        return Response(TagRuleSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk) -> Response:
        tag_rule_delete(actor=request.user, rule=get_object_or_404(TagRule, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
