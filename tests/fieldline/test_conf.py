"""The FIELDLINE thresholds: one typed accessor over declared defaults, the environment
and settings.FIELDLINE, in that order."""

import dataclasses

import environ
import pytest

from fieldline.conf import DECLARED, FieldlineSettings, environment_values, fieldline_settings


def test_every_declared_threshold_is_in_the_settings_with_its_default():
    values = environment_values(environ.Env())
    assert set(values) == {spec.name for spec in DECLARED}
    assert FieldlineSettings.from_mapping(values) == FieldlineSettings()


def test_an_environment_variable_overrides_a_default_with_its_type(monkeypatch):
    monkeypatch.setenv("FIELDLINE_GEOFENCE_RADIUS_M", "80")
    monkeypatch.setenv("FIELDLINE_NEW_CUSTOMER_CALLBACK_DAYS", "2,9")
    monkeypatch.setenv("FIELDLINE_CALL_SLA_HOURS_SURVEY", "6")
    monkeypatch.setenv("FIELDLINE_PHOTO_MAX_BYTES", "1000")
    values = environment_values(environ.Env())
    assert values["GEOFENCE_RADIUS_M"] == 80.0
    assert isinstance(values["GEOFENCE_RADIUS_M"], float)
    assert values["NEW_CUSTOMER_CALLBACK_DAYS"] == [2, 9]
    assert values["CALL_SLA_HOURS"]["survey_by_phone"] == 6
    assert values["CALL_SLA_HOURS"]["reactivation"] == 48
    # One variable, both limits: the upload check and the body size limit agree.
    assert values["PHOTO_MAX_BYTES"] == 1000
    assert values["BODY_LIMITS"]["/api/photos/"] == 1000


def test_a_variable_does_not_leak_into_the_declared_defaults(monkeypatch):
    monkeypatch.setenv("FIELDLINE_TAG_GROWING_MIN", "0.99")
    assert environment_values(environ.Env())["TAG_MODELS"]["growing"]["min_score"] == 0.99
    assert environment_values(environ.Env())["TAG_MODELS"]["lunch_potential"]["min_score"] == 0.6
    assert FieldlineSettings().TAG_MODELS["growing"]["min_score"] == 0.8


def test_a_test_override_of_settings_fieldline_is_seen_at_once(settings):
    assert fieldline_settings.STALE_SURVEY_DAYS == 180
    settings.FIELDLINE = {**settings.FIELDLINE, "STALE_SURVEY_DAYS": 4}
    assert fieldline_settings.STALE_SURVEY_DAYS == 4


def test_a_partial_settings_block_falls_back_to_the_defaults(settings):
    settings.FIELDLINE = {"CHURN_MIN_ORDERS": 9}
    assert fieldline_settings.CHURN_MIN_ORDERS == 9
    assert fieldline_settings.ABC_A_MIN == 0.65


def test_an_undeclared_key_is_kept_and_readable_and_an_unknown_name_is_an_error(settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "SOMETHING_NEW_DAYS": 3}
    assert fieldline_settings.SOMETHING_NEW_DAYS == 3
    with pytest.raises(AttributeError, match="NOT_A_SETTING"):
        _ = fieldline_settings.NOT_A_SETTING


def test_the_thresholds_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        fieldline_settings._settings().GEOFENCE_RADIUS_M = 1.0  # type: ignore[attr-defined]
