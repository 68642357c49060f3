"""Demo data: a deterministic, realistic field-sales world to try Fieldline on.

Every id, name, place, mix and count comes from `random.Random` streams seeded with
`seed`, so the same seed gives the same data. Dates are the exception: they are offsets
from the day of the run (surveys over 180 days old, overdue tasks, orders over the last
180 days), so a demo seeded months ago still has fresh data when reseeded. The draws do
not depend on the date, except for orders, whose weekly pattern follows the calendar
(they are drawn last, from their own stream).

Syncable records go through `sync.bulk`, so they are versioned and in the change stream
like any other write; orders are plain ERP facts and are inserted in batches. HQ's survey
templates (a version per trade-area type, a stricter second one for some, each dated into
the demo's past) come through the template service first, and every survey carries the
version in force when it was captured, so completeness scores spread as in the field. Then the
office's day (`seed_office`) runs through the services HQ and managers use, so the HQ views
have something to show: the analytics recompute, the call queues, a tag rule, budgets, a
campaign with claimed coupons and a few completed calls. Those services draw their own ids
(and coupon codes), so office records differ in id between runs, not in what they are.
"""

import datetime as dt
import hashlib
import math
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps as django_apps
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count, Model
from django.test.utils import override_settings
from django.utils import timezone
from knox.models import AuthToken
from tqdm import tqdm

from accounts.models import Region, Role, User
from crm.analytics.models import TagRule
from crm.analytics.services import analytics_recompute, tag_rule_create
from crm.calls.models import Call, CallOutcome, CallStatus
from crm.calls.services import call_claim, call_complete, call_queues_generate
from crm.orders.models import Order, OrderLine
from crm.subsidies.models import CampaignStore
from crm.subsidies.services import (
    SubsidyError,
    batch_create,
    budget_allocate,
    budget_create,
    campaign_approve,
    campaign_create,
    coupon_claim,
)
from demo import catalogue
from demo.photos import plan_photo_bytes, plan_visit_photos, store_photo_bytes
from demo.plans import seed_plans
from demo.streets import CITIES, City, Street
from fieldline.conf import fieldline_settings
from stores.models import Store
from surveys.services import survey_template_create
from sync.bulk import bulk_create_records
from sync.models import ChangeSource, SyncCounter

DEFAULT_STORES = 2000
DEFAULT_REPS_PER_REGION = 3
DEFAULT_PASSWORD = "fieldline-demo"
DEFAULT_SEED = 2024

DEVICE_ID = "seed-demo"
LOCAL_TZ = ZoneInfo("Europe/Berlin")
# How far back visits and orders go.
HISTORY_DAYS = 180
# Rows handed to the sync engine per call: the progress bar moves at this step.
WRITE_CHUNK = 2000
# Orders held in memory before they are written.
ORDER_FLUSH = 5000
METRES_PER_DEGREE = 111_320.0
# 2024-01-01T00:00:00Z: where the clock of demo ids starts.
ID_CLOCK_START_MS = 1_704_067_200_000


@dataclass(frozen=True)
class DemoSummary:
    regions: int
    users: int
    stores: int
    survey_templates: int
    surveys: int
    photos: int
    visits: int
    followups: int
    tasks: int
    orders: int
    order_lines: int
    office: "OfficeSummary"


@dataclass(frozen=True)
class OfficeSummary:
    """What the office's day left: the runs, queues and subsidy records HQ views show."""

    segmented_stores: int
    churn_warnings: int
    calls: int
    calls_done: int
    tag_rules: int
    budgets: int
    coupons: int
    planned_visits: int = 0
    plan_visits_made: int = 0


@dataclass(frozen=True)
class DemoPeople:
    hq: User
    managers: Mapping[str, User]
    reps: Mapping[str, Sequence[User]]


@dataclass(slots=True)
class PlannedStore:
    """A store as drawn, with what the seed knows about it beyond its wire fields."""

    id: uuid.UUID
    city: City
    street: Street
    name: str
    chain_name: str
    phone: str
    address: str
    lat: float
    lon: float
    status: str
    grade: str
    trade_area: str
    equipment: tuple[str, ...]
    opening_hours: dict[str, list[list[str]]]
    geofence_radius_m: float | None
    duplicate_of: "PlannedStore | None" = None
    owner: User | None = None
    survey_captured_at: dt.datetime | None = None
    survey_review: str = ""

    @property
    def tags(self) -> list[str]:
        tags = [f"has_{item}" for item in self.equipment if item in catalogue.TAGGED_EQUIPMENT]
        if "sun" in self.opening_hours:
            tags.append("open_sunday")
        if any(close >= "22:00" for day in self.opening_hours.values() for _, close in day):
            tags.append("open_late")
        if self.trade_area == "transit":
            tags.append("near_station")
        if self.grade == "A":
            tags.append("key_account")
        return tags


def database_has_data() -> bool:
    """Whether people, regions or stores are in already: seeding would mix with them."""
    return User.objects.exists() or Store.objects.exists() or Region.objects.exists()


# Fieldline's own apps (ARCHITECTURE.md); a new app with data belongs here too.
FIELDLINE_APPS = (
    "accounts",
    "sync",
    "stores",
    "surveys",
    "visits",
    "tasks",
    "planning",
    "crm",
    "reports",
)


def resettable_models() -> list[type[Model]]:
    """What --reset empties wholesale: every model of Fieldline's apps, and device tokens.

    People and regions are left to the ORM (their groups and admin log go with them), and
    the counter of change positions stays: positions only ever grow.
    """
    kept = {User, Region, SyncCounter}
    models = [
        model
        for label in FIELDLINE_APPS
        for model in django_apps.get_app_config(label).get_models(include_auto_created=True)
        if model not in kept and model._meta.managed and not model._meta.proxy
    ]
    return [*models, AuthToken]


@transaction.atomic
def reset_demo_data() -> None:
    """Delete all Fieldline data, people and regions included.

    Whole tables at once (the ORM's delete would first load every order and store to
    follow their relations): one TRUNCATE on PostgreSQL, which skips the per-row
    foreign-key triggers; a DELETE per table elsewhere, whose foreign keys are checked at
    commit, so the order of the tables does not matter.
    """
    tables = [connection.ops.quote_name(model._meta.db_table) for model in resettable_models()]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # TRUNCATE refuses while deferred foreign-key checks of this transaction wait.
            connection.check_constraints()
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    User.objects.all().delete()
    Region.objects.all().delete()


