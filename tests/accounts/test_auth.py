"""Sign-in, the current user, lockout after failed logins, token expiry and revocation."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

TOKEN_URL = "/api/auth/token"
WRONG = {"detail": "Wrong username or password."}
LIMIT = settings.FIELDLINE["LOGIN_FAILURE_LIMIT"]
WINDOW_S = settings.FIELDLINE["LOGIN_FAILURE_WINDOW_S"]


def log_in(username: str, password: str = PASSWORD, client: APIClient | None = None):
    return (client or APIClient()).post(
        TOKEN_URL, {"username": username, "password": password}, format="json"
    )


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def user_json(user) -> dict:
    return {"id": user.pk, "username": user.username, "role": user.role, "region": user.region_id}


@pytest.mark.parametrize(
    ("who", "role", "region"),
    [
        ("rep_north", "rep", "north"),
        ("rep_south", "rep", "south"),
        ("manager_north", "manager", "north"),
        ("hq", "hq", None),
    ],
)
def test_token_answers_the_token_and_the_user(people, who, role, region):
    user = people[who]

    response = log_in(user.username)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "user"}
    assert body["user"] == {
        "id": user.pk,
        "username": user.username,
        "role": role,
        "region": region,
    }
    assert isinstance(body["token"], str)
    assert len(body["token"]) >= 32
    assert AuthToken.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(
    "who", ["rep_north", "rep_north_2", "rep_south", "manager_north", "manager_south", "hq"]
)
def test_me_is_the_user_object_of_the_token_answer(people, who):
    issued = log_in(people[who].username).json()

    response = with_token(issued["token"]).get("/api/me")

    assert response.status_code == 200
    assert response.json() == issued["user"] == user_json(people[who])


def test_each_login_is_its_own_device_token(people):
    first = log_in("rep-north-1").json()["token"]
    second = log_in("rep-north-1").json()["token"]

    assert first != second
    assert AuthToken.objects.filter(user=people["rep_north"]).count() == 2
    assert with_token(first).get("/api/me").status_code == 200
    assert with_token(second).get("/api/me").status_code == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("rep-north-1", "wrong-password"),
        ("rep-north-1", PASSWORD.upper()),
        ("rep-north-1", PASSWORD + " "),
        ("REP-NORTH-1", PASSWORD),
        ("nobody", PASSWORD),
        ("", PASSWORD),
    ],
    ids=["wrong", "wrong-case", "trailing-space", "name-case", "unknown-user", "empty-name"],
)
def test_wrong_credentials_are_refused_without_a_token(people, username, password):
    response = log_in(username, password)

    assert response.status_code == 400
    if username:
        assert response.json() == WRONG
    else:
        assert response.json() == {"username": ["This field may not be blank."]}
    assert AuthToken.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"username": ["This field is required."], "password": ["This field is required."]}),
        ({"username": "rep-north-1"}, {"password": ["This field is required."]}),
        (
            {"username": ["rep-north-1"], "password": PASSWORD},
            {"username": ["Not a valid string."]},
        ),
        (
            {"username": "u" * 151, "password": PASSWORD},
            {"username": ["Ensure this field has no more than 150 characters."]},
        ),
    ],
    ids=["empty", "no-password", "list-name", "long-name"],
)
def test_malformed_credentials_are_400(people, body, errors):
    response = APIClient().post(TOKEN_URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert AuthToken.objects.count() == 0


def test_inactive_user_may_not_log_in(people):
    user = people["rep_north"]
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = log_in(user.username)

    assert response.status_code == 400
    assert response.json() == WRONG
    assert AuthToken.objects.count() == 0


def test_after_the_failure_limit_even_the_right_password_is_429(people):
    assert LIMIT == 5
    client = APIClient()
    for _ in range(LIMIT):
        failed = log_in("rep-north-1", "guess", client=client)
        assert failed.status_code == 400
        assert failed.json() == WRONG

    response = log_in("rep-north-1", client=client)

    assert response.status_code == 429
    assert response.json() == {
        "detail": "Too many failed logins; try again later. "
        f"Expected available in {WINDOW_S} seconds."
    }
    assert response["Retry-After"] == str(WINDOW_S)
    assert AuthToken.objects.count() == 0
    # Another name from the same place is not locked out.
    assert log_in("rep-south-1", client=client).status_code == 200


def test_failures_below_the_limit_are_forgotten_after_a_login(people):
    client = APIClient()
    for _ in range(LIMIT - 1):
        assert log_in("rep-north-1", "guess", client=client).status_code == 400
    assert log_in("rep-north-1", client=client).status_code == 200

    for _ in range(LIMIT - 1):
        assert log_in("rep-north-1", "guess", client=client).status_code == 400
    response = log_in("rep-north-1", client=client)

    assert response.status_code == 200
    assert AuthToken.objects.filter(user=people["rep_north"]).count() == 2


def test_failures_count_for_the_name_whatever_its_case(people):
    client = APIClient()
    for name in ["rep-north-1", "REP-NORTH-1", "Rep-North-1", "rep-north-1", "REP-north-1"]:
        assert log_in(name, "guess", client=client).status_code == 400

    assert log_in("rep-north-1", client=client).status_code == 429


def test_lockout_is_not_bypassed_by_a_forged_forwarded_for_header(people):
    client = APIClient()
    for attempt in range(LIMIT):
        failed = client.post(
            TOKEN_URL,
            {"username": "rep-north-1", "password": "guess"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
        )
        assert failed.status_code == 400

    response = client.post(
        TOKEN_URL,
        {"username": "rep-north-1", "password": PASSWORD},
        format="json",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )

    assert response.status_code == 429


def test_expired_token_is_401_and_removed(people):
    token = log_in("rep-north-1").json()["token"]
    client = with_token(token)
    assert client.get("/api/me").status_code == 200
    AuthToken.objects.filter(user=people["rep_north"]).update(
        expiry=timezone.now() - dt.timedelta(seconds=1)
    )

    response = client.get("/api/me")

    assert response.status_code == 401
    assert response.json()["detail"].startswith("Invalid token. The token is unknown, expired")
    assert AuthToken.objects.filter(user=people["rep_north"]).count() == 0
    assert client.get("/api/stores/").status_code == 401


def test_token_expires_after_its_time_to_live(people):
    before = timezone.now()

    log_in("rep-north-1")

    token = AuthToken.objects.get(user=people["rep_north"])
    ttl = settings.REST_KNOX["TOKEN_TTL"]
    assert before + ttl <= token.expiry <= timezone.now() + ttl


def test_logout_revokes_the_token(people):
    token = log_in("rep-north-1").json()["token"]
    other_device = log_in("rep-north-1").json()["token"]
    client = with_token(token)

    response = client.post("/api/auth/logout")

    assert response.status_code == 204
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/stores/").status_code == 401
    assert client.post("/api/auth/logout").status_code == 401
    assert AuthToken.objects.filter(user=people["rep_north"]).count() == 1
    assert with_token(other_device).get("/api/me").status_code == 200


def test_deactivated_users_tokens_stop_working(people):
    client = with_token(log_in("rep-north-1").json()["token"])
    people["rep_north"].is_active = False
    people["rep_north"].save(update_fields=["is_active"])

    response = client.get("/api/me")

    assert response.status_code == 401
    assert response.json()["detail"].startswith("User inactive or deleted. This account is")


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "Sign in first"),
        ("Token", "Invalid token header. No credentials provided. Send"),
        ("Token a b", "Invalid token header. Token string should not contain spaces. Send"),
        ("Token 0123456789abcdef", "Invalid token. The token is unknown"),
        ("Token " + "f" * 64, "Invalid token. The token is unknown"),
        ("Token \xff\xfe\xfd", "Invalid token header. Send"),
        ("Bearer abc", "The 'Bearer' authorization scheme is not accepted"),
    ],
    ids=["none", "empty", "spaces", "short", "unknown", "not-ascii", "other-scheme"],
)
def test_me_without_a_valid_token_is_401(people, header, detail):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/me")

    assert response.status_code == 401
    assert response.json()["detail"].startswith(detail)
    assert "Authorization: Token <key>" in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Token"


def test_token_endpoint_ignores_an_authorization_header(people):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token garbage")

    response = log_in("rep-north-1", client=client)

    assert response.status_code == 200


def test_token_endpoint_takes_only_post(people):
    assert APIClient().get(TOKEN_URL).status_code == 405


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("[1, 2]", "application/json"), ("{", "application/json"), ("null", "application/json")],
    ids=["array", "truncated", "null"],
)
def test_token_endpoint_refuses_a_body_that_is_not_an_object(people, body, content_type):
    response = APIClient().generic("POST", TOKEN_URL, body, content_type=content_type)

    assert response.status_code == 400
    assert AuthToken.objects.count() == 0


def test_token_endpoint_refuses_a_deeply_nested_body(people):
    response = APIClient().generic(
        "POST", TOKEN_URL, "[" * 100_000 + "]" * 100_000, content_type="application/json"
    )

    assert response.status_code == 400
