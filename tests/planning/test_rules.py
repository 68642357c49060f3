"""Plan rules per region: managers their region's, HQ all; defaults until set."""

import pytest

from planning.models import PlanRules

pytestmark = pytest.mark.django_db

NORTH = {
    "region": "north",
    "frequency_weeks": {"A": 1, "B": 2, "C": 6},
    "prospect_weeks": 8,
    "visit_minutes": {"A": 40, "B": 25, "C": 15},
    "day_minutes": 450,
    "work_days": [1, 2, 3, 4, 5, 6],
    "travel_kmh": 30.0,
    "holidays": ["2026-12-25", "2026-12-24"],
}


def test_a_region_without_rules_shows_the_defaults(client_for):
    response = client_for("manager_north").get("/api/plans/rules")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "region": "north",
            "frequency_weeks": {"A": 1, "B": 2, "C": 4},
            "prospect_weeks": 0,
            "visit_minutes": {"A": 30, "B": 20, "C": 15},
            "day_minutes": 420,
            "work_days": [1, 2, 3, 4, 5],
            "travel_kmh": 25.0,
            "holidays": [],
        }
    ]


def test_a_manager_sets_their_regions_rules_and_hq_sees_every_region(client_for):
    response = client_for("manager_north").put("/api/plans/rules", NORTH, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == NORTH | {"holidays": ["2026-12-24", "2026-12-25"]}
    listed = client_for("hq").get("/api/plans/rules").json()["results"]
    assert [r["region"] for r in listed] == ["north", "south"]
    assert listed[0]["day_minutes"] == 450
    assert listed[1]["day_minutes"] == 420


@pytest.mark.parametrize(
    ("who", "body", "code"),
    [
        ("manager_south", NORTH, 404),
        ("rep_north", NORTH, 403),
        ("manager_north", NORTH | {"frequency_weeks": {"A": 1}}, 400),
        ("manager_north", NORTH | {"visit_minutes": {"A": 0, "B": 1, "C": 1}}, 400),
        ("manager_north", NORTH | {"work_days": [0]}, 400),
        ("manager_north", NORTH | {"work_days": []}, 400),
        ("manager_north", NORTH | {"holidays": ["25.12.2026"]}, 400),
        ("manager_north", NORTH | {"travel_kmh": "fast"}, 400),
    ],
)
def test_bad_rules_are_refused_and_change_nothing(client_for, who, body, code):
    response = client_for(who).put("/api/plans/rules", body, format="json")

    assert response.status_code == code, response.content
    assert not PlanRules.objects.exists()


def test_rules_apply_to_the_next_generation(client_for, plan_stores):
    manager = client_for("manager_north")
    manager.put(
        "/api/plans/rules", NORTH | {"frequency_weeks": {"A": 2, "B": 4, "C": 4}}, format="json"
    )

    body = manager.post(
        "/api/plans/generate",
        {"region": "north", "start": "2026-12-07", "weeks": 4, "dry_run": True},
        format="json",
    ).json()

    # Per rep 2 A x 2 + 3 B x 1 + 3 C x 1 = 10; the weekend store opens Saturdays now.
    assert body["required"] == 2 * 10 + 1 + 1  # + the prospect every 8 weeks
    assert body["unplanned"] == []
