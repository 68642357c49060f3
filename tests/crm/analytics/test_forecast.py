"""Sales forecast: stores of each trade-area type x the comparable per-store sales.

Hand-computed history (as of 2026-11-30, window 28 days: 11-03 .. 11-30):

store  region  type         orders (date: amount = lines)             in window
o1     north   office       11-10: 300 = A 200 + B 100; 11-20: 100 = A  400 (A 300)
o2     north   office       11-15: 200 = B                             200 (A -)
o3     north   office       -                                          -
o4     south   office       11-25: 600 = A                             600 (A 600)
o5     north   office       10-01: 999 = A                             - (before the window)
r1     north   residential  11-05: 150 = A                             150 (A 150)
r2     south   residential  -                                          -
t1     south   transit      11-28: 500 = A                             500 (A 500)
u1     north   (none)       11-10: 50 = A                              not comparable

North, all sales: office 4 stores x 1200 / 3 = 1600; residential 1 x 150 = 150;
transit 0 x 500 = 0; total 1750, one store without a type.
All regions, SKU A: office 5 x 900 / 2 = 2250; residential 2 x 150 = 300;
transit 1 x 500 = 500; total 3050.
"""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from crm.analytics.selectors import sales_forecast
from crm.orders.models import Order, OrderLine
from tests.conftest import create

AS_OF = dt.date(2026, 11, 30)
STORES = {
    "o1": ("north", "office"),
    "o2": ("north", "office"),
    "o3": ("north", "office"),
    "o4": ("south", "office"),
    "o5": ("north", "office"),
    "r1": ("north", "residential"),
    "r2": ("south", "residential"),
    "t1": ("south", "transit"),
    "u1": ("north", ""),
}
ORDERS: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "o1": [("2026-11-10", [("A", "200"), ("B", "100")]), ("2026-11-20", [("A", "100")])],
    "o2": [("2026-11-15", [("B", "200")])],
    "o4": [("2026-11-25", [("A", "600")])],
    "o5": [("2026-10-01", [("A", "999")])],
    "r1": [("2026-11-05", [("A", "150")])],
    "t1": [("2026-11-28", [("A", "500")])],
    "u1": [("2026-11-10", [("A", "50")])],
}


@pytest.fixture
def stores(people) -> dict[str, uuid.UUID]:
    ids = {}
    for name, (region, trade_area_type) in STORES.items():
        owner = people[f"rep_{region}"]
        ids[name] = create(
            "store",
            name=name,
            lat=53.55 if region == "north" else 48.14,
            lon=9.99 if region == "north" else 11.58,
            region=region,
            owner=owner.pk,
            trade_area_type=trade_area_type,
        )
    for name, orders in ORDERS.items():
        for n, (day, lines) in enumerate(orders):
            order = Order.objects.create(
                external_id=f"{name}-{n}",
                store_id=ids[name],
                order_date=dt.date.fromisoformat(day),
                amount=sum((Decimal(amount) for _, amount in lines), Decimal(0)),
            )
            OrderLine.objects.bulk_create(
                OrderLine(order=order, sku=sku, quantity=1, amount=Decimal(amount))
                for sku, amount in lines
            )
    return ids


def figures(body: dict) -> dict[str, tuple]:
    return {
        row["trade_area_type"]: (
            row["stores"],
            row["ordering_stores"],
            row["window_amount"],
            row["per_store_amount"],
            row["forecast_amount"],
        )
        for row in body["types"]
    }


@pytest.mark.django_db
def test_region_forecast_matches_the_hand_computed_history(stores, client_for):
    response = client_for("manager_north").get("/api/analytics/forecast", {"as_of": "2026-11-30"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["region"], body["sku"], body["as_of"], body["window_days"]) == (
        "north",
        None,
        "2026-11-30",
        28,
    )
    assert figures(body) == {
        "office": (4, 3, "1200.00", "400.00", "1600.00"),
        "residential": (1, 1, "150.00", "150.00", "150.00"),
        "transit": (0, 1, "500.00", "500.00", "0.00"),
    }
    assert body["stores_without_type"] == 1
    assert body["total"] == "1750.00"


@pytest.mark.django_db
def test_sku_forecast_over_all_regions_uses_the_lines_of_that_sku(stores, client_for):
    response = client_for("hq").get("/api/analytics/forecast", {"as_of": "2026-11-30", "sku": "A"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["region"], body["sku"]) == (None, "A")
    assert figures(body) == {
        "office": (5, 2, "900.00", "450.00", "2250.00"),
        "residential": (2, 1, "150.00", "150.00", "300.00"),
        "transit": (1, 1, "500.00", "500.00", "500.00"),
    }
    assert body["total"] == "3050.00"


@pytest.mark.django_db
def test_hq_may_forecast_one_region(stores, client_for):
    hq = client_for("hq").get("/api/analytics/forecast", {"as_of": "2026-11-30", "region": "south"})

    assert hq.status_code == 200, hq.content
    # South: office o4 x 400, residential r2 x 150, transit t1 x 500.
    assert figures(hq.json()) == {
        "office": (1, 3, "1200.00", "400.00", "400.00"),
        "residential": (1, 1, "150.00", "150.00", "150.00"),
        "transit": (1, 1, "500.00", "500.00", "500.00"),
    }
    assert (hq.json()["stores_without_type"], hq.json()["total"]) == (0, "1050.00")


@pytest.mark.django_db
def test_per_store_sales_are_rounded_to_cents_after_multiplying(people):
    owner = people["rep_north"]
    for n, amount in enumerate(["100", "100", "101"]):
        store = create(
            "store",
            name=f"x{n}",
            lat=53.55,
            lon=9.99,
            region="north",
            owner=owner.pk,
            trade_area_type="school",
        )
        Order.objects.create(
            external_id=f"x{n}", store_id=store, order_date=AS_OF, amount=Decimal(amount)
        )

    forecast = sales_forecast(actor=people["hq"], as_of=AS_OF)

    (school,) = forecast.types
    # 301 / 3 = 100.333...; 3 stores x that = 301.00, not 3 x 100.33 = 300.99.
    assert (school.per_store_amount, school.forecast_amount) == (
        Decimal("100.33"),
        Decimal("301.00"),
    )
    assert forecast.total == Decimal("301.00")


@pytest.mark.django_db
def test_forecast_is_two_queries(stores, people, django_assert_num_queries):
    with django_assert_num_queries(2):
        sales_forecast(actor=people["hq"], as_of=AS_OF, region="north", sku="A")


@pytest.mark.django_db
def test_reps_are_refused_and_managers_kept_to_their_region(stores, client_for):
    rep = client_for("rep_north").get("/api/analytics/forecast")
    other = client_for("manager_north").get("/api/analytics/forecast", {"region": "south"})
    unknown = client_for("hq").get("/api/analytics/forecast", {"region": "atlantis"})

    assert rep.status_code == 403
    assert other.status_code == 403
    assert unknown.status_code == 400
    assert "region" in unknown.json()
