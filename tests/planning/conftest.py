"""A small region to plan: north's two reps with eight stores each, south's rep with two."""

import datetime as dt

import pytest

from tests.conftest import create

MONDAY = dt.date(2026, 12, 7)  # the Monday after the tests' TODAY (Friday 2026-12-04)
HAMBURG = (53.55, 9.99)
GRADES = "AABBBCCC"


@pytest.fixture
def plan_stores(people, frozen_today):
    """North: per rep, 2 A, 3 B and 3 C stores within a kilometre or two of each other;
    one weekend-only store; a prospect and a churned store (not planned). South: two."""
    made = {"rep_north": [], "rep_north_2": [], "rep_south": [], "other": {}}
    for who, shift in (("rep_north", 0.0), ("rep_north_2", 0.05)):
        for n, grade in enumerate(GRADES):
            made[who].append(
                create(
                    "store",
                    name=f"{who} {n}",
                    lat=HAMBURG[0] + shift + 0.002 * n,
                    lon=HAMBURG[1] + 0.003 * (n % 3),
                    region="north",
                    owner=people[who].pk,
                    status="active",
                    grade=grade,
                )
            )
    rep = people["rep_north"].pk
    made["other"]["weekend"] = create(
        "store",
        name="Weekend kiosk",
        lat=HAMBURG[0],
        lon=HAMBURG[1],
        region="north",
        owner=rep,
        status="active",
        grade="B",
        opening_hours={"sat": [["08:00", "20:00"]], "sun": [["10:00", "18:00"]]},
    )
    made["other"]["prospect"] = create(
        "store",
        name="Prospect",
        lat=HAMBURG[0],
        lon=HAMBURG[1],
        region="north",
        owner=rep,
        status="prospect",
    )
    made["other"]["churned"] = create(
        "store",
        name="Closed",
        lat=HAMBURG[0],
        lon=HAMBURG[1],
        region="north",
        owner=rep,
        status="churned",
        grade="A",
    )
    for n in range(2):
        made["rep_south"].append(
            create(
                "store",
                name=f"south {n}",
                lat=48.14,
                lon=11.58,
                region="south",
                owner=people["rep_south"].pk,
                status="active",
                grade="A",
            )
        )
    return made
