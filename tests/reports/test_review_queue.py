"""The review queue: pending surveys in scope, least complete first, paginated."""

import pytest

from tests.surveys import scenario


@pytest.fixture
def scene(people):
    return scenario.build(people)


def ids(scene, *names):
    return [str(scene["surveys"][name]) for name in names]


@pytest.mark.django_db
def test_manager_queue_is_sorted_by_score_and_scoped(scene, client_for):
    response = client_for("manager_north").get("/api/reports/review-queue")

    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    # H unscored first; then E .5 (3 days) and F .5 (400 days) by capture time; A .75
    # (200 days) before D .75 (1 day); C 7/9; B 1. G is south.
    assert [row["id"] for row in rows] == ids(scene, "H", "F", "E", "A", "D", "C", "B")
    assert [row["score"] for row in rows] == [None, 0.5, 0.5, 0.75, 0.75, 7 / 9, 1.0]
    first = rows[1]
    assert (first["store_name"], first["trade_area_type"], first["template_version"]) == (
        "Kiosk 5",
        "residential",
        1,
    )


@pytest.mark.django_db
def test_reviewed_surveys_leave_the_queue(scene, client_for):
    manager = client_for("manager_north")
    posted = manager.post(
        f"/api/surveys/{scene['surveys']['H']}/review", {"verdict": "approved"}, format="json"
    )

    rows = manager.get("/api/reports/review-queue").json()["results"]

    assert posted.status_code == 201, posted.content
    assert str(scene["surveys"]["H"]) not in [row["id"] for row in rows]
    assert len(rows) == 6


@pytest.mark.django_db
def test_queue_pages(scene, client_for):
    hq = client_for("hq")

    first = hq.get("/api/reports/review-queue", {"page_size": 5}).json()
    second = hq.get("/api/reports/review-queue", {"page_size": 5, "page": 2}).json()

    assert first["count"] == 8
    assert len(first["results"]) == 5
    assert len(second["results"]) == 3
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


@pytest.mark.django_db
def test_reps_have_no_queue(scene, client_for):
    assert client_for("rep_north").get("/api/reports/review-queue").status_code == 403
