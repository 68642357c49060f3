"""Completeness aggregated by region, rep and trade-area type, against the per-survey scores."""

from collections import defaultdict

import pytest

from accounts.models import User
from reports.selectors import GroupBy, completeness_report
from surveys.models import SiteSurvey
from surveys.selectors import survey_completeness
from tests.surveys import scenario

# survey -> (region, rep, trade-area type scored as), and store -> the same for stores.
SURVEY_GROUPS = {
    "A": ("north", "rep-north-1", "office"),
    "B": ("north", "rep-north-1", "office"),
    "C": ("north", "rep-north-2", "office"),
    "D": ("north", "rep-north-1", "office"),
    "E": ("north", "rep-north-1", "residential"),
    "F": ("north", "rep-north-2", "residential"),
    "G": ("south", "rep-south-1", "office"),
    "H": ("north", "rep-north-2", "school"),
}
STORE_GROUPS = {
    "S1": ("north", "rep-north-1", "office"),
    "S2": ("north", "rep-north-2", "office"),
    "S3": ("north", "rep-north-1", "residential"),
    "S4": ("north", "rep-north-1", "office"),
    "S5": ("north", "rep-north-2", "residential"),
    "S6": ("south", "rep-south-1", "office"),
}
WITHOUT, STALE = {"S4"}, {"S5"}
AXIS = {GroupBy.REGION: 0, GroupBy.REP: 1, GroupBy.TRADE_AREA_TYPE: 2}


@pytest.fixture
def scene(people):
    return scenario.build(people)


def expected_rows(scores: dict[str, float | None], group_by: GroupBy, region: str | None):
    axis = AXIS[group_by]
    rows: dict[str, dict] = defaultdict(
        lambda: {
            "surveys": 0,
            "scores": [],
            "complete": 0,
            "missing_photos": 0,
            "stores_without_survey": 0,
            "stores_with_stale_survey": 0,
        }
    )
    for name, groups in SURVEY_GROUPS.items():
        if region and groups[0] != region:
            continue
        row = rows[groups[axis]]
        row["surveys"] += 1
        if scores[name] is not None:
            row["scores"].append(scores[name])
        row["complete"] += scores[name] == 1.0
        row["missing_photos"] += any(m.startswith("photos.") for m in scenario.EXPECTED[name][1])
    for name, groups in STORE_GROUPS.items():
        if region and groups[0] != region:
            continue
        row = rows[groups[axis]]
        row["stores_without_survey"] += name in WITHOUT
        row["stores_with_stale_survey"] += name in STALE
    result = []
    for group in sorted(rows):
        row = rows[group]
        values = row.pop("scores")
        average = round(sum(values) / len(values), 4) if values else None
        result.append({"group": group, **row, "average_score": average})
    return result


def per_survey_scores(scene) -> dict[str, float | None]:
    surveys = SiteSurvey.objects.in_bulk(list(scene["surveys"].values()))
    return {
        name: survey_completeness(survey=surveys[pk]).score for name, pk in scene["surveys"].items()
    }


@pytest.mark.django_db
@pytest.mark.parametrize("group_by", list(GroupBy))
def test_hq_aggregates_match_the_per_survey_scores(scene, people, group_by):
    scores = per_survey_scores(scene)
    assert scores == {name: score for name, (score, _m) in scenario.EXPECTED.items()}

    rows = completeness_report(actor=people["hq"], group_by=group_by)

    got = [row.__dict__ for row in rows]
    for row in got:
        row["average_score"] = (
            None if row["average_score"] is None else round(row["average_score"], 4)
        )
    want = expected_rows(scores, group_by, region=None)
    assert [row["group"] for row in got] == [row["group"] for row in want]
    for mine, theirs in zip(got, want, strict=True):
        assert mine["average_score"] == pytest.approx(theirs.pop("average_score"), abs=1e-4)
        mine.pop("average_score")
        assert mine == theirs


@pytest.mark.django_db
def test_region_figures_by_hand(scene, people):
    rows = {row.group: row for row in completeness_report(actor=people["hq"], group_by="region")}

    north = rows["north"]
    assert (north.surveys, north.complete, north.missing_photos) == (7, 1, 1)
    # A .75, B 1, C 7/9, D .75, E .5, F .5; H has no template and no score.
    assert north.average_score == pytest.approx((0.75 + 1 + 7 / 9 + 0.75 + 0.5 + 0.5) / 6, abs=1e-4)
    assert (north.stores_without_survey, north.stores_with_stale_survey) == (1, 1)
    assert (rows["south"].surveys, rows["south"].average_score, rows["south"].complete) == (
        1,
        1.0,
        1,
    )


@pytest.mark.django_db
def test_the_report_is_a_fixed_number_of_queries(scene, people, django_assert_num_queries):
    with django_assert_num_queries(3):  # templates, surveys grouped, stores grouped
        completeness_report(actor=people["hq"], group_by=GroupBy.REP)


@pytest.mark.django_db
def test_stale_age_is_a_setting(scene, people, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "STALE_SURVEY_DAYS": 4}

    rows = {row.group: row for row in completeness_report(actor=people["hq"], group_by="region")}

    # S1 (latest 1 day), S2 (1 day) stay fresh; S3 (3 days) too; S5 (400 days) is stale.
    assert rows["north"].stores_with_stale_survey == 1
    assert rows["south"].stores_with_stale_survey == 0  # S6 at 2 days
    settings.FIELDLINE = {**settings.FIELDLINE, "STALE_SURVEY_DAYS": 2}
    rows = {row.group: row for row in completeness_report(actor=people["hq"], group_by="region")}
    assert rows["north"].stores_with_stale_survey == 2  # S3 now too


@pytest.mark.django_db
def test_manager_sees_their_region_only(scene, client_for):
    response = client_for("manager_north").get(
        "/api/reports/completeness", {"group_by": "trade_area_type"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["group_by"] == "trade_area_type"
    assert body["stale_survey_days"] == 180
    office = next(row for row in body["results"] if row["group"] == "office")
    # North office surveys: A .75, B 1, C 7/9, D .75 (G is south).
    assert office["surveys"] == 4
    assert office["average_score"] == pytest.approx((0.75 + 1 + 7 / 9 + 0.75) / 4, abs=1e-4)
    assert office["stores_without_survey"] == 1
    assert [row["group"] for row in body["results"]] == ["office", "residential", "school"]


@pytest.mark.django_db
def test_report_roles_and_bad_grouping(scene, client_for):
    rep = client_for("rep_north").get("/api/reports/completeness", {"group_by": "region"})
    bad = client_for("hq").get("/api/reports/completeness", {"group_by": "colour"})
    missing = client_for("hq").get("/api/reports/completeness")

    assert rep.status_code == 403
    assert bad.status_code == 400
    assert "group_by" in bad.json()
    assert missing.status_code == 400


@pytest.mark.django_db
def test_rep_grouping_names_reps(scene, people):
    rows = completeness_report(actor=people["manager_north"], group_by=GroupBy.REP)

    assert [(row.group, row.surveys) for row in rows] == [("rep-north-1", 4), ("rep-north-2", 3)]
    assert User.objects.filter(username__in=[r.group for r in rows]).count() == 2