@transaction.atomic
def seed_demo(
    *,
    stores: int,
    reps_per_region: int,
    password: str,
    seed: int,
    progress: bool,
    today: dt.date | None = None,
) -> DemoSummary:
    """Create regions, people, stores and their surveys, visits, tasks and orders.

    Dates count back from `today` (the current date unless given).
    """
    if stores < 1 or reps_per_region < 1:
        raise ValueError("stores and reps_per_region must be at least 1")
    today = today or timezone.localdate()
    people = create_people(
        rng=stream(seed, "people"), reps_per_region=reps_per_region, password=password
    )
    planned = plan_stores(rng=stream(seed, "stores"), count=stores)
    assign_territories(stores=planned, reps=people.reps)

    store_rows = [store_row(store) for store in planned]
    survey_rows, photo_rows = plan_surveys(rng=stream(seed, "surveys"), stores=planned, today=today)
    templates = create_survey_templates(hq=people.hq, today=today)
    stamp_template_versions(surveys=survey_rows, templates=templates)
    visit_rows, followup_rows = plan_visits(rng=stream(seed, "visits"), stores=planned, today=today)
    photo_rng = stream(seed, "photo-bytes")
    plan_visit_photos(
        rng=photo_rng, visits=visit_rows, new_id=IdSequence(photo_rng), photos=photo_rows
    )
    photo_bytes = plan_photo_bytes(rng=photo_rng, photos=photo_rows)
    task_rows = plan_tasks(rng=stream(seed, "tasks"), stores=planned, today=today)

    at = timezone.now()
    with query_log_paused():
        write_records(entity="store", rows=store_rows, progress=progress, at=at)
        write_records(entity="survey", rows=survey_rows, progress=progress, at=at)
        write_records(entity="visit", rows=visit_rows, progress=progress, at=at)
        write_records(entity="photo", rows=photo_rows, progress=progress, at=at)
        store_photo_bytes(uploaded=photo_bytes, at=at)
        write_records(entity="followup", rows=followup_rows, progress=progress, at=at)
        for region, manager in people.managers.items():
            # Tasks are dispatched by the region's manager, and the changelog says so.
            write_records(
                entity="task",
                rows=task_rows.get(region, []),
                progress=progress,
                at=at,
                actor=manager,
                label=f"tasks {region}",
            )
        orders, lines = write_orders(
            rng=stream(seed, "orders"), stores=planned, today=today, progress=progress
        )
        office = seed_office(seed=seed, people=people, today=today, progress=progress)
    return DemoSummary(
        regions=len(CITIES),
        users=1 + len(people.managers) + sum(len(reps) for reps in people.reps.values()),
        stores=len(store_rows),
        survey_templates=sum(len(versions) for versions in templates.values()),
        surveys=len(survey_rows),
        photos=len(photo_rows),
        visits=len(visit_rows),
        followups=len(followup_rows),
        tasks=sum(len(rows) for rows in task_rows.values()),
        orders=orders,
        order_lines=lines,
        office=office,
    )


@contextmanager
def query_log_paused() -> Iterator[None]:
    """With DEBUG on, Django renders every query with its parameters into a log; for a bulk
    load of a million values that is a fifth of the run, and nobody reads it. DEBUG stays
    what the command checks; only the query log pauses while the rows are written."""
    with override_settings(DEBUG=False):
        yield


def stream(seed: int, name: str) -> random.Random:
    """An independent random stream per kind of record, so adding draws to one kind does
    not shift every record drawn after it."""
    return random.Random(f"fieldline-demo:{seed}:{name}")


