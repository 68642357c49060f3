"""Survey templates: HQ creates versions; a new version leaves the old ones as they were."""

import pytest

from surveys.models import SiteSurvey, SurveyTemplate
from tests.conftest import create, push_one

OFFICE = {
    "trade_area_type": "office",
    "required_fields": ["footfall_weekday", "equipment"],
    "conditional_fields": [
        {"field": "footfall_slots", "when": {"field": "trade_area_type", "in": ["transit"]}}
    ],
    "min_photos": {"storefront": 1, "interior": 1},
    "gps_within_geofence": True,
}


@pytest.mark.django_db
def test_hq_creates_versions_and_earlier_ones_stay(client_for, people):
    hq = client_for("hq")

    first = hq.post("/api/survey-templates/", OFFICE, format="json")
    second = hq.post(
        "/api/survey-templates/", {**OFFICE, "required_fields": ["area_m2"]}, format="json"
    )
    listed = hq.get("/api/survey-templates/", {"trade_area_type": "office"})

    assert first.status_code == 201, first.content
    assert second.status_code == 201, second.content
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert first.json()["conditional_fields"] == OFFICE["conditional_fields"]
    assert first.json()["created_by"] == people["hq"].pk
    v1 = SurveyTemplate.objects.get(trade_area_type="office", version=1)
    assert v1.required_fields == ["footfall_weekday", "equipment"]
    assert [row["version"] for row in listed.json()["results"]] == [2, 1]


@pytest.mark.django_db
def test_hq_cannot_date_a_version_into_the_past(client_for):
    """Only data loads (the demo seed) date a version back, through the service."""
    response = client_for("hq").post(
        "/api/survey-templates/", {**OFFICE, "created_at": "2020-01-01T00:00:00Z"}, format="json"
    )

    assert response.status_code == 400
    assert "created_at" in response.json()
    assert not SurveyTemplate.objects.exists()


@pytest.mark.django_db
def test_versions_count_per_trade_area_type(client_for):
    hq = client_for("hq")
    hq.post("/api/survey-templates/", OFFICE, format="json")

    transit = hq.post(
        "/api/survey-templates/", {**OFFICE, "trade_area_type": "transit"}, format="json"
    )

    assert transit.json()["version"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["rep_north", "manager_north"])
def test_only_hq_lists_or_creates_templates(client_for, who):
    client = client_for(who)

    assert client.get("/api/survey-templates/").status_code == 403
    assert client.post("/api/survey-templates/", OFFICE, format="json").status_code == 403
    assert SurveyTemplate.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "error_key"),
    [
        ({"required_fields": ["no_such_field"]}, "required_fields"),
        ({"min_photos": {"attic": 1}}, "min_photos"),
        ({"min_photos": {"storefront": -1}}, "min_photos"),
        ({"trade_area_type": "moon"}, "trade_area_type"),
        (
            {"conditional_fields": [{"field": "notes", "when": {"field": "notes", "in": ["x"]}}]},
            "conditional_fields",
        ),
        (
            {
                "conditional_fields": [
                    {"field": "notes", "when": {"field": "trade_area_type", "in": ["moon"]}}
                ]
            },
            "conditional_fields",
        ),
        ({"version": 7}, "version"),
    ],
)
def test_bad_templates_are_400_and_create_nothing(client_for, change, error_key):
    response = client_for("hq").post("/api/survey-templates/", {**OFFICE, **change}, format="json")

    assert response.status_code == 400
    assert error_key in response.json()
    assert SurveyTemplate.objects.count() == 0


@pytest.mark.django_db
def test_template_version_is_a_wire_field_reps_write(people, client_for):
    store = create(
        "store", name="Kiosk", lat=53.55, lon=9.99, region="north", owner=people["rep_north"].pk
    )
    survey = create("survey", store=store)

    result = push_one(
        people["rep_north"],
        "survey",
        "update",
        survey,
        base_version=1,
        fields={"template_version": 3},
    )
    wire = client_for("rep_north").get(f"/api/surveys/{survey}/").json()

    assert result.status == "applied", result
    assert SiteSurvey.objects.get(pk=survey).template_version == 3
    assert wire["template_version"] == 3
