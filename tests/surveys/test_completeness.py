"""Per-survey completeness, scored by the template version each survey was captured with."""

import pytest

from surveys.models import SiteSurvey
from surveys.selectors import scored, survey_completeness
from tests.surveys import scenario


@pytest.fixture
def scene(people):
    return scenario.build(people)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(scenario.EXPECTED))
def test_each_survey_scores_as_computed_by_hand(scene, name):
    survey = SiteSurvey.objects.get(pk=scene["surveys"][name])
    score, missing = scenario.EXPECTED[name]

    result = survey_completeness(survey=survey)

    assert result.score == score
    assert result.missing == missing
    assert result.template_version == scenario.VERSIONS[name]


@pytest.mark.django_db
def test_a_survey_under_an_older_version_is_not_scored_by_the_new_one(scene):
    # B names version 1 and holds all of its items; under version 2 it would lack area,
    # signal, slots, an interior photo whose bytes never came, and GPS in the fence.
    survey = SiteSurvey.objects.get(pk=scene["surveys"]["B"])

    result = survey_completeness(survey=survey)

    assert (result.template_version, result.required_items, result.present_items) == (1, 4, 4)


@pytest.mark.django_db
def test_a_photo_without_bytes_does_not_count(scene):
    result = survey_completeness(survey=SiteSurvey.objects.get(pk=scene["surveys"]["C"]))

    assert "photos.interior" in result.missing
    assert "photos.storefront" not in result.missing
    assert (result.required_items, result.present_items) == (9, 7)


@pytest.mark.django_db
def test_set_based_scores_match_the_per_survey_ones(scene, django_assert_num_queries):
    with django_assert_num_queries(2):  # the templates, then every survey at once
        rows = {
            row["pk"]: row
            for row in scored(SiteSurvey.objects.all()).values("pk", "score", "complete")
        }

    for name, pk in scene["surveys"].items():
        score, missing = scenario.EXPECTED[name]
        got = rows[pk]["score"]
        assert (None if got is None else round(got, 4)) == score, name
        assert rows[pk]["complete"] == (1 if score == 1.0 else 0), name


@pytest.mark.django_db
def test_completeness_endpoint_answers_in_scope_and_404_outside(scene, client_for):
    survey = scene["surveys"]["C"]

    own = client_for("rep_north_2").get(f"/api/surveys/{survey}/completeness")
    other = client_for("rep_north").get(f"/api/surveys/{survey}/completeness")
    south = client_for("manager_south").get(f"/api/surveys/{survey}/completeness")

    assert own.status_code == 200, own.content
    assert own.json() == {
        "survey": str(survey),
        "trade_area_type": "office",
        "template_version": 2,
        "score": round(7 / 9, 4),
        "required_items": 9,
        "present_items": 7,
        "missing": ["area_m2", "photos.interior"],
    }
    assert other.status_code == 404
    assert south.status_code == 404