class IdSequence:
    """Ids in the UUIDv7 layout on a made-up clock that ticks once per id.

    They sort in creation order, as the time-ordered ids phones generate do, so inserts
    append to the primary-key index instead of landing on random pages (on SQLite that is
    ten times faster); the random bits come from the seeded stream.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.clock_ms = ID_CLOCK_START_MS

    def __call__(self) -> uuid.UUID:
        self.clock_ms += 1
        value = (self.clock_ms << 80) | self.rng.getrandbits(80)
        value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
        value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
        return uuid.UUID(int=value)


def pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]


# --- people -------------------------------------------------------------------------


def create_people(*, rng: random.Random, reps_per_region: int, password: str) -> DemoPeople:
    """Regions, HQ, one manager per region and its reps, all with the same password.

    The password is hashed once and shared: hashing is deliberately slow, and these
    accounts share the password anyway.
    """
    Region.objects.bulk_create(
        [Region(code=city.region_code, name=city.region_name) for city in CITIES]
    )
    hashed = make_password(password)

    def person(username: str, role: str, city: City | None, **extra: Any) -> User:
        surnames = city.surnames if city else ("Albers",)
        return User(
            username=username,
            password=hashed,
            role=role,
            region_id=city.region_code if city else None,
            first_name=rng.choice(catalogue.FIRST_NAMES),
            last_name=rng.choice(surnames),
            email=f"{username}@demo.fieldline.invalid",
            **extra,
        )

    users = [person("hq", Role.HQ, None, is_staff=True, is_superuser=True)]
    for city in CITIES:
        users.append(person(f"manager-{city.region_code}", Role.MANAGER, city))
        users.extend(
            person(f"rep-{city.region_code}-{number}", Role.REP, city)
            for number in range(1, reps_per_region + 1)
        )
    User.objects.bulk_create(users)
    by_name = {
        user.username: user
        for user in User.objects.filter(username__in=[user.username for user in users])
    }
    return DemoPeople(
        hq=by_name["hq"],
        managers={city.region_code: by_name[f"manager-{city.region_code}"] for city in CITIES},
        reps={
            city.region_code: [
                by_name[f"rep-{city.region_code}-{number}"]
                for number in range(1, reps_per_region + 1)
            ]
            for city in CITIES
        },
    )


# --- stores -------------------------------------------------------------------------


def offset_point(lat: float, lon: float, *, north_m: float, east_m: float) -> tuple[float, float]:
    """A point some metres north and east of another (flat-earth; fine over a few km)."""
    return (
        lat + north_m / METRES_PER_DEGREE,
        lon + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat))),
    )


def point_near(
    rng: random.Random, lat: float, lon: float, *, min_m: float, max_m: float
) -> tuple[float, float]:
    distance = rng.uniform(min_m, max_m)
    bearing = rng.uniform(0, 2 * math.pi)
    return offset_point(
        lat, lon, north_m=distance * math.cos(bearing), east_m=distance * math.sin(bearing)
    )


def street_length_m(street: Street) -> float:
    (lat1, lon1), (lat2, lon2) = street.start, street.end
    north = (lat2 - lat1) * METRES_PER_DEGREE
    east = (lon2 - lon1) * METRES_PER_DEGREE * math.cos(math.radians(lat1))
    return math.hypot(north, east)


def place_on_street(rng: random.Random, street: Street) -> tuple[float, float, int]:
    """A position along the street, on one of its sides, and a house number to match
    (odd numbers on one side, even on the other)."""
    along = rng.random()
    side = rng.choice((-1, 1))
    (lat1, lon1), (lat2, lon2) = street.start, street.end
    lat, lon = lat1 + along * (lat2 - lat1), lon1 + along * (lon2 - lon1)
    length = street_length_m(street) or 1.0
    north = (lat2 - lat1) * METRES_PER_DEGREE / length
    east = (lon2 - lon1) * METRES_PER_DEGREE * math.cos(math.radians(lat1)) / length
    across = side * rng.uniform(8, 18)
    lat, lon = offset_point(
        lat,
        lon,
        north_m=-east * across + rng.gauss(0, 4),
        east_m=north * across + rng.gauss(0, 4),
    )
    pair = int(along * (street.last_number - 1) / 2)
    number = 2 * pair + (1 if side > 0 else 2)
    return round(lat, 6), round(lon, 6), number


def draw_trade_area(rng: random.Random, street: Street) -> str:
    if rng.random() < catalogue.OWN_TRADE_AREA_SHARE:
        return street.trade_area
    if "Bahnhof" in street.landmark and rng.random() < 0.5:
        return "transit"
    return pick(rng, catalogue.SECONDARY_TRADE_AREAS)


def draw_chain(rng: random.Random, trade_area: str, street: Street) -> catalogue.Chain | None:
    if rng.random() >= catalogue.CHAIN_SHARE.get(trade_area, catalogue.DEFAULT_CHAIN_SHARE):
        return None
    fitting = [
        chain
        for chain in catalogue.CHAINS
        if trade_area in chain.trade_areas and not (chain.petrol and street.car_free)
    ]
    if not fitting:
        return None
    return rng.choices(fitting, weights=[chain.weight for chain in fitting])[0]


def independent_name(rng: random.Random, city: City, street: Street, trade_area: str) -> str:
    surname = rng.choice(city.surnames)
    landmark = street.landmark
    choices = [
        f"Kiosk {surname}",
        f"Kiosk {street.name}",
        f"Späti {street.name}",
        f"Mini Markt {surname}",
        f"Tabak & Presse {surname}",
        f"Feinkost {surname}",
        f"Getränke {surname}",
        f"Backshop {street.name}",
        rng.choice(city.shop_names),
    ]
    if landmark:
        choices += [f"Kiosk {street.at_landmark}"] * 3
    if trade_area == "hospital" and landmark:
        choices += [f"Klinik-Kiosk {landmark}", f"Kiosk im {landmark}"]
    if trade_area == "school":
        choices += [f"Uni-Kiosk {street.name}", "Campus Shop"]
    return rng.choice(choices)


def opening_hours(
    rng: random.Random, *, city: City, trade_area: str, chain: catalogue.Chain | None
) -> dict[str, list[list[str]]]:
    """Hours the way such a shop keeps them; Bavarian shops close at 20:00 and on Sundays
    unless they are at a station or a petrol station."""
    weekdays = ("mon", "tue", "wed", "thu", "fri")

    def days(names: Iterable[str], *intervals: tuple[str, str]) -> dict[str, list[list[str]]]:
        return {day: [list(interval) for interval in intervals] for day in names}

    every_day = (*weekdays, "sat", "sun")
    if chain is not None and chain.petrol:
        return days(every_day, ("00:00", "24:00"))
    if trade_area == "transit":
        return days(every_day, rng.choice((("05:00", "24:00"), ("05:30", "23:00"))))
    if trade_area == "office":
        hours = days(weekdays, rng.choice((("07:00", "19:00"), ("06:30", "18:30"))))
        if rng.random() < 0.4:
            hours |= days(("sat",), ("09:00", "14:00"))
        return hours
    if trade_area == "industrial":
        return days(weekdays, ("05:30", "15:00")) | days(("sat",), ("06:00", "12:00"))
    if trade_area == "school":
        return days(weekdays, ("07:00", "18:00"))
    if trade_area == "hospital":
        return days(weekdays, ("07:00", "19:00")) | days(("sat", "sun"), ("10:00", "17:00"))
    strict_closing = city.region_code == "south"
    if chain is None and rng.random() < 0.15:
        # A family shop that closes over lunch.
        return days(weekdays, ("06:30", "12:30"), ("14:00", "18:30")) | days(
            ("sat",), ("07:00", "12:30")
        )
    if trade_area == "tourist":
        if strict_closing:
            return days((*weekdays, "sat"), ("09:00", "20:00"))
        return days(every_day, ("08:00", "22:00"))
    if strict_closing:
        return days((*weekdays, "sat"), ("06:00", "20:00"))
    return days((*weekdays, "sat"), ("06:00", "22:00")) | days(("sun",), ("08:00", "20:00"))


def draw_equipment(
    rng: random.Random, trade_area: str, chain: catalogue.Chain | None
) -> tuple[str, ...]:
    boost = catalogue.EQUIPMENT_BOOST.get(trade_area, {})
    chain_boost = 0.15 if chain else 0.0
    return tuple(
        item
        for item, odds in catalogue.EQUIPMENT_ODDS.items()
        if rng.random() < odds + boost.get(item, 0.0) + chain_boost
    )


def draw_phone(rng: random.Random, city: City, *, mobile: bool) -> str:
    """An E.164 number: a city landline, or a mobile for owner-run shops."""
    if mobile:
        prefix, digits = rng.choice((("151", 8), ("160", 7), ("170", 7), ("176", 8), ("1520", 7)))
        return f"+49{prefix}{rng.randint(2, 9)}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"
    digits = rng.choice((7, 8))
    return (
        f"+49{city.area_code}{rng.randint(2, 9)}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"
    )


def plan_stores(*, rng: random.Random, count: int) -> list[PlannedStore]:
    """`count` stores over the cities (Hamburg a little larger), about 2 % of them a second
    record of a shop another rep already entered, with the same phone."""
    north_count = round(count * 0.55)
    planned: list[PlannedStore] = []
    used_phones: set[str] = set()
    new_id = IdSequence(rng)
    for city, city_count in zip(CITIES, (north_count, count - north_count), strict=True):
        duplicates = round(city_count * catalogue.DUPLICATE_SHARE)
        # Longer streets have more shops.
        street_odds = list(accumulate(street_length_m(street) for street in city.streets))
        originals = [
            plan_store(
                rng=rng, new_id=new_id, city=city, street_odds=street_odds, used_phones=used_phones
            )
            for _ in range(city_count - duplicates)
        ]
        with_phone = [store for store in originals if store.phone]
        copies = [
            plan_duplicate(rng=rng, new_id=new_id, original=rng.choice(with_phone))
            for _ in range(duplicates if with_phone else 0)
        ]
        planned += originals + copies
    return planned


def plan_store(
    *,
    rng: random.Random,
    new_id: IdSequence,
    city: City,
    street_odds: Sequence[float],
    used_phones: set[str],
) -> PlannedStore:
    """One shop on one of the city's streets; `street_odds` are cumulative street weights."""
    street = rng.choices(city.streets, cum_weights=street_odds)[0]
    lat, lon, number = place_on_street(rng, street)
    trade_area = draw_trade_area(rng, street)
    chain = draw_chain(rng, trade_area, street)
    status = pick(rng, catalogue.STATUS_WEIGHTS)
    if chain:
        place = street.name if chain.petrol else street.landmark or street.name
        name = f"{chain.name} {place}"
    else:
        name = independent_name(rng, city, street, trade_area)
    phone = ""
    if status != "prospect" or rng.random() < 0.85:
        phone = draw_phone(rng, city, mobile=chain is None and rng.random() < 0.4)
        while phone in used_phones:
            phone = draw_phone(rng, city, mobile=False)
        used_phones.add(phone)
    suffix = "a" if rng.random() < 0.05 else ""
    return PlannedStore(
        id=new_id(),
        city=city,
        street=street,
        name=name,
        chain_name=chain.name if chain else "",
        phone=phone,
        address=f"{street.name} {number}{suffix}, {street.postcode} {city.name}",
        lat=lat,
        lon=lon,
        status=status,
        grade=pick(rng, catalogue.GRADE_WEIGHTS[status]),
        trade_area=trade_area,
        equipment=draw_equipment(rng, trade_area, chain),
        opening_hours=opening_hours(rng, city=city, trade_area=trade_area, chain=chain),
        geofence_radius_m=250.0 if trade_area == "transit" and rng.random() < 0.3 else None,
    )


