"""Anomaly monitoring: orders on a day against the same weekday a week before.

Hand-computed history (Friday 2026-11-27 against Friday 2026-11-20; thresholds: a drop of
at least 0.30 from a baseline of at least 50):

store  region  Thu 11-26  Fri 11-20    Fri 11-27  change            flagged
n1     north   1000       400          400        0.0               no  (the usual Friday dip)
n2     north              300 + 200    300        -0.4              yes
n3     north              40           -          -1.0              no  (baseline below 50)
n4     north              200          140        -0.3              yes (exactly the threshold)
n5     north              200          150        -0.25             no
n6     north              -            80         null              no  (nothing to compare)
s1     south              1000         100        -0.9              yes

north: 1070 against 1340 -> -270 / 1340 = -0.2015, not flagged; south: -0.9, flagged.
"""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from crm.analytics.scoring import anomaly_baseline_date
from crm.analytics.selectors import order_anomalies
from crm.orders.models import Order
from tests.conftest import create

FRIDAY = dt.date(2026, 11, 27)
ORDERS: dict[str, list[tuple[str, str]]] = {
    "n1": [("2026-11-26", "1000"), ("2026-11-20", "400"), ("2026-11-27", "400")],
    "n2": [("2026-11-20", "300"), ("2026-11-20", "200"), ("2026-11-27", "300")],
    "n3": [("2026-11-20", "40")],
    "n4": [("2026-11-20", "200"), ("2026-11-27", "140")],
    "n5": [("2026-11-20", "200"), ("2026-11-27", "150")],
    "n6": [("2026-11-27", "80")],
    "s1": [("2026-11-20", "1000"), ("2026-11-27", "100")],
}


@pytest.fixture
def stores(people) -> dict[str, uuid.UUID]:
    ids = {}
    for name in ORDERS:
        owner = people["rep_south" if name.startswith("s") else "rep_north"]
        ids[name] = create(
            "store",
            name=name,
            lat=53.55 if owner.region_id == "north" else 48.14,
            lon=9.99 if owner.region_id == "north" else 11.58,
            region=owner.region_id,
            owner=owner.pk,
        )
    Order.objects.bulk_create(
        Order(
            external_id=f"{name}-{n}",
            store_id=ids[name],
            order_date=dt.date.fromisoformat(day),
            amount=Decimal(amount),
        )
        for name, orders in ORDERS.items()
        for n, (day, amount) in enumerate(orders)
    )
    return ids


def by_store(response, stores) -> dict[str, dict]:
    names = {str(pk): name for name, pk in stores.items()}
    return {names[row["store"]]: row for row in response.json()["results"]}


def test_a_day_is_compared_with_the_same_weekday_a_week_before():
    saturday = dt.date(2026, 11, 28)

    assert anomaly_baseline_date(day=FRIDAY) == dt.date(2026, 11, 20)
    assert anomaly_baseline_date(day=saturday) == dt.date(2026, 11, 21)
    assert anomaly_baseline_date(day=saturday).weekday() == 5


@pytest.mark.django_db
def test_store_anomalies_match_the_hand_computed_history(stores, client_for):
    response = client_for("hq").get("/api/analytics/anomalies", {"date": "2026-11-27"})

    assert response.status_code == 200, response.content
    rows = by_store(response, stores)
    assert {name: (row["change"], row["flagged"]) for name, row in rows.items()} == {
        "n1": (0.0, False),
        "n2": (-0.4, True),
        "n3": (-1.0, False),
        "n4": (-0.3, True),
        "n5": (-0.25, False),
        "n6": (None, False),
        "s1": (-0.9, True),
    }
    assert rows["n2"] == {
        "store": str(stores["n2"]),
        "store_name": "n2",
        "region": "north",
        "date": "2026-11-27",
        "amount": "300.00",
        "baseline_date": "2026-11-20",
        "baseline_amount": "500.00",
        "change": -0.4,
        "flagged": True,
    }
    # Largest drop first; no baseline last.
    assert [row["store"] for row in response.json()["results"]][0] == str(stores["n3"])
    assert response.json()["results"][-1]["store"] == str(stores["n6"])


@pytest.mark.django_db
def test_the_friday_dip_is_not_flagged_when_the_previous_friday_was_as_low(stores, client_for):
    response = client_for("hq").get("/api/analytics/anomalies", {"date": "2026-11-27"})

    n1 = by_store(response, stores)["n1"]
    # 400 on Friday is 60 % below Thursday's 1000, but Friday is compared with Friday.
    assert (n1["amount"], n1["baseline_date"], n1["baseline_amount"]) == (
        "400.00",
        "2026-11-20",
        "400.00",
    )
    assert (n1["change"], n1["flagged"]) == (0.0, False)


@pytest.mark.django_db
def test_flagged_filter_lists_only_the_real_drops(stores, client_for):
    response = client_for("hq").get(
        "/api/analytics/anomalies", {"date": "2026-11-27", "flagged": "true"}
    )

    assert response.status_code == 200, response.content
    assert response.json()["count"] == 3
    assert [row["store_name"] for row in response.json()["results"]] == ["s1", "n2", "n4"]


@pytest.mark.django_db
def test_region_aggregate_sums_the_stores_of_each_region(stores, client_for):
    response = client_for("hq").get(
        "/api/analytics/anomalies", {"date": "2026-11-27", "level": "region"}
    )

    assert response.status_code == 200, response.content
    assert response.json()["results"] == [
        {
            "region": "south",
            "date": "2026-11-27",
            "amount": "100.00",
            "baseline_date": "2026-11-20",
            "baseline_amount": "1000.00",
            "change": -0.9,
            "flagged": True,
        },
        {
            "region": "north",
            "date": "2026-11-27",
            "amount": "1070.00",
            "baseline_date": "2026-11-20",
            "baseline_amount": "1340.00",
            "change": -0.2015,
            "flagged": False,
        },
    ]


@pytest.mark.django_db
def test_managers_see_their_region_and_reps_are_refused(stores, client_for):
    north = client_for("manager_north").get("/api/analytics/anomalies", {"date": "2026-11-27"})
    regions = client_for("manager_north").get(
        "/api/analytics/anomalies", {"date": "2026-11-27", "level": "region"}
    )
    rep = client_for("rep_north").get("/api/analytics/anomalies", {"date": "2026-11-27"})

    assert north.status_code == 200, north.content
    assert sorted(by_store(north, stores)) == ["n1", "n2", "n3", "n4", "n5", "n6"]
    assert [row["region"] for row in regions.json()["results"]] == ["north"]
    assert rep.status_code == 403


@pytest.mark.django_db
def test_the_list_is_paginated_and_validates_its_query(stores, client_for):
    client = client_for("hq")
    page = client.get("/api/analytics/anomalies", {"date": "2026-11-27", "page_size": 2})
    no_date = client.get("/api/analytics/anomalies")
    bad_level = client.get("/api/analytics/anomalies", {"date": "2026-11-27", "level": "rep"})

    assert page.status_code == 200
    assert (page.json()["count"], len(page.json()["results"])) == (7, 2)
    assert page.json()["next"] is not None
    assert no_date.status_code == 400
    assert "date" in no_date.json()
    assert bad_level.status_code == 400
    assert "level" in bad_level.json()


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["store", "region"])
def test_each_level_is_one_query(stores, people, level, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = order_anomalies(actor=people["manager_north"], day=FRIDAY, level=level)

    assert len(rows) == (6 if level == "store" else 1)
