"""The login brake holds every door (token API, HQ login, admin login), slows a guesser
spread over many addresses, and cannot be turned into a lock-out of the real user: the right
password from a device that signed in before passes. A password change revokes tokens."""

import datetime as dt

import pytest
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.brake import DEVICE_COOKIE, account_delay_s
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token"
ATTACKERS = ["203.0.113.10", "203.0.113.20", "198.51.100.30", "192.0.2.40"]


def token_login(client, username: str, password: str, address: str):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def admin_login(client: Client, username: str, password: str, address: str = "192.0.2.9"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def guess_from_each_address(time_machine, username: str, per_address: int = 5) -> None:
    """Five wrong passwords from each attacker address, each one let through: when the
    account's delay refuses a guess, the attacker waits it out and guesses again."""
    for address in ATTACKERS:
        attacker = APIClient()
        for _ in range(per_address):
            while (
                response := token_login(attacker, username, "guess", address)
            ).status_code == 429:
                time_machine.shift(dt.timedelta(seconds=int(response["Retry-After"]) + 1))
            assert response.status_code == 400


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC), tick=False)
    return time_machine


# --- the admin's door ----------------------------------------------------------------------


def test_admin_login_has_the_brake(people):
    """15 wrong passwords then the right one: no superuser session."""
    people["hq"].is_superuser = True
    people["hq"].save(update_fields=["is_superuser"])
    client = Client()
    for _ in range(15):
        refused = admin_login(client, "hq", "guess")
        assert refused.status_code == 200
        assert "_auth_user_id" not in client.session

    response = admin_login(client, "hq", PASSWORD)

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Too many failed logins" in response.content.decode()


def test_admin_failures_count_at_the_other_doors(people):
    client = Client()
    for _ in range(5):
        admin_login(client, "hq", "guess", address="192.0.2.9")

    response = token_login(APIClient(), "hq", PASSWORD, "192.0.2.9")

    assert response.status_code == 429
    assert AuthToken.objects.count() == 0


def test_admin_login_still_lets_the_right_password_in(people):
    people["hq"].is_superuser = True
    people["hq"].save(update_fields=["is_superuser"])
    client = Client()

    response = admin_login(client, "hq", PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(people["hq"].pk)
    assert DEVICE_COOKIE in response.cookies


# --- lock-out is not a weapon ----------------------------------------------------------------


@pytest.mark.parametrize("door", ["token", "hq"])
def test_an_attacker_on_four_addresses_cannot_lock_out_the_real_user(people, clock, door):
    """The real user signed in on this device before. Five wrong passwords from each of four
    addresses (20 failures: the account is braked for everyone else) do not stop the
    right password from that device."""
    user = "hq"
    device = APIClient()
    assert token_login(device, user, PASSWORD, "192.0.2.77").status_code == 200
    assert DEVICE_COOKIE in device.cookies

    guess_from_each_address(clock, user)

    assert token_login(APIClient(), user, PASSWORD, "198.51.100.99").status_code == 429
    if door == "token":
        response = token_login(device, user, PASSWORD, "192.0.2.77")
        assert response.status_code == 200, response.content
        assert AuthToken.objects.filter(user=people["hq"]).count() == 2
    else:
        hq = Client()
        hq.cookies[DEVICE_COOKIE] = device.cookies[DEVICE_COOKIE].value
        response = hq.post(
            "/hq/login/", {"username": user, "password": PASSWORD}, REMOTE_ADDR="192.0.2.77"
        )
        assert response.status_code == 302
        assert hq.session["_auth_user_id"] == str(people["hq"].pk)


def test_the_attacker_is_braked_whatever_address_he_moves_to(people, clock):
    """After the 20 failures, even the right password from a fifth, unknown address waits
    (the account's delay, which doubles with each failure up to LOGIN_DELAY_MAX_S)."""
    guess_from_each_address(clock, "hq")

    response = token_login(APIClient(), "hq", PASSWORD, "198.51.100.99")

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    assert AuthToken.objects.count() == 0
    assert [account_delay_s(n) for n in (4, 5, 6, 7, 20)] == [0, 2, 4, 8, 600]


def test_the_account_delay_passes_and_an_unknown_device_then_signs_in(people, clock):
    for address in ATTACKERS[:2]:
        for _ in range(3):
            token_login(APIClient(), "rep-north-1", "guess", address)
    # Six failures: a wait of 4 s after the last one.
    assert token_login(APIClient(), "rep-north-1", PASSWORD, "192.0.2.5").status_code == 429

    clock.shift(dt.timedelta(seconds=5))

    assert token_login(APIClient(), "rep-north-1", PASSWORD, "192.0.2.5").status_code == 200


def test_one_address_guessing_many_names_is_stopped(people, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "LOGIN_ADDRESS_FAILURE_LIMIT": 6}
    client = APIClient()
    for n in range(6):
        assert token_login(client, f"someone-{n}", "guess", "203.0.113.5").status_code == 400

    assert token_login(client, "rep-south-1", PASSWORD, "203.0.113.5").status_code == 429
    assert token_login(APIClient(), "rep-south-1", PASSWORD, "203.0.113.6").status_code == 200


def test_a_forged_device_cookie_is_no_known_device(people, clock):
    guess_from_each_address(clock, "hq")
    forger = APIClient()
    forger.cookies[DEVICE_COOKIE] = "W1sxXV0:forged:signature"

    assert token_login(forger, "hq", PASSWORD, "192.0.2.77").status_code == 429


def test_a_known_devices_own_failures_are_limited(people):
    """A stolen device cookie is no unlimited guesser: its failures are counted too."""
    device = APIClient()
    assert token_login(device, "hq", PASSWORD, "192.0.2.77").status_code == 200
    for _ in range(5):
        assert token_login(device, "hq", "guess", "192.0.2.77").status_code == 400

    assert token_login(device, "hq", PASSWORD, "192.0.2.77").status_code == 429


# --- a password change revokes tokens --------------------------------------------------------


def test_a_password_change_revokes_the_users_tokens(people):
    phone = APIClient()
    token = token_login(phone, "rep-north-1", PASSWORD, "192.0.2.1").json()["token"]
    other = token_login(APIClient(), "rep-south-1", PASSWORD, "192.0.2.2").json()["token"]
    user = people["rep_north"]

    user.set_password("a-new-password-2026")
    user.save()

    assert AuthToken.objects.filter(user=user).count() == 0
    revoked = APIClient()
    revoked.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert revoked.get("/api/me").status_code == 401
    kept = APIClient()
    kept.credentials(HTTP_AUTHORIZATION=f"Token {other}")
    assert kept.get("/api/me").status_code == 200


def test_an_admin_password_reset_revokes_the_users_tokens(people):
    token_login(APIClient(), "rep-north-1", PASSWORD, "192.0.2.1")
    people["hq"].is_superuser = True
    people["hq"].save(update_fields=["is_superuser"])
    admin = Client()
    admin.force_login(people["hq"])
    user = people["rep_north"]

    response = admin.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "a-new-password-2026", "password2": "a-new-password-2026"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert AuthToken.objects.filter(user=user).count() == 0


def test_other_saves_of_the_user_keep_the_tokens(people):
    token_login(APIClient(), "rep-north-1", PASSWORD, "192.0.2.1")
    user = people["rep_north"]
    user.first_name = "Rita"
    user.save()

    assert AuthToken.objects.filter(user=user).count() == 1