def plan_duplicate(
    *, rng: random.Random, new_id: IdSequence, original: PlannedStore
) -> PlannedStore:
    """The same shop entered again as a prospect, with its name and address typed a
    little differently and a GPS fix a few metres off."""
    lat, lon = point_near(rng, original.lat, original.lon, min_m=3, max_m=25)
    name = retyped(rng, original.name)
    return PlannedStore(
        id=new_id(),
        city=original.city,
        street=original.street,
        name=name,
        chain_name=original.chain_name,
        phone=original.phone,
        address=original.address.replace("straße", "str.").replace("Straße", "Str."),
        lat=round(lat, 6),
        lon=round(lon, 6),
        status="prospect",
        grade="",
        trade_area=original.trade_area,
        equipment=(),
        opening_hours=original.opening_hours,
        geofence_radius_m=None,
        duplicate_of=original,
    )


def retyped(rng: random.Random, name: str) -> str:
    """A name as another rep would type it for the same shop."""
    variants = [name.upper(), name.replace("straße", "str.").replace("Straße", "Str.")]
    owner_or_street = name.removeprefix("Kiosk ")
    if owner_or_street != name and " " not in owner_or_street:
        variants.append(f"{owner_or_street} Kiosk")
    variants = [variant for variant in variants if variant != name] or [f"{name} (2)"]
    return rng.choice(variants)


def assign_territories(
    *, stores: Sequence[PlannedStore], reps: Mapping[str, Sequence[User]]
) -> None:
    """Each rep works a slice of their city around its centre, with as many stores as the
    others; a duplicate belongs to the rep next door, who entered the shop again."""
    territory: dict[uuid.UUID, int] = {}
    for city in CITIES:
        team = reps[city.region_code]
        originals = [s for s in stores if s.city is city and s.duplicate_of is None]
        centre_lat, centre_lon = city.centre
        originals.sort(
            key=lambda s: math.atan2(
                s.lat - centre_lat, (s.lon - centre_lon) * math.cos(math.radians(centre_lat))
            )
        )
        for index, store in enumerate(originals):
            territory[store.id] = index * len(team) // len(originals)
            store.owner = team[territory[store.id]]
        for store in stores:
            if store.city is city and store.duplicate_of is not None:
                store.owner = team[(territory[store.duplicate_of.id] + 1) % len(team)]


def store_row(store: PlannedStore) -> dict[str, Any]:
    assert store.owner is not None
    row = {
        "id": store.id,
        "name": store.name,
        "chain_name": store.chain_name,
        "phone": store.phone,
        "address": store.address,
        "lat": store.lat,
        "lon": store.lon,
        "region": store.city.region_code,
        "owner": store.owner.pk,
        "status": store.status,
        "trade_area_type": store.trade_area,
        "grade": store.grade,
        "tags": store.tags,
        "opening_hours": store.opening_hours,
    }
    if store.geofence_radius_m is not None:
        row["geofence_radius_m"] = store.geofence_radius_m
    return row


