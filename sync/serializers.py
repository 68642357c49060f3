"""Validation of wire values: strict types, finite numbers, enums, ranges.

Phones send JSON; a string where a number belongs, a NaN, or a number where text belongs
is a client bug to answer with a clear field error, never something to coerce.
"""

import math
from collections.abc import Callable, Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import serializers
from rest_framework.fields import SkipField, get_error_detail


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
        try:
            finite = math.isfinite(data)
        except OverflowError:
            # An integer too large for a float (JSON allows 10**400).
            finite = False
        if not finite:
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictUUIDField(serializers.UUIDField):
    """A UUID written as a string; DRF would also take an integer as `UUID(int=...)`."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


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
    return StrictUUIDField(**kwargs)


# User ids are 64-bit (BigAutoField); a larger number would overflow the database driver.
MAX_USER_ID = 2**63 - 1


def user_ref(**kwargs) -> serializers.IntegerField:
    return StrictIntegerField(min_value=1, max_value=MAX_USER_ID, **kwargs)


def choice_list(choices, *, max_length: int = 50, **kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=StrictChoiceField(choices=choices), max_length=max_length, **kwargs
    )


class StrictSerializer(serializers.Serializer):
    """A plain serializer that answers an unknown key with a field error instead of
    silently dropping it (a typo in a filter must not widen a bulk action)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


def partial_validator(serializer: serializers.Serializer) -> Callable[[Mapping], dict] | None:
    """`serializer.run_validation` for a partial update, visiting only the fields the data
    carries (DRF visits every field of the entity on each call, and an update names two or
    three of twenty). The same field objects, `validate_<field>` methods, error shapes and
    field order. None when the serializer validates more than field by field (a `validate`
    or serializer-level validators): then its own `run_validation` must run."""
    if type(serializer).validate is not serializers.Serializer.validate or serializer.validators:
        return None
    writable = list(serializer._writable_fields)

    def run_validation(data: Mapping) -> dict:
        if not isinstance(data, Mapping):
            return serializer.run_validation(data)
        validated: dict = {}
        errors: dict = {}
        for f in writable:
            if f.field_name not in data:
                continue
            validate_method = getattr(serializer, "validate_" + f.field_name, None)
            try:
                value = f.run_validation(f.get_value(data))
                if validate_method is not None:
                    value = validate_method(value)
            except serializers.ValidationError as exc:
                errors[f.field_name] = exc.detail
            except DjangoValidationError as exc:
                errors[f.field_name] = get_error_detail(exc)
            except SkipField:
                pass
            else:
                serializer.set_value(validated, f.source_attrs, value)
        if errors:
            raise serializers.ValidationError(errors)
        return validated

    return run_validation
