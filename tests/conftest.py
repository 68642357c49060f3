"""Shared fixtures: two regions, their people, clients logged in as each of them, and the
object storage (a temporary directory, or a real S3-compatible server on loopback)."""

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from rest_framework.test import APIClient

from accounts.models import Region, Role, User
from sync.batch import apply_mutation
from sync.bulk import bulk_create_records
from sync.mutations import Mutation

PASSWORD = "fieldline-test-pw"
# The day the tests' fixed dates are written around. A test whose outcome depends on the
# date asks for `frozen_today`, so that it reads the same in any year.
TODAY = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


def pytest_collection_modifyitems(config, items):
    """A test on pytest-django's live server is a `live` test (left out of `make
    test-fast`) whether or not its module says so."""
    for item in items:
        if "live_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.live)


@pytest.fixture
def frozen_today(time_machine) -> dt.datetime:
    """The clock set to TODAY (and ticking on from there)."""
    time_machine.move_to(TODAY, tick=True)
    return TODAY


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def regions(db) -> dict[str, Region]:
    return {
        code: Region.objects.create(code=code, name=code.title()) for code in ("north", "south")
    }


def make_user(username: str, role: str, region: Region | None) -> User:
    return User.objects.create_user(
        username=username, password=PASSWORD, role=role, region=region, is_staff=role == Role.HQ
    )


@pytest.fixture
def people(regions) -> dict[str, User]:
    return {
        "rep_north": make_user("rep-north-1", Role.REP, regions["north"]),
        "rep_north_2": make_user("rep-north-2", Role.REP, regions["north"]),
        "rep_south": make_user("rep-south-1", Role.REP, regions["south"]),
        "manager_north": make_user("manager-north", Role.MANAGER, regions["north"]),
        "manager_south": make_user("manager-south", Role.MANAGER, regions["south"]),
        "hq": make_user("hq", Role.HQ, None),
    }


@pytest.fixture
def client_for(people) -> Callable[[str], APIClient]:
    """An API client with a fresh token for one of `people`."""

    def build(who: str) -> APIClient:
        client = APIClient()
        response = client.post(
            "/api/auth/token",
            {"username": people[who].username, "password": PASSWORD},
            format="json",
        )
        assert response.status_code == 200, response.content
        client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        return client

    return build


def create(entity: str, **fields: Any) -> uuid.UUID:
    """A record created through the bulk write path (server-side, trusted)."""
    record_id = fields.pop("id", None) or uuid.uuid4()
    bulk_create_records(entity=entity, rows=[{"id": record_id, **fields}])
    return record_id


def push_one(actor: User, entity: str, op: str, record_id, device_id="test-device", **kwargs):
    """One mutation through the write path, as a phone's push would apply it."""
    return apply_mutation(
        actor=actor,
        mutation=Mutation(entity=entity, op=op, record_id=record_id, **kwargs),
        device_id=device_id,
    )


@pytest.fixture
def world(people, regions) -> dict[str, Any]:
    """One store per rep, each with a survey, a visit, a photo, a follow-up and a task."""
    ids: dict[str, Any] = {}
    for who in ("rep_north", "rep_north_2", "rep_south"):
        rep = people[who]
        store = create(
            "store",
            name=f"Store of {rep.username}",
            phone="",
            lat=53.55 if rep.region_id == "north" else 48.14,
            lon=9.99 if rep.region_id == "north" else 11.58,
            region=rep.region_id,
            owner=rep.pk,
            trade_area_type="office",
        )
        survey = create("survey", store=store, footfall_weekday=300, equipment=["microwave"])
        visit = create("visit", store=store, check_in_at="2026-11-02T09:00:00Z", purpose="routine")
        photo = create("photo", survey=survey, sha256="a" * 64, content_type="image/jpeg")
        followup = create("followup", store=store, due_date="2026-12-01", note="call back")
        task = create(
            "task", store=store, assignee=rep.pk, type="visit", title="Visit", status="open"
        )
        ids[who] = {
            "store": store,
            "survey": survey,
            "visit": visit,
            "photo": photo,
            "followup": followup,
            "task": task,
        }
    return ids


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return tmp_path


@pytest.fixture
def s3(settings):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials)
    client.create_bucket(Bucket="fieldline-photos")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "fieldline-photos",
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "default_acl": None,
            },
        },
    }
    yield client
    server.stop()