# --- surveys, visits, tasks ---------------------------------------------------------


def local_time(day: dt.date, minutes_after_8: int) -> dt.datetime:
    """A working-day moment in Germany, stored in UTC."""
    moment = dt.datetime.combine(day, dt.time(8), tzinfo=LOCAL_TZ)
    return (moment + dt.timedelta(minutes=minutes_after_8)).astimezone(dt.UTC)


def working_day(today: dt.date, days_ago: int) -> dt.date:
    """The day `days_ago` before today, moved back to Friday if it is a weekend."""
    day = today - dt.timedelta(days=days_ago)
    return day - dt.timedelta(days=max(0, day.weekday() - 4))


def draw_competitors(rng: random.Random, city: City) -> list[dict[str, Any]]:
    kinds = {
        "supermarket": (city.discounters, 80, 600),
        "bakery": (city.bakeries, 20, 300),
        "cafe": (catalogue.CAFES, 20, 400),
        "fast_food": (catalogue.FAST_FOOD, 30, 500),
        "convenience": (catalogue.CONVENIENCE, 20, 300),
        "vending": (("Selecta vending machines",), 5, 100),
    }
    competitors = []
    for kind in rng.sample(tuple(kinds), rng.randint(0, 4)):
        names, near, far = kinds[kind]
        competitors.append(
            {"name": rng.choice(names), "kind": kind, "distance_m": float(rng.randint(near, far))}
        )
    return competitors


def plan_surveys(
    *, rng: random.Random, stores: Sequence[PlannedStore], today: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Surveys for about 70 % of stores, full, partial or sparse, some over the stale age,
    with photo metadata (the bytes never arrive in the demo)."""
    stale_after = fieldline_settings.STALE_SURVEY_DAYS
    surveys, photos = [], []
    new_survey_id, new_photo_id = IdSequence(rng), IdSequence(rng)
    for store in stores:
        if rng.random() >= (0.2 if store.duplicate_of else 0.74):
            continue
        stale = rng.random() < 0.22
        # Fresh ones stay clear of the stale age even when moved back off a weekend.
        days_ago = rng.randint(stale_after + 1, 720) if stale else rng.randint(1, stale_after - 3)
        completeness = pick(rng, catalogue.COMPLETENESS_WEIGHTS)
        review = pick(rng, catalogue.REVIEW_WEIGHTS["stale" if stale else completeness])
        captured_at = local_time(working_day(today, days_ago), rng.randint(60, 540))
        store.survey_captured_at, store.survey_review = captured_at, review
        row: dict[str, Any] = {
            "id": new_survey_id(),
            "store": str(store.id),
            "trade_area_type": store.trade_area,
            "captured_at": captured_at,
            "review_status": review,
        }
        if completeness != "sparse" or rng.random() < 0.5:
            far = rng.random() < 0.05
            lat, lon = point_near(
                rng, store.lat, store.lon, min_m=150 if far else 0, max_m=800 if far else 15
            )
            row |= {
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "accuracy_m": float(rng.randint(3, 25)),
            }
        if completeness != "sparse":
            weekday = round(
                catalogue.FOOTFALL_WEEKDAY[store.trade_area] * rng.lognormvariate(0, 0.35)
            )
            row |= {
                "footfall_weekday": weekday,
                "area_m2": float(rng.randint(15, 250)),
                "equipment": list(store.equipment),
            }
            if completeness == "full":
                row |= full_survey_fields(rng, store, weekday)
            elif rng.random() < 0.5:
                row["customer_groups"] = [catalogue.CUSTOMER_GROUPS[store.trade_area][0]]
        if completeness == "sparse" or rng.random() < 0.2:
            row["notes"] = rng.choice(
                ("Owner not available, come back.", *catalogue.SURVEY_NOTES)
                if completeness == "sparse"
                else catalogue.SURVEY_NOTES
            )
        surveys.append(row)
        fewest, most = catalogue.PHOTOS_PER_SURVEY[completeness]
        for section in catalogue.PHOTO_SECTIONS[: rng.randint(fewest, most)]:
            photo = {
                "id": new_photo_id(),
                "survey": str(row["id"]),
                "section": section,
                "sha256": hashlib.sha256(rng.randbytes(32)).hexdigest(),
                "content_type": "image/jpeg",
                "taken_at": captured_at + dt.timedelta(minutes=rng.randint(1, 20)),
            }
            if "lat" in row:
                photo |= {"lat": row["lat"], "lon": row["lon"]}
            photos.append(photo)
    return surveys, photos


def create_survey_templates(
    *, hq: User, today: dt.date
) -> dict[str, list[tuple[dt.datetime, int]]]:
    """HQ's survey templates, every version in force from its day on (a handful of rows,
    through the template service): per type, (in force from, version), oldest first."""
    templates: dict[str, list[tuple[dt.datetime, int]]] = {}
    for trade_area, versions in catalogue.SURVEY_TEMPLATES.items():
        for days_ago, fields in versions:
            since = dt.datetime.combine(
                today - dt.timedelta(days=days_ago), dt.time(), tzinfo=LOCAL_TZ
            ).astimezone(dt.UTC)
            template = survey_template_create(
                actor=hq,
                trade_area_type=trade_area,
                required_fields=[*catalogue.TEMPLATE_BASE_FIELDS, *fields],
                conditional_fields=catalogue.TEMPLATE_CONDITIONAL_FIELDS,
                min_photos=catalogue.TEMPLATE_MIN_PHOTOS,
                created_at=since,
            )
            templates.setdefault(trade_area, []).append((since, template.version))
    return templates


def stamp_template_versions(
    *, surveys: Sequence[dict[str, Any]], templates: Mapping[str, Sequence[tuple[dt.datetime, int]]]
) -> None:
    """Each survey carries the version of its type's template in force when it was
    captured, as a phone would have sent it."""
    for row in surveys:
        in_force = [
            version
            for since, version in templates.get(row["trade_area_type"], ())
            if since <= row["captured_at"]
        ]
        if in_force:
            row["template_version"] = in_force[-1]


def full_survey_fields(rng: random.Random, store: PlannedStore, weekday: int) -> dict[str, Any]:
    groups = catalogue.CUSTOMER_GROUPS[store.trade_area]
    morning, lunch, evening = catalogue.SLOT_SHARES[store.trade_area]
    return {
        "footfall_weekend": round(
            weekday * catalogue.WEEKEND_FACTOR[store.trade_area] * rng.uniform(0.8, 1.2)
        ),
        "footfall_slots": {
            "morning": round(weekday * morning),
            "lunch": round(weekday * lunch),
            "evening": round(weekday * evening),
        },
        "customer_groups": list(groups[: rng.randint(1, len(groups))]),
        "competitors": draw_competitors(rng, store.city),
        "signal_quality": pick(rng, catalogue.SIGNAL_WEIGHTS),
        "fresh_shelf_m": round(rng.uniform(0.5, 6.0), 1),
    }


def visit_count(rng: random.Random, store: PlannedStore) -> int:
    """Visits are the expensive touch: several for key accounts, few or none for the rest
    (they are called instead)."""
    if store.status == "active" and store.grade in ("A", "B"):
        return rng.randint(1, 3) if store.grade == "A" else rng.randint(0, 2)
    odds = {"active": 0.25, "dormant": 0.4, "prospect": 0.3}.get(store.status, 0.0)
    return 1 if rng.random() < odds else 0


def plan_visits(
    *, rng: random.Random, stores: Sequence[PlannedStore], today: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Visits over the last 180 days, checked in mostly within 50 m of the store, some far
    off or without a fix; the visits during which some recent surveys were captured;
    and the follow-ups visits leave."""
    visits, followups = [], []
    new_visit_id, new_followup_id = IdSequence(rng), IdSequence(rng)
    for store in stores:
        moments = []
        for _ in range(visit_count(rng, store)):
            day = working_day(today, rng.randint(1, HISTORY_DAYS))
            purpose = pick(rng, catalogue.VISIT_PURPOSE_WEIGHTS)
            if purpose == "reactivation" and store.status == "active":
                purpose = "routine"
            moments.append((day, local_time(day, rng.randint(0, 570)), purpose))
        # Draws never depend on the date (see the module docstring): draw, then decide.
        with_visit, minutes_before = rng.random() < 0.4, rng.randint(2, 10)
        captured_at = store.survey_captured_at
        if with_visit and captured_at and (today - captured_at.date()).days < HISTORY_DAYS:
            check_in = captured_at - dt.timedelta(minutes=minutes_before)
            moments.append((captured_at.date(), check_in, "survey"))
        for day, check_in, purpose in moments:
            row: dict[str, Any] = {
                "id": new_visit_id(),
                "store": str(store.id),
                "purpose": purpose,
                "check_in_at": check_in,
                "check_out_at": check_in + dt.timedelta(minutes=rng.randint(8, 45)),
                "outcome": rng.choice(catalogue.VISIT_OUTCOMES[purpose]),
            }
            fix = rng.random()
            if fix < 0.9:
                lat, lon = point_near(rng, store.lat, store.lon, min_m=2, max_m=45)
                row |= {"check_in_accuracy_m": float(rng.randint(4, 30))}
            elif fix < 0.97:
                lat, lon = point_near(rng, store.lat, store.lon, min_m=200, max_m=3000)
                row |= {"check_in_accuracy_m": float(rng.randint(10, 60))}
            else:
                lat = lon = None
            if lat is not None:
                row |= {"check_in_lat": round(lat, 6), "check_in_lon": round(lon, 6)}
            if rng.random() < 0.2:
                row["notes"] = rng.choice(catalogue.VISIT_NOTES)
            visits.append(row)
            if rng.random() < 0.25:
                due = day + dt.timedelta(days=rng.randint(2, 21))
                followups.append(
                    {
                        "id": new_followup_id(),
                        "store": str(store.id),
                        "visit": str(row["id"]),
                        "due_date": due,
                        "note": rng.choice(catalogue.FOLLOWUP_NOTES),
                        "done": rng.random() < 0.8 and due < today,
                    }
                )
        if rng.random() < 0.02:
            # A call, not a visit, asked for the next contact.
            followups.append(
                {
                    "id": new_followup_id(),
                    "store": str(store.id),
                    "due_date": today + dt.timedelta(days=rng.randint(-10, 14)),
                    "note": rng.choice(catalogue.FOLLOWUP_NOTES),
                }
            )
    return visits, followups


