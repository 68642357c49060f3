"""Validation of wire values: strict types, finite numbers, enums, ranges.

Phones send JSON; a string where a number belongs, a NaN, or a number where text belongs
is a client bug to answer with a clear field error, never something to coerce.
"""

import math

from django.db import models
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and (not math.isfinite(data) or not data.is_integer()):
            self.fail("invalid")
        return super().to_internal_value(int(data))


class FiniteFloatField(serializers.FloatField):
    default_error_messages = {"invalid": "A finite number is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if not math.isfinite(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class WireSerializer(serializers.ModelSerializer):
    """Base of each entity's wire serializer: the record's fields plus sync metadata."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.SlugField: StrictCharField,
        models.FloatField: FiniteFloatField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.BooleanField: StrictBooleanField,
    }
    serializer_choice_field = StrictChoiceField

    id = serializers.UUIDField(required=False, help_text="Client-generated on create.")
    version = serializers.IntegerField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    deleted = serializers.BooleanField(read_only=True)

    META_FIELDS = ("id", "version", "updated_at", "deleted")


def record_ref(**kwargs) -> serializers.UUIDField:
    """A reference to another syncable record, by its UUID (checked in scope by the engine)."""
    return serializers.UUIDField(**kwargs)


def user_ref(**kwargs) -> serializers.IntegerField:
    return StrictIntegerField(min_value=1, **kwargs)


def choice_list(choices, *, max_length: int = 50, **kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=StrictChoiceField(choices=choices), max_length=max_length, **kwargs
    )
