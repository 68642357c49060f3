"""`seed_demo` (API.md, "Demo data"): who can sign in, where stores are, what the mix
looks like, that it is written through the sync engine, deterministic, and its guards."""

import datetime as dt
import hashlib
import io
import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import phonenumbers
import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import Region, Role, User
from crm.models import (
    AnalyticsRun,
    BudgetEntry,
    Call,
    CallStatus,
    Campaign,
    CampaignStatus,
    CampaignStore,
    Coupon,
    CouponBatch,
    CouponState,
    Order,
    OrderLine,
    SubsidyBudget,
    TagRule,
)
from crm.subsidies.selectors import ledger_totals
from demo.seeding import DEVICE_ID, reset_demo_data, seed_demo
from demo.streets import CITIES
from stores.models import Store, TradeAreaType
from surveys.models import Photo, PhotoThumbnail, ReviewStatus, SiteSurvey, SurveyTemplate
from surveys.selectors import REQUIRABLE_FIELDS, scored
from sync.models import ChangeLog, ScopeExit
from sync.mutations import record_wire
from sync.registry import get_entity
from tasks.models import Task
from visits.models import FollowUp, Visit

STORES = 200
SEED = 7
DEMO_PASSWORD = "fieldline-demo"
LEFT_ALONE = "database already has data; leaving it"
ENTITY_MODELS = {
    "store": Store,
    "survey": SiteSurvey,
    "photo": Photo,
    "visit": Visit,
    "followup": FollowUp,
    "task": Task,
}
CITY_OF = {city.region_code: city for city in CITIES}
EXPECTED_USERS = {
    "hq": (Role.HQ, None),
    "manager-north": (Role.MANAGER, "north"),
    "manager-south": (Role.MANAGER, "south"),
    **{f"rep-north-{n}": (Role.REP, "north") for n in (1, 2, 3)},
    **{f"rep-south-{n}": (Role.REP, "south") for n in (1, 2, 3)},
}