def task_for(
    rng: random.Random, store: PlannedStore, stale_before: dt.date
) -> tuple[str, str] | None:
    """The task a manager would dispatch for this store, if any: (type, title)."""
    draw = rng.random()
    if store.survey_captured_at is None:
        if draw < 0.4:
            return "survey", "Capture a site survey"
    elif store.survey_captured_at.date() < stale_before:
        if draw < 0.5:
            return "survey", "Update the stale site survey"
    elif store.survey_review in ("has_issues", "rejected") and draw < 0.7:
        return "review_fix", "Fix the survey sent back by review"
    draw = rng.random()
    if store.status == "dormant" and draw < 0.5:
        return "reactivation", "Reactivate: no recent orders"
    if store.status == "prospect" and draw < 0.3:
        return "visit", "First visit: present the fresh range"
    if store.status == "active" and "microwave" in store.equipment and draw < 0.2:
        return "new_product", f"Introduce the {rng.choice(catalogue.NEW_PRODUCTS)}"
    if draw > 0.95:
        return "callback", "Call back the owner"
    return None


def plan_tasks(
    *, rng: random.Random, stores: Sequence[PlannedStore], today: dt.date
) -> dict[str, list[dict[str, Any]]]:
    """Tasks for the store's owner, by region (each region's manager dispatches them); due
    dates a month either side of today, so some open ones are overdue."""
    stale_before = today - dt.timedelta(days=fieldline_settings.STALE_SURVEY_DAYS)
    by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
    new_id = IdSequence(rng)
    for store in stores:
        task = task_for(rng, store, stale_before)
        if task is None:
            continue
        assert store.owner is not None
        kind, title = task
        status = pick(rng, catalogue.TASK_STATUS_WEIGHTS)
        due = today + dt.timedelta(
            days=rng.randint(-30, -1) if status == "done" else rng.randint(-20, 30)
        )
        by_region[store.city.region_code].append(
            {
                "id": new_id(),
                "store": str(store.id),
                "assignee": store.owner.pk,
                "type": kind,
                "title": title,
                "status": status,
                "priority": 1 if store.grade == "A" else rng.choice((2, 2, 3)),
                "due_date": due,
            }
        )
    return by_region


