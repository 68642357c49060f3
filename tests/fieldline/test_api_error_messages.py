"""Every 4xx the API answers says what to do about it, not only what went wrong."""

import pytest
from rest_framework import exceptions
from rest_framework.test import APIClient

from fieldline.errors import guidance

pytestmark = pytest.mark.django_db


def detail(response) -> str:
    return response.json()["detail"]


def test_no_token_says_how_to_sign_in():
    response = APIClient().get("/api/stores/")
    assert response.status_code == 401
    assert "Authorization: Token <key>" in detail(response)
    assert "POST /api/auth/token" in detail(response)


def test_a_bearer_token_is_told_which_scheme_to_use():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer abc123")
    response = client.get("/api/stores/")
    assert response.status_code == 401
    assert "'Bearer' authorization scheme is not accepted" in detail(response)
    assert "Authorization: Token <key>" in detail(response)


def test_an_unknown_token_says_to_sign_in_again():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)
    response = client.get("/api/stores/")
    assert response.status_code == 401
    assert "sign in again" in detail(response)


def test_a_wrong_method_points_to_the_docs(client_for):
    response = client_for("rep_north").delete("/api/me")
    assert response.status_code == 405
    assert "/api/docs/" in detail(response)


def test_a_body_that_is_not_json_says_what_to_send(client_for):
    response = client_for("rep_north").post(
        "/api/sync/push", data="device_id=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert "Content-Type: application/json" in detail(response)


def test_a_role_refusal_says_who_may(client_for):
    response = client_for("rep_north").post("/api/tasks/dispatch", {}, format="json")
    assert response.status_code == 403
    assert detail(response) == "Only managers and HQ may do this."


def test_a_refusal_without_a_message_of_its_own_gets_one():
    assert "managers or HQ" in guidance(exceptions.PermissionDenied(), None)
    assert guidance(exceptions.PermissionDenied("Only HQ may do this."), None) is None