@pytest.fixture
def debug_on(settings, media):
    """The command runs only with DEBUG on; a fast hasher keeps sign-ins quick; photo bytes
    go to a temporary folder."""
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(**options: Any) -> str:
    out = io.StringIO()
    options.setdefault("stores", STORES)
    call_command("seed_demo", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


@pytest.fixture
def seeded(db, debug_on) -> str:
    return seed(seed=SEED)


def log_in(username: str, password: str = DEMO_PASSWORD):
    return APIClient().post(
        "/api/auth/token", {"username": username, "password": password}, format="json"
    )


def metres_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    mean_lat = math.radians((lat1 + lat2) / 2)
    north = (lat2 - lat1) * 111_320
    east = (lon2 - lon1) * 111_320 * math.cos(mean_lat)
    return math.hypot(north, east)


def metres_from_segment(
    lat: float, lon: float, start: tuple[float, float], end: tuple[float, float]
) -> float:
    scale = math.cos(math.radians(lat))
    px, py = (lon - start[1]) * scale, lat - start[0]
    ex, ey = (end[1] - start[1]) * scale, end[0] - start[0]
    along = max(0.0, min(1.0, (px * ex + py * ey) / (ex * ex + ey * ey)))
    return math.hypot(px - along * ex, py - along * ey) * 111_320


def drawn(model):
    """The records the seed drew itself, not those the office's services added."""
    entity = next(name for name, m in ENTITY_MODELS.items() if m is model)
    seeded = ChangeLog.objects.filter(entity=entity, op="create", device_id=DEVICE_ID)
    return model.objects.filter(pk__in=seeded.values("record_id"))


def snapshot() -> dict[str, Any]:
    """What a second run must reproduce (users get new database ids, so compare names).

    `office` holds what the office's services added: they draw their own ids, so it is
    compared by content; `computed` is what the analytics derive from the orders."""
    return {
        "stores": list(
            Store.objects.order_by("id").values_list(
                "id",
                "name",
                "chain_name",
                "phone",
                "address",
                "lat",
                "lon",
                "status",
                "trade_area_type",
                "opening_hours",
                "owner__username",
            )
        ),
        "computed": list(
            Store.objects.order_by("id").values_list("id", "grade", "segment", "tags")
        ),
        "surveys": list(
            SiteSurvey.objects.order_by("id").values_list("id", "store_id", "review_status")
        ),
        "visits": list(drawn(Visit).order_by("id").values_list("id", "store_id", "purpose")),
        "tasks": list(
            drawn(Task).order_by("id").values_list("id", "type", "status", "assignee__username")
        ),
        "photos": list(Photo.objects.order_by("id").values_list("id", "sha256")),
        "orders": Order.objects.count(),
        "office": {
            "tasks": sorted(
                Task.objects.exclude(pk__in=drawn(Task).values("pk")).values_list(
                    "store_id", "type", "status"
                )
            ),
            "calls": sorted(Call.objects.values_list("store_id", "queue", "status", "outcome")),
            # The holdout split hangs on the campaign's id, which the service draws.
            "coupons": sorted(Coupon.objects.values_list("state", flat=True)),
            "budgets": sorted(SubsidyBudget.objects.values_list("region_id", "amount")),
            # The visit plans' visits follow the plan, which follows the day of the run.
            "plan_visits": sorted(
                Visit.objects.exclude(pk__in=drawn(Visit).values("pk")).values_list(
                    "id", "store_id", "check_in_at"
                )
            ),
        },
    }


def all_records() -> Iterator[tuple[str, Any]]:
    for entity, model in ENTITY_MODELS.items():
        for record in model.objects.all():
            yield entity, record


# --- people -----------------------------------------------------------------------------


def test_creates_the_two_regions_and_the_people_of_the_spec(seeded):
    assert set(Region.objects.values_list("code", flat=True)) == {"north", "south"}
    users = {u.username: u for u in User.objects.all()}
    assert {name: (u.role, u.region_id) for name, u in users.items()} == EXPECTED_USERS
    assert users["hq"].is_staff
    assert users["hq"].is_superuser
    assert not any(u.is_staff or u.is_superuser for name, u in users.items() if name != "hq")
    assert "Seeded in" in seeded


def test_every_demo_user_signs_in_with_the_given_password(db, debug_on):
    seed(reps_per_region=2, password="open-sesame-42")

    usernames = sorted(User.objects.values_list("username", flat=True))
    assert usernames == sorted(
        ["hq", "manager-north", "manager-south", "rep-north-1", "rep-north-2"]
        + ["rep-south-1", "rep-south-2"]
    )
    for username in usernames:
        response = log_in(username, "open-sesame-42")
        assert response.status_code == 200, (username, response.content)
        assert response.json()["user"]["username"] == username
    assert log_in("hq", DEMO_PASSWORD).status_code == 400


# --- stores -----------------------------------------------------------------------------


def test_every_store_is_owned_by_a_rep_of_its_own_region(seeded):
    stores = Store.objects.all()
    assert stores.count() == STORES
    assert not stores.filter(owner__isnull=True).exists()
    assert not stores.exclude(owner__role=Role.REP).exists()
    assert not stores.exclude(owner__region=F("region")).exists()
    owned = Counter(stores.values_list("owner__username", flat=True))
    reps = [name for name, (role, _) in EXPECTED_USERS.items() if role == Role.REP]
    assert set(owned) == set(reps)
    assert min(owned.values()) >= STORES // len(reps) // 2


def test_a_rep_lists_exactly_their_own_stores(seeded):
    rep = User.objects.get(username="rep-north-1")
    client = APIClient()
    token = log_in(rep.username).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = client.get("/api/stores/", {"page_size": 1000})

    assert response.status_code == 200
    listed = {store["id"] for store in response.json()["results"]}
    own = {str(pk) for pk in Store.objects.filter(owner=rep).values_list("id", flat=True)}
    assert listed == own
    assert 0 < len(own) < Store.objects.filter(region="north").count()


def test_stores_stand_on_the_named_street_inside_their_city(seeded):
    for store in Store.objects.all():
        city = CITY_OF[store.region_id]
        assert city.bounds.contains(store.lat, store.lon), store.address
        assert store.address.endswith(f"{city.name}"), store.address
        typed = store.address.replace("Str.", "Straße").replace("str.", "straße")
        street = next(s for s in city.streets if typed.startswith(f"{s.name} "))
        assert f", {street.postcode} " in store.address
        assert metres_from_segment(store.lat, store.lon, street.start, street.end) < 75


def test_phones_are_e164_and_a_few_shops_were_entered_twice(seeded):
    phones = list(Store.objects.exclude(phone="").values_list("phone", "region_id"))
    assert len(phones) > STORES * 0.8
    for phone, region in phones:
        assert re.fullmatch(r"\+49[1-9]\d{7,12}", phone), phone
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone
        landline = {"north": "+4940", "south": "+4989"}[region]
        assert phone.startswith((landline, "+491")), (phone, region)

    shared = (
        Store.objects.exclude(phone="")
        .values("phone")
        .annotate(stores=Count("id"), regions=Count("region", distinct=True))
        .filter(stores__gt=1)
    )
    assert 1 <= len(shared) <= STORES * 0.05
    assert all(entry["regions"] == 1 for entry in shared)
    for entry in shared:
        owners = set(Store.objects.filter(phone=entry["phone"]).values_list("owner", flat=True))
        assert len(owners) > 1, "a duplicate is entered by another rep"


def test_the_mix_looks_like_a_field_business(seeded):
    stores = Store.objects.all()
    assert set(stores.values_list("status", flat=True)) == {
        "prospect",
        "active",
        "dormant",
        "churned",
    }
    assert {"A", "B", "C"} <= set(stores.values_list("grade", flat=True))
    assert len(set(stores.values_list("trade_area_type", flat=True))) >= 6
    assert stores.exclude(chain_name="").exists()
    assert stores.filter(chain_name="").exists()
    assert stores.filter(tags__icontains="has_coffee_machine").exists()
    assert stores.filter(opening_hours__has_key="mon").count() == STORES

    surveyed = SiteSurvey.objects.values("store").distinct().count()
    assert 0.6 * STORES <= surveyed <= 0.85 * STORES
    stale_before = timezone.now() - dt.timedelta(days=180)
    assert SiteSurvey.objects.filter(captured_at__lt=stale_before).exists()
    assert SiteSurvey.objects.filter(captured_at__gte=stale_before).exists()
    assert SiteSurvey.objects.filter(footfall_weekday__isnull=True).exists(), "some are sparse"
    assert SiteSurvey.objects.exclude(competitors=[]).exists(), "some are full"
    assert len(set(SiteSurvey.objects.values_list("review_status", flat=True))) >= 3

    photos = Photo.objects.all()
    assert photos.exists()
    assert all(
        re.fullmatch(r"[0-9a-f]{64}", sha) for sha in photos.values_list("sha256", flat=True)
    )
    assert set(photos.values_list("content_type", flat=True)) == {"image/jpeg"}
    assert photos.filter(uploaded_at__isnull=True).exists(), "some still on the phones"

    today = timezone.localdate()
    tasks = Task.objects.all()
    assert tasks.filter(status="open", due_date__lt=today).exists(), "some are overdue"
    assert len(set(tasks.values_list("type", flat=True))) >= 3
    assert not tasks.exclude(assignee=F("store__owner")).exists()
    assert FollowUp.objects.exists()


def office_client(username: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {log_in(username).json()['token']}")
    return client


def test_hq_made_a_survey_template_for_every_trade_area_type(seeded):
    templates = list(SurveyTemplate.objects.all())
    hq = User.objects.get(username="hq")

    assert {t.trade_area_type for t in templates} == set(TradeAreaType.values)
    assert {t.created_by_id for t in templates} == {hq.pk}
    assert all(
        t.required_fields and set(t.required_fields) <= set(REQUIRABLE_FIELDS) for t in templates
    )
    assert all(t.conditional_fields for t in templates)
    stricter = [t for t in templates if t.version == 2]
    assert stricter
    for newer in stricter:
        older = SurveyTemplate.objects.get(trade_area_type=newer.trade_area_type, version=1)
        assert set(older.required_fields) < set(newer.required_fields)
        assert older.created_at < newer.created_at < timezone.now()


def test_surveys_carry_the_template_version_in_force_when_captured(seeded):
    since = {(t.trade_area_type, t.version): t.created_at for t in SurveyTemplate.objects.all()}
    under_older_version = under_newer_version = 0
    surveys = SiteSurvey.objects.values_list("trade_area_type", "template_version", "captured_at")

    for trade_area, version, captured_at in surveys:
        assert (trade_area, version) in since
        in_force = max(
            v for (t, v), start in since.items() if t == trade_area and start <= captured_at
        )
        assert version == in_force
        if (trade_area, version + 1) in since:
            under_older_version += 1
        elif version > 1:
            under_newer_version += 1
    assert under_older_version > 0
    assert under_newer_version > 0


def test_survey_scores_spread_from_empty_to_complete(seeded):
    scores = list(scored(SiteSurvey.objects.filter(deleted=False)).values_list("score", flat=True))

    assert None not in scores
    assert min(scores) < 0.5 < max(scores) == 1.0
    assert len(set(scores)) > 5
    assert 0 < scores.count(1.0) < len(scores) / 2


@pytest.mark.parametrize("group_by", ["region", "trade_area_type"])
def test_the_completeness_report_has_a_spread_of_scores(seeded, group_by):
    response = office_client("hq").get("/api/reports/completeness", {"group_by": group_by})

    assert response.status_code == 200
    rows = [row for row in response.json()["results"] if row["surveys"]]
    averages = [row["average_score"] for row in rows]
    assert all(average is not None and 0 < average < 1 for average in averages)
    assert len(set(averages)) == len(averages) > 1
    assert 0 < sum(row["complete"] for row in rows) < sum(row["surveys"] for row in rows)
    if group_by == "region":
        assert {row["group"] for row in rows} == {"north", "south"}
        assert all(0 < row["complete"] < row["surveys"] for row in rows)


def test_the_review_queue_lists_pending_surveys_least_complete_first(seeded):
    response = office_client("manager-north").get("/api/reports/review-queue", {"page_size": 1000})

    assert response.status_code == 200
    queue = response.json()["results"]
    pending = SiteSurvey.objects.filter(review_status=ReviewStatus.PENDING, store__region="north")
    assert len(queue) == pending.count() > 0
    scores = [entry["score"] for entry in queue]
    assert None not in scores
    assert scores == sorted(scores)
    assert len(set(scores)) > 2
    assert all(entry["template_version"] for entry in queue)


def test_visits_check_in_near_the_store_mostly(seeded):
    distances = [
        metres_between(visit.check_in_lat, visit.check_in_lon, visit.store.lat, visit.store.lon)
        for visit in Visit.objects.select_related("store").filter(check_in_lat__isnull=False)
    ]
    assert len(distances) > 50
    near = sum(distance <= 50 for distance in distances)
    assert near >= 0.8 * len(distances)
    assert any(distance > 150 for distance in distances), "some are far off"
    assert not Visit.objects.filter(check_out_at__lt=F("check_in_at")).exists()
    assert not Visit.objects.filter(check_in_at__gte=timezone.now()).exists()


def test_orders_have_a_weekly_rhythm_over_the_last_half_year(seeded):
    today = timezone.localdate()
    orders = Order.objects.all()
    assert orders.count() > STORES
    assert not orders.filter(store__status="prospect").exists()
    assert not orders.filter(order_date__lt=today - dt.timedelta(days=180)).exists()
    assert not orders.filter(order_date__gte=today).exists()
    for order in orders.prefetch_related("lines")[:200]:
        lines = list(order.lines.all())
        assert lines
        assert sum(line.amount for line in lines) == order.amount
    assert not OrderLine.objects.exclude(sku__regex=r"^[A-Z]+(-[A-Z]+)+$").exists()

    by_weekday = Counter(day.weekday() for day in orders.values_list("order_date", flat=True))
    monday_to_thursday = sum(by_weekday[day] for day in range(4)) / 4
    friday_and_saturday = (by_weekday[4] + by_weekday[5]) / 2
    assert friday_and_saturday < 0.8 * monday_to_thursday


# --- the write path ---------------------------------------------------------------------


def test_records_are_written_through_the_sync_engine(seeded):
    for entity, model in ENTITY_MODELS.items():
        records = model.objects.all()
        created = ChangeLog.objects.filter(entity=entity, op="create")
        assert created.count() == records.count() > 0, entity
        assert set(created.values_list("record_id", flat=True)) == set(
            records.values_list("id", flat=True)
        )
        # The recompute's changes are updates: each record's version counts its entries.
        logged = Counter(
            ChangeLog.objects.filter(entity=entity).values_list("record_id", flat=True)
        )
        assert dict(records.values_list("id", "version")) == dict(logged), entity
        assert records.values("sync_seq").distinct().count() == records.count()
    assert not Store.objects.exclude(scope_owner=F("owner"), scope_region=F("region")).exists()
    for model in (SiteSurvey, Visit, FollowUp):
        assert not model.objects.exclude(
            scope_owner=F("store__owner"), scope_region=F("store__region")
        ).exists()
    assert (
        not Photo.objects.filter(survey__isnull=False)
        .exclude(scope_owner=F("survey__store__owner"))
        .exists()
    )
    assert (
        not Photo.objects.filter(visit__isnull=False)
        .exclude(scope_owner=F("visit__store__owner"))
        .exists()
    )
    managers = set(
        ChangeLog.objects.filter(entity="task", device_id=DEVICE_ID).values_list(
            "actor__username", flat=True
        )
    )
    assert managers == {"manager-north", "manager-south"}
    assert Store.objects.filter(version__gt=1).exists(), "the recompute changed some"
    # Updates after the creates: the analytics' store fields, the photos' bytes arriving
    # (as an upload records them), and the planned visits the reps made, marked done.
    updates = ChangeLog.objects.filter(op="update")
    assert set(updates.values_list("entity", flat=True)) == {"store", "photo", "task"}
    assert set(updates.filter(entity="task").values_list("device_id", flat=True)) == {
        "seed-demo-plans"
    }
    assert all(
        device.startswith("analytics-")
        for device in updates.filter(entity="store").values_list("device_id", flat=True)
    )
    assert set(updates.filter(entity="photo").values_list("device_id", flat=True)) == {"demo-seed"}


def test_every_record_is_valid_on_the_wire(seeded):
    for entity, record in all_records():
        spec = get_entity(entity)
        serializer = spec.serializer(data=record_wire(spec=spec, record=record))
        assert serializer.is_valid(), (entity, record.pk, serializer.errors)


def test_writes_are_batched_not_one_query_per_row(db, debug_on):
    with CaptureQueriesContext(connection) as queries:
        seed(seed=SEED)

    rows = (
        sum(model.objects.count() for model in ENTITY_MODELS.values())
        + ChangeLog.objects.count()
        + Order.objects.count()
        + OrderLine.objects.count()
    )
    assert rows > 3000
    assert len(queries) < rows / 10


# --- the office's day ------------------------------------------------------------------


def test_the_analytics_ran_over_the_orders(seeded):
    run = AnalyticsRun.objects.get()
    assert run.finished_at is not None
    assert run.started_by is None, "a system run, as the nightly job"
    stores = Store.objects.all()
    ordering = stores.filter(orders__isnull=False).distinct().count()
    segmented = stores.exclude(segment="").count()
    assert 0.5 * ordering <= segmented <= ordering
    assert len(set(stores.exclude(segment="").values_list("segment", flat=True))) >= 3
    assert run.counts["stores"] == STORES
    assert 0 < run.counts["churn_warnings"] < STORES / 2
    assert stores.filter(tags__icontains="churn_risk").count() == run.counts["churn_warnings"]
    assert all(
        s.tag_kinds.get("churn_risk") == "predicted" or "churn_risk" not in s.tags for s in stores
    )
    assert stores.filter(tags__icontains="has_survey").exists()


def test_hq_has_a_tag_rule_and_the_recompute_applied_it(seeded):
    rule = TagRule.objects.get()
    assert rule.name == "lapsed_regular"
    assert rule.created_by.username == "hq"
    run = AnalyticsRun.objects.get()
    assert [applied["name"] for applied in run.parameters["tag_rules"]] == ["lapsed_regular"]
    tagged = [s for s in Store.objects.all() if "lapsed_regular" in s.tags]
    assert tagged, "some regulars slip at any size"
    assert all("churn_risk" in store.tags for store in tagged)
    assert all(store.tag_kinds.get("lapsed_regular") == "rule" for store in tagged)


def test_the_call_queues_are_filled_and_a_few_calls_worked(seeded):
    calls = Call.objects.all()
    queues = Counter(calls.values_list("queue", flat=True))
    assert set(queues) >= {"reactivation", "survey_by_phone"}
    assert queues["reactivation"] <= AnalyticsRun.objects.get().counts["churn_warnings"]
    assert not calls.filter(store__phone="").exists()
    done = calls.filter(status=CallStatus.DONE)
    assert done.count() == 6, "three per region's manager"
    assert set(done.values_list("claimed_by__username", flat=True)) == {
        "manager-north",
        "manager-south",
    }
    assert not done.exclude(store__region=F("claimed_by__region")).exists()
    assert not done.filter(outcome="").exists()
    callbacks = done.filter(next_contact_on__isnull=False)
    assert callbacks.count() == 2
    for call in callbacks:
        followup = FollowUp.objects.get(pk=call.followup_id)
        assert followup.store_id == call.store_id
        assert followup.due_date == call.next_contact_on
        assert followup.scope_owner_id == call.store.owner_id
    assert calls.filter(status=CallStatus.OPEN).count() > 10


def test_subsidies_a_budget_per_region_and_a_campaign_with_claimed_coupons(seeded):
    budgets = SubsidyBudget.objects.all()
    assert set(budgets.values_list("region_id", flat=True)) == {"north", "south"}
    for budget in budgets:
        kinds = Counter(budget.entries.values_list("kind", flat=True))
        assert kinds["allocation"] == 2, "opened, then topped up"
        totals = ledger_totals(budget_id=budget.pk)
        assert (budget.amount, budget.reserved, budget.used) == (
            totals["amount"],
            totals["reserved"],
            totals["used"],
        )
        assert budget.amount >= 25 * Store.objects.filter(region=budget.region_id).count()
    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.APPROVED
    assert campaign.budget.region_id == "north"
    members = CampaignStore.objects.filter(campaign=campaign)
    assert members.filter(holdout=False).exists()
    assert not members.exclude(store__region="north").exists()
    batch = CouponBatch.objects.get()
    coupons = Coupon.objects.all()
    assert 3 <= coupons.count() == batch.issued <= 6
    assert set(coupons.values_list("state", flat=True)) == {CouponState.CLAIMED}
    assert not coupons.filter(store__in=members.filter(holdout=True).values("store")).exists()
    assert not coupons.exclude(claimed_by=F("store__owner")).exists(), "reps claim"
    north = budgets.get(region="north")
    assert north.reserved == sum(coupon.value for coupon in coupons)
    assert BudgetEntry.objects.filter(kind="claim").count() == coupons.count()
    assert all(
        campaign.floor_a <= value <= campaign.cap_b
        for value in coupons.values_list("value", flat=True)
    )


# --- determinism ------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_data(db, debug_on):
    seed(seed=SEED)
    first = snapshot()

    seed(seed=SEED, reset=True)
    again = snapshot()
    seed(seed=SEED + 1, reset=True)
    other = snapshot()

    assert again == first
    assert {row[0] for row in other["stores"]}.isdisjoint(row[0] for row in first["stores"])
    assert [row[1:7] for row in other["stores"]] != [row[1:7] for row in first["stores"]]


def test_only_dates_follow_the_day_of_the_run(db, settings):
    """Everything but dates (and orders, drawn last) is the same whichever day it runs."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    options = {"stores": 300, "reps_per_region": 2, "password": "pw", "seed": SEED}

    seed_demo(**options, progress=False, today=dt.date(2026, 3, 2))  # a Monday
    on_monday = snapshot()
    monday_visits = list(Visit.objects.order_by("id").values_list("check_in_at", flat=True))
    reset_demo_data()
    seed_demo(**options, progress=False, today=dt.date(2026, 3, 6))  # a Friday
    on_friday = snapshot()
    friday_visits = list(Visit.objects.order_by("id").values_list("check_in_at", flat=True))

    for key in ("orders", "computed", "office"):  # derived from the orders
        del on_monday[key], on_friday[key]
    assert on_friday == on_monday
    assert friday_visits != monday_visits
    assert max(friday_visits).date() < dt.date(2026, 3, 6)


# --- guards -----------------------------------------------------------------------------


def test_refuses_when_debug_is_off(db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        seed()

    assert not User.objects.exists()
    assert not Region.objects.exists()


def test_refuses_a_database_that_already_has_data(db, debug_on):
    User.objects.create_user(username="someone", password="x" * 12, role=Role.HQ)

    with pytest.raises(CommandError, match="--reset"):
        seed()

    assert list(User.objects.values_list("username", flat=True)) == ["someone"]
    assert not Region.objects.exists()
    assert not Store.objects.exists()


def test_if_empty_leaves_existing_data_alone(seeded):
    before = snapshot()

    output = seed(seed=SEED + 1, if_empty=True)

    assert output.strip() == LEFT_ALONE
    assert snapshot() == before


def test_if_empty_seeds_an_empty_database(db, debug_on):
    seed(stores=50, if_empty=True)

    assert Store.objects.count() == 50


def test_reset_deletes_all_data_first(seeded):
    someone = User.objects.create_user(username="someone", password="x" * 12, role=Role.HQ)
    AuthToken.objects.create(user=someone)
    store = Store.objects.first()
    ScopeExit.objects.create(
        entity="store", record_id=store.pk, owner=store.owner, sync_txid=1, sync_seq=1
    )
    old_stores = set(Store.objects.values_list("id", flat=True))

    seed(stores=80, seed=SEED + 1, reset=True)

    assert Store.objects.count() == 80
    assert old_stores.isdisjoint(Store.objects.values_list("id", flat=True))
    assert not User.objects.filter(username="someone").exists()
    assert not AuthToken.objects.exists()
    assert not ScopeExit.objects.exists()
    records = sum(model.objects.count() for model in ENTITY_MODELS.values())
    assert ChangeLog.objects.filter(op="create").count() == records
    assert set(Order.objects.values_list("store_id", flat=True)) <= set(
        Store.objects.values_list("id", flat=True)
    )


def test_rejects_nonsense_sizes(db, debug_on):
    with pytest.raises(CommandError, match="at least 1"):
        seed(stores=0)

    assert not User.objects.exists()


def test_no_progress_bar_when_output_is_not_a_terminal(db, debug_on, capsys):
    seed(stores=30)

    captured = capsys.readouterr()
    assert "%|" not in captured.err
    assert "rec/s" not in captured.err


# --- photos -----------------------------------------------------------------------------


def test_most_photos_have_real_jpeg_bytes_that_match_their_sha256(seeded):
    photos = list(Photo.objects.filter(deleted=False))
    uploaded = [photo for photo in photos if photo.uploaded_at is not None]
    assert 0.7 < len(uploaded) / len(photos) < 0.95
    for photo in uploaded[:40]:
        with default_storage.open(photo.content.name, "rb") as stored:
            body = stored.read()
        assert body[:3] == b"\xff\xd8\xff"  # a JPEG
        assert hashlib.sha256(body).hexdigest() == photo.sha256
        assert photo.size_bytes == len(body) < 30_000
        assert Image.open(io.BytesIO(body)).size == (320, 240)
    # No two photos share their bytes, so none is flagged as reused at another store.
    assert len({photo.sha256 for photo in uploaded}) == len(uploaded)
    assert not any("photo_reused" in photo.flags for photo in photos)


def test_visits_carry_shop_front_photos_too(seeded):
    visit_photos = Photo.objects.filter(visit__isnull=False)
    assert visit_photos.count() > 5
    assert set(visit_photos.values_list("section", flat=True)) == {"storefront"}


def test_templates_require_a_shop_front_photo(seeded):
    assert {tuple(t.min_photos.items()) for t in SurveyTemplate.objects.all()} == {
        (("storefront", 1),)
    }


def test_thumbnails_are_made_once_the_seed_commits(
    db, debug_on, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        seed(seed=SEED, stores=40)

    uploaded = Photo.objects.filter(uploaded_at__isnull=False)
    thumbnails = PhotoThumbnail.objects.filter(photo__in=uploaded).exclude(name="")
    assert uploaded.count() > 0
    assert thumbnails.count() == uploaded.count()


# --- visit plans ------------------------------------------------------------------------


def test_the_demo_has_plan_rules_a_plan_and_its_compliance(seeded):
    manager = office_client("manager-north")
    rules = manager.get("/api/plans/rules").json()["results"]
    assert len(rules[0]["holidays"]) == 1
    body = manager.get("/api/plans/compliance").json()
    today = timezone.localdate()

    assert body["planned"] > 0
    assert 0.6 <= body["rate"] <= 0.95
    assert body["done"] >= body["verified"] * 0.9
    assert {row["grade"] for row in body["by_grade"]} <= {"A", "B", "C"}
    # Today's planned visits lead the rep's day on a working day.
    rep = User.objects.get(username="rep-north-1")
    due_today = Task.objects.filter(plan__isnull=False, assignee=rep, due_date=today).count()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {log_in('rep-north-1').json()['token']}")
    stops = client.get("/api/me/day", {"lat": 53.55, "lon": 9.99}).json()["stops"]
    assert [bool(s["task"]["plan"]) for s in stops[:due_today]] == [True] * due_today