# --- writes -------------------------------------------------------------------------


def progress_bar(*, enabled: bool, total: int, label: str, unit: str) -> tqdm:
    return tqdm(total=total, desc=f"{label:>14}", unit=unit, disable=not enabled, leave=True)


def write_records(
    *,
    entity: str,
    rows: Sequence[Mapping[str, Any]],
    progress: bool,
    at: dt.datetime,
    actor: User | None = None,
    label: str = "",
) -> int:
    """Hand the rows to the sync engine's bulk path, a chunk at a time."""
    written = 0
    with progress_bar(
        enabled=progress, total=len(rows), label=label or f"{entity}s", unit="rec"
    ) as bar:
        for start in range(0, len(rows), WRITE_CHUNK):
            chunk = rows[start : start + WRITE_CHUNK]
            written += bulk_create_records(
                entity=entity,
                rows=chunk,
                actor=actor,
                source=ChangeSource.SYSTEM,
                device_id=DEVICE_ID,
                at=at,
            )
            bar.update(len(chunk))
    return written


def ordering_span(rng: random.Random, store: PlannedStore) -> tuple[int, int] | None:
    """(first, last) day, counted back from today, between which this store ordered."""
    if store.status == "active":
        first = rng.randint(14, 120) if rng.random() < 0.15 else HISTORY_DAYS
        return first, 1
    if store.status == "dormant":
        return HISTORY_DAYS, rng.randint(35, 150)
    if store.status == "churned" and rng.random() < 0.5:
        return HISTORY_DAYS, rng.randint(150, HISTORY_DAYS)
    return None


def order_days(
    rng: random.Random, store: PlannedStore, calendar: Sequence[tuple[int, dt.date, float]]
) -> list[dt.date]:
    """The days this store ordered on: a daily chance at its own rate, shaped by the
    weekday. `calendar` holds (days ago, day, weekday factor) of the order window."""
    span = ordering_span(rng, store)
    if span is None:
        return []
    first, last = span
    low, high = catalogue.ORDERS_PER_WEEK[store.grade]
    daily = rng.uniform(low, high) / 7
    chance = rng.random
    return [
        day
        for days_ago, day, factor in calendar
        if last <= days_ago <= first and chance() < daily * factor
    ]


def write_orders(
    *, rng: random.Random, stores: Sequence[PlannedStore], today: dt.date, progress: bool
) -> tuple[int, int]:
    """Orders of the last 180 days with a weekly rhythm, written in batches as they are
    drawn so that memory stays flat; returns (orders, lines)."""
    calendar = []
    for days_ago in range(HISTORY_DAYS, 0, -1):
        day = today - dt.timedelta(days=days_ago)
        calendar.append((days_ago, day, catalogue.WEEKDAY_FACTOR[day.weekday()]))
    ordering = [store for store in stores if store.status != "prospect"]
    new_id = IdSequence(rng)
    orders: list[Order] = []
    lines: list[OrderLine] = []
    order_count = line_count = 0
    with progress_bar(enabled=progress, total=len(ordering), label="orders", unit="store") as bar:
        for store in ordering:
            days = order_days(rng, store, calendar)
            listed = listed_products(rng, store)
            quantity_low, quantity_high = catalogue.QUANTITY[store.grade]
            for day in days:
                order_id = new_id()
                total_cents = 0
                for product in rng.sample(listed, rng.choice(catalogue.LINES_PER_ORDER)):
                    quantity = rng.randint(quantity_low, quantity_high)
                    cents = quantity * product.unit_cents
                    total_cents += cents
                    lines.append(
                        OrderLine(
                            order_id=order_id,
                            sku=product.sku,
                            quantity=quantity,
                            amount=Decimal(cents).scaleb(-2),
                        )
                    )
                order_count += 1
                orders.append(
                    Order(
                        id=order_id,
                        external_id=f"DEMO-{order_count:08d}",
                        store_id=store.id,
                        order_date=day,
                        amount=Decimal(total_cents).scaleb(-2),
                    )
                )
            if len(orders) >= ORDER_FLUSH:
                line_count += flush_orders(orders, lines)
            bar.update(1)
        line_count += flush_orders(orders, lines)
    return order_count, line_count


def listed_products(rng: random.Random, store: PlannedStore) -> list[catalogue.Product]:
    """The store's range: regional specialities where they sell, hot meals only where
    there is a microwave."""
    region = store.city.region_code
    fitting = [
        product
        for product in catalogue.PRODUCTS
        if product.region in ("", region)
        and (not product.needs or product.needs in store.equipment)
    ]
    return rng.sample(fitting, rng.randint(3, 8))


def flush_orders(orders: list[Order], lines: list[OrderLine]) -> int:
    Order.objects.bulk_create(orders, batch_size=1000)
    OrderLine.objects.bulk_create(lines, batch_size=1000)
    written = len(lines)
    orders.clear()
    lines.clear()
    return written


# --- the office's day ---------------------------------------------------------------

# HQ's own tag: regulars the recompute sees slipping away.
DEMO_TAG_RULE = {
    "name": "lapsed_regular",
    "description": "Ordered at least 3 times, now at risk of churning.",
    "conditions": [
        {"field": "tags", "op": "contains", "value": "churn_risk"},
        {"field": "orders", "op": "gte", "value": 3},
    ],
}
# A region's subsidy money per store, and the top-up HQ allocates later in the quarter.
BUDGET_PER_STORE = Decimal("25.00")
BUDGET_TOP_UP_SHARE = Decimal("0.2")
# The campaign: churning and warning stores of the north, X = a + Y^t x (b - a).
CAMPAIGN_SEGMENTS = ["head_warning", "mid_churn", "tail_churn", "early_growth"]
CAMPAIGN_FLOOR_A = Decimal("5.00")
CAMPAIGN_CAP_B = Decimal("40.00")
CAMPAIGN_DAYS = 30
BATCH_COUPONS = 200
CLAIMED_COUPONS = 6
# Stores tried for a claim before giving up (the formula may give some nothing).
CLAIM_ATTEMPTS = 60


