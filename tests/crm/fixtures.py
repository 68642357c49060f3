"""A small, hand-computed order history (as of 2026-11-30, window 90 days).

store  orders (date: amount)                        R    F  M     segment
s1     10-30, 11-10, 11-20, 11-28: 100 each          2    4  400   early_growth (R+ F+ M-)
s2     10-01, 10-05, 10-10: 300 each                 51   3  900   head_warning
s3     11-25: 50 (a single order)                    5    1  50    early_growth
s4     11-27, 11-29: 450 each                        1    2  900   mid_growth
s5     06-01, 06-15, 07-01: 100 each                 152  0  0     tail_churn
s6     none                                          -    -  -     "" (no orders)
s7     09-20: 1000                                   71   1  1000  mid_churn
s8     11-15, 11-22, 11-29: 600 each                 1    3  1800  head_active
s9     10-01, 10-02, 10-03: 10 each                  58   3  30    tail_churn (R- F+ M-)
s10    05-01: 20 (a single order)                    213  0  0     tail_churn
s11    04-01: 20 (south)                             243  0  0     tail_churn

Active stores (an order in the window): s1 s2 s3 s4 s7 s8 s9.
Averages: R = 189 / 7 = 27.0, F = 17 / 7 = 2.43, M = 5080 / 7 = 725.71.
"""

import datetime as dt
import uuid
from decimal import Decimal

from crm.orders.models import Order
from tests.conftest import create

AS_OF = dt.date(2026, 11, 30)

HISTORY: dict[str, list[tuple[str, str]]] = {
    "s1": [
        ("2026-10-30", "100"),
        ("2026-11-10", "100"),
        ("2026-11-20", "100"),
        ("2026-11-28", "100"),
    ],
    "s2": [("2026-10-01", "300"), ("2026-10-05", "300"), ("2026-10-10", "300")],
    "s3": [("2026-11-25", "50")],
    "s4": [("2026-11-27", "450"), ("2026-11-29", "450")],
    "s5": [("2026-06-01", "100"), ("2026-06-15", "100"), ("2026-07-01", "100")],
    "s6": [],
    "s7": [("2026-09-20", "1000")],
    "s8": [("2026-11-15", "600"), ("2026-11-22", "600"), ("2026-11-29", "600")],
    "s9": [("2026-10-01", "10"), ("2026-10-02", "10"), ("2026-10-03", "10")],
    "s10": [("2026-05-01", "20")],
    "s11": [("2026-04-01", "20")],
}

EXPECTED_SEGMENTS = {
    "s1": "early_growth",
    "s2": "head_warning",
    "s3": "early_growth",
    "s4": "mid_growth",
    "s5": "tail_churn",
    "s6": "",
    "s7": "mid_churn",
    "s8": "head_active",
    "s9": "tail_churn",
    "s10": "tail_churn",
    "s11": "tail_churn",
}

FULL_SITE = {
    "footfall_weekday": 1000,
    "area_m2": 120.0,
    "equipment": ["microwave", "coffee_machine", "open_chiller", "hot_food_cabinet", "oven"],
    "trade_area_type": "office",
}


def build_history(people) -> dict[str, uuid.UUID]:
    """The stores and orders above; s2, s9 and s10 start as key accounts (grade A)."""
    owners = {"s9": people["rep_north_2"], "s11": people["rep_south"]}
    grades = {"s2": "A", "s9": "A", "s10": "A"}
    stores = {}
    for name in HISTORY:
        owner = owners.get(name, people["rep_north"])
        stores[name] = create(
            "store",
            name=name,
            lat=53.55 if name != "s11" else 48.14,
            lon=9.99 if name != "s11" else 11.58,
            region=owner.region_id,
            owner=owner.pk,
            grade=grades.get(name, ""),
        )
    create("survey", store=stores["s8"], captured_at="2026-10-01T10:00:00Z", **FULL_SITE)
    create("survey", store=stores["s2"], captured_at="2026-10-01T10:00:00Z", **FULL_SITE)
    # An older survey of s5 is superseded by its latest one.
    create("survey", store=stores["s5"], captured_at="2025-01-01T10:00:00Z", **FULL_SITE)
    create(
        "survey",
        store=stores["s5"],
        captured_at="2026-09-01T10:00:00Z",
        footfall_weekday=500,
        area_m2=60.0,
        equipment=["microwave", "freezer"],
        trade_area_type="residential",
    )
    Order.objects.bulk_create(
        Order(
            external_id=f"{name}-{n}",
            store_id=stores[name],
            order_date=dt.date.fromisoformat(day),
            amount=Decimal(amount),
        )
        for name, orders in HISTORY.items()
        for n, (day, amount) in enumerate(orders)
    )
    return stores
