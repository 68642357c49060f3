"""The review loop: a verdict reaches the phone, a send-back becomes the rep's task."""

import pytest

from surveys.models import SiteSurvey, SurveyReview
from sync.models import ChangeLog
from tasks.models import Task
from tests.conftest import create
from tests.sync.phone import Phone

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def survey(people):
    store = create(
        "store",
        name="Kiosk am Markt",
        lat=53.55,
        lon=9.99,
        region="north",
        owner=people["rep_north"].pk,
        trade_area_type="office",
    )
    return create("survey", store=store, footfall_weekday=99999, equipment=["microwave"])


def review(client, survey, verdict, **body):
    return client.post(f"/api/surveys/{survey}/review", {"verdict": verdict, **body}, format="json")


def test_reject_fix_approve_end_to_end(people, client_for, survey):
    phone = Phone(client_for("rep_north"))
    phone.pull()
    manager = client_for("manager_north")

    rejected = review(
        manager,
        survey,
        "rejected",
        reasons={"footfall_weekday": ["implausible"]},
        comment="Count the footfall again at lunch.",
    )
    phone.pull()

    assert rejected.status_code == 201, rejected.content
    tasks = list(phone.records("task").values())
    assert len(tasks) == 1
    task = tasks[0]
    assert (task["type"], task["status"], task["assignee"], task["priority"]) == (
        "review_fix",
        "open",
        people["rep_north"].pk,
        1,
    )
    assert "Count the footfall again at lunch." in task["notes"]
    assert "footfall_weekday: implausible" in task["notes"]
    assert phone.records("survey")[str(survey)]["review_status"] == "rejected"
    assert rejected.json()["task"] == task["id"]

    phone.update("survey", str(survey), footfall_weekday=450)
    (pushed,) = phone.push()
    assert pushed["status"] == "applied", pushed

    approved = review(manager, survey, "approved")
    phone.pull()

    assert approved.status_code == 201, approved.content
    assert approved.json()["task"] is None
    record = phone.records("survey")[str(survey)]
    assert (record["review_status"], record["footfall_weekday"]) == ("approved", 450)
    assert phone.records("task")[task["id"]]["status"] == "done"
    history = client_for("rep_north").get(f"/api/surveys/{survey}/reviews").json()["results"]
    assert [(h["verdict"], h["reviewer"]) for h in history] == [
        ("rejected", people["manager_north"].pk),
        ("approved", people["manager_north"].pk),
    ]
    assert history[0]["reasons"] == {"footfall_weekday": ["implausible"]}
    assert history[0]["comment"] == "Count the footfall again at lunch."
    # The verdicts went through the write path: versioned and in the changelog.
    changes = ChangeLog.objects.filter(entity="survey", record_id=survey).order_by("seq")
    assert [c.new_values.get("review_status") for c in changes][-2:] == [None, "approved"]
    assert changes.filter(new_values__review_status="rejected").count() == 1


def test_has_issues_sends_a_normal_priority_task_and_hq_may_review(people, client_for, survey):
    response = review(client_for("hq"), survey, "has_issues", reasons={"photos": ["photo_unclear"]})

    assert response.status_code == 201, response.content
    task = Task.objects.get(pk=response.json()["task"])
    assert (task.type, task.priority, task.assignee_id, task.created_by_id) == (
        "review_fix",
        2,
        people["rep_north"].pk,
        people["hq"].pk,
    )
    assert SiteSurvey.objects.get(pk=survey).review_status == "has_issues"


def test_rep_may_not_review(client_for, survey):
    response = review(client_for("rep_north"), survey, "approved")

    assert response.status_code == 403
    assert SurveyReview.objects.count() == 0
    assert SiteSurvey.objects.get(pk=survey).review_status == "pending"


def test_manager_of_another_region_gets_404(client_for, survey):
    response = review(client_for("manager_south"), survey, "rejected")
    history = client_for("manager_south").get(f"/api/surveys/{survey}/reviews")

    assert response.status_code == 404
    assert history.status_code == 404
    assert SurveyReview.objects.count() == 0
    assert Task.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "error_key"),
    [
        ({"verdict": "maybe"}, "verdict"),
        ({"verdict": "rejected", "reasons": {"colour": ["other"]}}, "reasons"),
        ({"verdict": "rejected", "reasons": {"notes": ["rude"]}}, "reasons"),
        ({"verdict": "rejected", "reasons": ["missing"]}, "reasons"),
        ({"verdict": "pending"}, "verdict"),
        ({"verdict": "approved", "score": 1}, "score"),
        # Sent back without a reason: the rep would not know what to fix.
        ({"verdict": "rejected"}, "reasons"),
        ({"verdict": "has_issues", "reasons": {}}, "reasons"),
        ({"verdict": "has_issues", "reasons": {"general": []}}, "reasons"),
        ({"verdict": "has_issues", "comment": "Redo it."}, "reasons"),
        # `other` says what in the comment.
        ({"verdict": "rejected", "reasons": {"general": ["other"]}}, "comment"),
        ({"verdict": "rejected", "reasons": {"notes": ["other"]}, "comment": "  "}, "comment"),
        # The old codes are not DOMAIN.md's.
        ({"verdict": "rejected", "reasons": {"general": ["photo_missing"]}}, "reasons"),
    ],
)
def test_bad_reviews_are_400_and_change_nothing(client_for, survey, body, error_key):
    response = client_for("manager_north").post(
        f"/api/surveys/{survey}/review", body, format="json"
    )

    assert response.status_code == 400
    assert error_key in response.json()
    assert SurveyReview.objects.count() == 0
    assert Task.objects.count() == 0
    assert SiteSurvey.objects.get(pk=survey).version == 1


def test_unowned_store_gets_no_task(people, client_for):
    store = create("store", name="Nobody's", lat=53.55, lon=9.99, region="north")
    survey = create("survey", store=store)

    response = review(
        client_for("manager_north"), survey, "rejected", reasons={"general": ["wrong_store"]}
    )

    assert response.status_code == 201, response.content
    assert response.json()["task"] is None
    assert Task.objects.count() == 0


@pytest.mark.parametrize(
    "reasons",
    [
        {"general": ["missing", "implausible", "photo_unclear"]},
        {"gps": ["outside_geofence"], "general": ["wrong_store"]},
        {"photos": ["photo_unclear"], "area_m2": ["other"]},
    ],
)
def test_every_domain_reason_is_accepted_and_reaches_the_fix_task(
    people, client_for, survey, reasons
):
    response = review(
        client_for("manager_north"), survey, "has_issues", reasons=reasons, comment="See notes."
    )

    assert response.status_code == 201, response.content
    task = Task.objects.get(pk=response.json()["task"])
    for name, codes in reasons.items():
        assert f"{name}: {', '.join(codes)}" in task.notes
    assert "See notes." in task.notes


def test_the_review_rules_hold_for_the_service_too(people, survey):
    """The rules are the service's, not the serializer's: the HQ page calls it directly."""
    from surveys.services import ReviewInvalid, survey_review

    record = SiteSurvey.objects.get(pk=survey)
    with pytest.raises(ReviewInvalid) as raised:
        survey_review(actor=people["manager_north"], survey=record, verdict="rejected", reasons={})

    assert list(raised.value.errors) == ["reasons"]
    assert SurveyReview.objects.count() == 0
    assert Task.objects.count() == 0
    assert SiteSurvey.objects.get(pk=survey).version == 1