def seed_office(*, seed: int, people: DemoPeople, today: dt.date, progress: bool) -> OfficeSummary:
    """The office's work on top of the drawn world, each step through its own service (so
    their rules hold here as anywhere): HQ's tag rule, the analytics recompute (segments,
    grades, tags, churn warnings, reactivation calls and tasks), the periodic call-queue
    fill, a budget per region with a top-up, an approved campaign with a coupon batch and
    a few claims, and calls worked by the managers. Coupons and calls draw from streams of
    their own: the campaign's holdout split follows its id, which the service draws."""
    hq = people.hq
    # The office's clock: now, or that day's afternoon when seeding for another day.
    now = min(timezone.now(), dt.datetime.combine(today, dt.time(15), tzinfo=dt.UTC))
    steps = ("tag rule", "analytics", "call queues", "subsidies", "calls", "visit plans")
    with progress_bar(enabled=progress, total=len(steps), label="office", unit="step") as bar:
        tag_rule_create(actor=hq, **DEMO_TAG_RULE)
        bar.update(1)
        recompute = analytics_recompute(actor=None, as_of=today)
        bar.update(1)
        call_queues_generate(today=today, now=now)
        bar.update(1)
        budgets, coupons = seed_subsidies(rng=stream(seed, "coupons"), hq=hq, today=today, now=now)
        bar.update(1)
        calls_done = work_calls(
            rng=stream(seed, "calls"), managers=people.managers, today=today, now=now
        )
        bar.update(1)
        plan_rng = stream(seed, "plans")
        planned_visits, plan_visits_made = seed_plans(
            rng=plan_rng, new_id=IdSequence(plan_rng), managers=people.managers, today=today
        )
        bar.update(1)
    return OfficeSummary(
        segmented_stores=sum(1 for segment in recompute.segments.values() if segment),
        churn_warnings=len(recompute.warnings),
        calls=Call.objects.count(),
        calls_done=calls_done,
        tag_rules=TagRule.objects.count(),
        budgets=budgets,
        coupons=coupons,
        planned_visits=planned_visits,
        plan_visits_made=plan_visits_made,
    )


def seed_subsidies(
    *, rng: random.Random, hq: User, today: dt.date, now: dt.datetime
) -> tuple[int, int]:
    """A quarter's budget per region (sized by its stores) with a top-up allocation, and
    in the north an approved campaign whose batch some treated stores have claimed from.
    Returns (budgets, coupons claimed)."""
    period_start = today.replace(day=1)
    period_end = period_start + dt.timedelta(days=95)
    budgets = {}
    stores_by_region = dict(
        Store.objects.values("region_id")
        .annotate(stores=Count("pk"))
        .order_by()
        .values_list("region_id", "stores")
    )
    for region in Region.objects.order_by("code"):
        amount = BUDGET_PER_STORE * max(stores_by_region.get(region.pk, 0), 1)
        budget = budget_create(
            actor=hq,
            region=region,
            period_start=period_start,
            period_end=period_end,
            amount=amount,
            note="Quarterly subsidy budget",
        )
        budget_allocate(
            actor=hq,
            budget_id=budget.pk,
            amount=(amount * BUDGET_TOP_UP_SHARE).quantize(Decimal("0.01")),
            note="Top-up for the reactivation campaign",
        )
        budgets[region.pk] = budget
    budget = budgets.get("north") or next(iter(budgets.values()))
    campaign = campaign_create(
        actor=hq,
        name="Win back slipping stores",
        budget=budget,
        segments=CAMPAIGN_SEGMENTS,
        floor_a=CAMPAIGN_FLOOR_A,
        cap_b=CAMPAIGN_CAP_B,
        starts_on=today,
        ends_on=min(today + dt.timedelta(days=CAMPAIGN_DAYS), budget.period_end),
    )
    campaign = campaign_approve(actor=hq, campaign_id=campaign.pk)
    batch = batch_create(
        actor=hq,
        campaign_id=campaign.pk,
        count=BATCH_COUPONS,
        claim_opens_at=dt.datetime.combine(today, dt.time.min, tzinfo=dt.UTC),
    )
    treated = list(
        CampaignStore.objects.filter(campaign=campaign, holdout=False)
        .order_by("store_id")
        .values_list("store_id", "store__owner_id")
    )
    owners = {user.pk: user for user in User.objects.filter(pk__in={o for _, o in treated})}
    candidates = rng.sample(treated, min(CLAIM_ATTEMPTS, len(treated)))
    claimed = 0
    for store_id, owner_id in candidates:
        if claimed >= CLAIMED_COUPONS:
            break
        try:
            # A rep claims for their store, as in the app.
            coupon_claim(
                actor=owners.get(owner_id, hq), batch_id=batch.pk, store_id=store_id, now=now
            )
        except SubsidyError:
            continue
        claimed += 1
    return len(budgets), claimed


# (outcome, days until the next contact or None, notes) of the calls the managers work.
WORKED_CALLS = (
    (CallOutcome.REACHED_INTERESTED, None, "Owner liked the new lunch range."),
    (CallOutcome.CALLBACK_REQUESTED, 7, "Owner away; call back next week."),
    (CallOutcome.NO_ANSWER, None, ""),
)


def work_calls(
    *, rng: random.Random, managers: Mapping[str, User], today: dt.date, now: dt.datetime
) -> int:
    """Each region's manager claims and completes a few open calls of their region; a
    callback leaves a follow-up for the store's rep."""
    done = 0
    for region, manager in sorted(managers.items()):
        waiting = list(
            Call.objects.filter(status=CallStatus.OPEN, store__region_id=region)
            .order_by("queue", "store_id")
            .values_list("pk", flat=True)[:50]
        )
        picked = rng.sample(waiting, min(len(WORKED_CALLS), len(waiting)))
        for call_id, (outcome, days, notes) in zip(picked, WORKED_CALLS, strict=False):
            call_claim(actor=manager, call_id=call_id, now=now)
            call_complete(
                actor=manager,
                call_id=call_id,
                now=now,
                outcome=outcome,
                notes=notes,
                next_contact_on=today + dt.timedelta(days=days) if days else None,
            )
            done += 1
    return done
