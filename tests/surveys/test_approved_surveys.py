"""An approved survey feeds money and reports: a rep's edit sends it back to review, and a
rep may not delete it — on REST, push and WatermelonDB alike."""

import uuid

import pytest

from surveys.models import Photo, SiteSurvey
from sync.models import ChangeLog
from tests.sync.test_watermelon import Device

pytestmark = pytest.mark.django_db(transaction=True)


def approve(client_for, survey_id) -> None:
    response = client_for("manager_north").post(
        f"/api/surveys/{survey_id}/review", {"verdict": "approved"}, format="json"
    )
    assert response.status_code in (200, 201), response.content
    assert SiteSurvey.objects.get(pk=survey_id).review_status == "approved"


def push(client, *mutations) -> list[dict]:
    response = client.post(
        "/api/sync/push",
        {
            "device_id": "phone-1",
            "mutations": [{"mutation_id": str(uuid.uuid4()), **m} for m in mutations],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_reps_rest_edit_of_an_approved_survey_sends_it_back_to_review(client_for, world):
    survey = world["rep_north"]["survey"]
    approve(client_for, survey)

    response = client_for("rep_north").patch(
        f"/api/surveys/{survey}/", {"footfall_weekday": 9000}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["review_status"] == "pending"
    stored = SiteSurvey.objects.get(pk=survey)
    assert (stored.footfall_weekday, stored.review_status) == (9000, "pending")


def test_a_reps_pushed_edit_of_an_approved_survey_sends_it_back_to_review(client_for, world):
    survey = world["rep_north"]["survey"]
    approve(client_for, survey)
    version = SiteSurvey.objects.get(pk=survey).version

    (result,) = push(
        client_for("rep_north"),
        {
            "entity": "survey",
            "op": "update",
            "record_id": str(survey),
            "base_version": version,
            "fields": {"area_m2": 400.0},
        },
    )

    assert result["status"] == "applied"
    assert result["record"]["review_status"] == "pending"
    assert SiteSurvey.objects.get(pk=survey).review_status == "pending"


def test_hq_corrections_keep_the_verdict(client_for, world):
    survey = world["rep_north"]["survey"]
    approve(client_for, survey)

    response = client_for("hq").patch(f"/api/surveys/{survey}/", {"notes": "typo"}, format="json")

    assert response.status_code == 200
    assert SiteSurvey.objects.get(pk=survey).review_status == "approved"


def test_a_reps_rest_delete_of_an_approved_survey_is_409_and_changes_nothing(client_for, world):
    survey = world["rep_north"]["survey"]
    approve(client_for, survey)
    before = SiteSurvey.objects.values().get(pk=survey)
    logged = ChangeLog.objects.count()

    response = client_for("rep_north").delete(f"/api/surveys/{survey}/")

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "survey_approved"
    assert "approved" in body["detail"]
    assert "manager" in body["detail"]
    assert SiteSurvey.objects.values().get(pk=survey) == before
    assert ChangeLog.objects.count() == logged


def test_a_reps_delete_of_an_unreviewed_survey_still_applies(client_for, world):
    survey = world["rep_north"]["survey"]

    response = client_for("rep_north").delete(f"/api/surveys/{survey}/")

    assert response.status_code == 204
    assert SiteSurvey.objects.get(pk=survey).deleted is True


def test_a_pushed_delete_of_an_approved_survey_is_rejected_with_a_code(client_for, world):
    """Not a 500, and the push's other mutations apply."""
    mine = world["rep_north"]
    approve(client_for, mine["survey"])

    refused, applied = push(
        client_for("rep_north"),
        {"entity": "survey", "op": "delete", "record_id": str(mine["survey"])},
        {
            "entity": "followup",
            "op": "update",
            "record_id": str(mine["followup"]),
            "base_version": 1,
            "fields": {"note": "still applied"},
        },
    )

    assert refused["status"] == "rejected"
    assert refused["code"] == "survey_approved"
    assert "approved" in refused["errors"]["detail"]
    assert applied["status"] == "applied"
    assert SiteSurvey.objects.get(pk=mine["survey"]).deleted is False


def test_watermelon_delete_of_an_approved_survey_is_refused_and_an_edit_goes_to_review(
    client_for, world
):
    mine = world["rep_north"]
    approve(client_for, mine["survey"])
    phone = Device(client_for("rep_north"))
    phone.pull()

    response = phone.push(
        {
            "surveys": {
                "deleted": [str(mine["survey"])],
            }
        }
    )

    assert response.status_code == 409, response.content
    (refusal,) = response.json()["rejected"]
    assert (refusal["id"], refusal["code"]) == (str(mine["survey"]), "survey_approved")
    assert SiteSurvey.objects.get(pk=mine["survey"]).deleted is False

    response = phone.push(
        {"surveys": {"updated": [phone.row("surveys", mine["survey"], footfall_weekday=5000)]}}
    )

    assert response.status_code == 200, response.content
    assert SiteSurvey.objects.get(pk=mine["survey"]).review_status == "pending"


def test_a_photo_of_an_approved_survey_is_kept_from_a_reps_delete(client_for, world):
    mine = world["rep_north"]
    approve(client_for, mine["survey"])

    response = client_for("rep_north").delete(f"/api/photos/{mine['photo']}/")
    (result,) = push(
        client_for("rep_north"),
        {"entity": "photo", "op": "delete", "record_id": str(mine["photo"])},
    )

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "survey_approved"
    assert (result["status"], result["code"]) == ("rejected", "survey_approved")
    assert Photo.objects.get(pk=mine["photo"]).deleted is False
    assert client_for("hq").delete(f"/api/photos/{mine['photo']}/").status_code == 204
