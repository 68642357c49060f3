"""The HQ pages through the test client: who may see them, what they show, and that bad
input gets a page with the error and changes nothing."""

import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from crm.models import Order
from reports.selectors import GroupBy, completeness_report
from surveys.models import SiteSurvey, SurveyReview
from tasks.models import Dispatch, Task
from tests.conftest import PASSWORD, create
from tests.surveys import scenario

PAGES = [
    "/hq/",
    "/hq/map/",
    "/hq/map/stores.json",
    "/hq/review/",
    "/hq/dispatch/",
    "/hq/analytics/",
    "/hq/exports/",
    "/hq/devices/",
]


@pytest.fixture
def scene(people):
    return scenario.build(people)


def browser(user: User | None = None, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- access -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(path, people):
    response = browser().get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/hq/login/?next=")


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_a_logged_in_rep_gets_a_page_saying_why_not(path, people):
    response = browser(people["rep_north"]).get(path)

    assert response.status_code == 403
    assert "Reps work in the Fieldline phone app" in text(response)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["manager_north", "hq"])
@pytest.mark.parametrize("path", PAGES)
def test_office_users_see_every_page(path, who, scene, people):
    assert browser(people[who]).get(path).status_code == 200


@pytest.mark.django_db
def test_login_lets_office_users_in_and_refuses_reps(people):
    client = browser()
    rep = client.post("/hq/login/", {"username": "rep-north-1", "password": PASSWORD})
    wrong = client.post("/hq/login/", {"username": "hq", "password": "nope"})
    manager = client.post(
        "/hq/login/?next=/hq/review/",
        {"username": "manager-north", "password": PASSWORD, "next": "/hq/review/"},
    )

    assert rep.status_code == 200
    assert "Reps work in the Fieldline phone app" in text(rep)
    assert wrong.status_code == 200
    assert "Please enter a correct" in text(wrong)
    assert (manager.status_code, manager["Location"]) == (302, "/hq/review/")
    assert client.get("/hq/review/").status_code == 200


@pytest.mark.django_db
def test_login_failures_share_the_token_apis_brake(people, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "LOGIN_FAILURE_LIMIT": 2}
    client = browser()
    for _ in range(2):
        client.post("/hq/login/", {"username": "hq", "password": "nope"})

    locked = client.post("/hq/login/", {"username": "hq", "password": PASSWORD})

    assert "Too many failed logins" in text(locked)
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_posts_need_the_csrf_token(scene, people):
    client = browser(people["hq"], csrf=True)
    survey = scene["surveys"]["A"]

    refused = client.post(f"/hq/review/{survey}/", {"verdict": "approved"})
    page = client.get("/hq/review/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    accepted = client.post(
        f"/hq/review/{survey}/", {"verdict": "approved", "csrfmiddlewaretoken": token}
    )

    assert refused.status_code == 403
    assert accepted.status_code == 302
    assert SiteSurvey.objects.get(pk=survey).review_status == "approved"


# --- dashboard and map ------------------------------------------------------------------


def row_cells(html: str, group: str) -> list[str]:
    match = re.search(rf'<th scope="row">{re.escape(group)}</th>(.*?)</tr>', html)
    assert match, group
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", match[1])
    ]


def percent(score: float | None) -> str:
    return "–" if score is None else f"{round(score * 100)}%"


@pytest.mark.django_db
def test_dashboard_shows_the_reports_figures(scene, people):
    html = text(browser(people["hq"]).get("/hq/"))

    for group_by in GroupBy:
        for row in completeness_report(actor=people["hq"], group_by=group_by):
            if row.group is None:
                continue
            assert row_cells(html, row.group) == [
                str(row.surveys),
                percent(row.average_score),
                str(row.complete),
                str(row.missing_photos),
                str(row.stores_without_survey),
                str(row.stores_with_stale_survey),
            ], (group_by, row.group)
    # By hand: the north region has one store never surveyed (Kiosk 4), one stale (Kiosk 5).
    north = row_cells(html, "north")
    assert (north[4], north[5]) == ("1", "1")
    assert "<td>Kiosk 4</td><td>north</td><td>rep-north-1</td><td>none</td>" in html
    assert "<td>Kiosk 5</td><td>north</td><td>rep-north-2</td><td>stale</td>" in html


@pytest.mark.django_db
def test_a_manager_sees_only_their_region(scene, people):
    client = browser(people["manager_north"])
    dashboard = text(client.get("/hq/"))
    stores = client.get("/hq/map/stores.json").json()["features"]
    queue = text(client.get("/hq/review/"))

    assert '<th scope="row">north</th>' in dashboard
    assert '<th scope="row">south</th>' not in dashboard
    assert "Kiosk 6" not in dashboard
    assert {f["properties"]["region"] for f in stores} == {"north"}
    assert str(scene["surveys"]["G"]) not in queue
    assert str(scene["surveys"]["A"]) in queue


@pytest.mark.django_db
def test_map_data_colours_each_store_by_its_latest_survey(scene, people):
    features = browser(people["hq"]).get("/hq/map/stores.json").json()["features"]
    by_id = {f["id"]: f["properties"] for f in features}

    assert len(features) == 6
    assert by_id[str(scene["stores"]["S4"])]["band"] == "none"
    assert by_id[str(scene["stores"]["S5"])]["band"] == "stale"
    assert by_id[str(scene["stores"]["S6"])]["band"] == "complete"
    assert {f["geometry"]["type"] for f in features} == {"Point"}


# --- review queue -----------------------------------------------------------------------


@pytest.mark.django_db
def test_review_queue_is_sorted_by_score(scene, people):
    html = text(browser(people["hq"]).get("/hq/review/"))
    order = re.findall(r'data-survey="([0-9a-f-]{36})"', html)
    names = {str(pk): name for name, pk in scene["surveys"].items()}
    scores = [scenario.EXPECTED[names[pk]][0] for pk in order]

    assert set(order) == {str(pk) for pk in scene["surveys"].values()}
    assert scores[0] is None
    assert scores[1:] == sorted(scores[1:])


@pytest.mark.django_db
def test_sending_a_survey_back_goes_through_the_review_service(scene, people):
    survey = scene["surveys"]["C"]
    response = browser(people["manager_north"]).post(
        f"/hq/review/{survey}/",
        {"verdict": "has_issues", "reason": "photo_unclear", "comment": "Photo missing"},
    )

    assert response.status_code == 302
    review = SurveyReview.objects.get(survey=survey)
    assert (review.verdict, review.comment, review.reviewer) == (
        "has_issues",
        "Photo missing",
        people["manager_north"],
    )
    record = SiteSurvey.objects.get(pk=survey)
    assert (record.review_status, record.version) == ("has_issues", 2)
    assert review.reasons == {"general": ["photo_unclear"]}
    task = Task.objects.get(pk=review.task_id)
    assert task.type == "review_fix"
    assert "general: photo_unclear" in task.notes


@pytest.mark.django_db
def test_bad_or_foreign_verdicts_change_nothing(scene, people):
    client = browser(people["manager_north"])
    bad = client.post(f"/hq/review/{scene['surveys']['A']}/", {"verdict": "lovely"})
    foreign = client.post(f"/hq/review/{scene['surveys']['G']}/", {"verdict": "approved"})
    unknown = client.post(f"/hq/review/{uuid.uuid4()}/", {"verdict": "approved"})
    get = client.get(f"/hq/review/{scene['surveys']['A']}/")

    assert bad.status_code == 400
    assert "Select a valid choice" in text(bad)
    assert f'data-survey="{scene["surveys"]["A"]}" class="failed"' in text(bad)
    assert (foreign.status_code, unknown.status_code, get.status_code) == (404, 404, 405)
    assert not SurveyReview.objects.exists()
    assert set(SiteSurvey.objects.values_list("review_status", flat=True)) == {"pending"}


# --- dispatch ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_dispatch_dry_run_then_dispatch(scene, people):
    client = browser(people["manager_north"])
    form = {
        "trade_area_type": ["office"],
        "task_type": "visit",
        "title": "Bring samples",
        "priority": "2",
    }

    preview = client.post("/hq/dispatch/", {**form, "action": "preview"})
    assert preview.status_code == 200
    assert re.search(r'id="preview-count">3<', preview.content.decode())  # Kiosk 1, 2, 4
    assert not Dispatch.objects.exists()

    done = client.post("/hq/dispatch/", {**form, "action": "dispatch"})
    assert done.status_code == 302
    dispatch = Dispatch.objects.get()
    assert dispatch.task_count == 3
    assert dispatch.store_filter == {"trade_area_type": ["office"]}
    tasks = Task.objects.filter(dispatch=dispatch)
    assert {t.store_id for t in tasks} == {scene["stores"][s] for s in ("S1", "S2", "S4")}
    assert "Dispatched 3 task(s)." in text(client.get("/hq/dispatch/"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"footfall_min": "50", "footfall_max": "10"}, "Below footfall_min."),
        ({"footfall_min": "-3"}, "greater than or equal to 0"),
        ({"grade": ["Z"]}, "Select a valid choice"),
        ({"region": ["south"]}, "Select a valid choice"),  # not the manager's region
        ({"due_date": "tomorrow"}, "Enter a valid date."),
        ({"task_type": "party"}, "Select a valid choice"),
    ],
)
def test_dispatch_form_errors_are_shown_and_nothing_is_created(scene, people, fields, message):
    form = {"task_type": "visit", "title": "Bring samples", "priority": "2", "action": "dispatch"}

    response = browser(people["manager_north"]).post("/hq/dispatch/", {**form, **fields})

    assert response.status_code == 400
    assert message in text(response)
    assert not Dispatch.objects.exists()


@pytest.mark.django_db
def test_dashboard_link_prefills_the_dispatch_form(scene, people):
    response = browser(people["hq"]).get(
        "/hq/dispatch/?no_survey_days=180&task_type=survey&title=Site+survey"
    )

    assert 'name="no_survey_days" value="180"' in text(response)
    assert 'value="Site survey"' in text(response)


# --- analytics --------------------------------------------------------------------------


@pytest.mark.django_db
def test_analytics_charts_segments_and_marks_anomalies(people):
    store = create(
        "store",
        name="Corner",
        lat=53.5,
        lon=9.9,
        region="north",
        owner=people["rep_north"].pk,
        segment="head_active",
    )
    create("store", name="Other", lat=53.5, lon=9.9, region="north", segment="tail_churn")

    # Monday 2026-11-16: 200; Monday 2026-11-23: 100 (a 50 % drop, flagged).
    for n, (day, amount) in enumerate(
        [("2026-11-16", 200), ("2026-11-23", 100), ("2026-11-24", 80)]
    ):
        Order.objects.create(external_id=f"o{n}", store_id=store, order_date=day, amount=amount)

    html = text(browser(people["manager_north"]).get("/hq/analytics/?until=2026-11-29"))

    assert re.search(r"<th scope=\"row\">Head, active</th> ?<td class=\"num\">1</td>", html)
    assert re.search(r"<th scope=\"row\">Tail, churning</th> ?<td class=\"num\">1</td>", html)
    assert html.count('class="point anomaly"') == 1
    assert "Mon 2026-11-23" in html
    assert "-50%" in html
    assert 'data-region="south"' not in html


@pytest.mark.django_db
def test_analytics_bad_date_is_a_400_page(people):
    response = browser(people["hq"]).get("/hq/analytics/?until=someday")

    assert response.status_code == 400
    assert "Please correct the date." in text(response)


# --- exports ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_in_background_from_the_page(
    scene, people, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    client = browser(people["manager_north"])

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/hq/exports/", {"kind": "surveys_csv", "review_status": "pending"})
    job_url = started["Location"]
    page = text(client.get(job_url))
    state = client.get(job_url + "status").json()
    download = client.get(job_url + "download")

    assert started.status_code == 302
    assert "Done" in page
    assert (state["status"], state["rows_done"], state["progress"]) == ("done", 7, 1.0)
    assert b"".join(download.streaming_content).decode().count("\n") == 8
    assert browser(people["hq"]).get(job_url).status_code == 404


@pytest.mark.django_db
def test_export_form_errors_are_shown(people):
    response = browser(people["hq"]).post("/hq/exports/", {"kind": "everything"})

    assert response.status_code == 400
    assert "Select a valid choice" in text(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/hq/review/?page=abc", {}),
        ("get", "/hq/review/?page=99999", {}),
        ("get", "/hq/dispatch/?footfall_min=lots&region=nowhere&task_type=%00", {}),
        ("get", "/hq/analytics/?until=2026-02-30", {}),
        ("get", "/hq/analytics/?until=99999-01-01", {}),
        ("get", "/hq/exports/not-a-uuid/", {}),
        ("post", "/hq/dispatch/", {"footfall_min": "1e9999", "title": "x" * 10_000}),
        ("post", "/hq/dispatch/", {"no_survey_days": "99999999999999999999", "title": "t"}),
        ("post", "/hq/exports/", {"kind": ["surveys_csv", "stores_geojson"]}),
        ("post", "/hq/review/00000000-0000-0000-0000-000000000000/", {"verdict": "\x00"}),
        ("post", "/hq/", {}),
        ("post", "/hq/map/stores.json", {}),
    ],
)
def test_odd_input_never_breaks_a_page(scene, people, method, path, data):
    response = getattr(browser(people["hq"]), method)(path, data)

    assert response.status_code < 500
    assert not Dispatch.objects.exists()
    assert not SurveyReview.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/hq/", "/hq/map/stores.json", "/hq/review/", "/hq/analytics/"])
def test_pages_take_the_same_queries_whatever_the_number_of_stores(scene, people, path):
    client = browser(people["hq"])
    client.get(path)  # session and template caches warm

    with CaptureQueriesContext(connection) as few:
        assert client.get(path).status_code == 200
    for n in range(10):
        store = create(
            "store",
            name=f"More {n}",
            lat=53.5,
            lon=9.9,
            region="north",
            owner=people["rep_north"].pk,
            trade_area_type="office",
        )
        create("survey", store=store, footfall_weekday=100)
        Order.objects.create(
            external_id=f"m{n}", store_id=store, order_date="2026-11-20", amount=10
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get(path).status_code == 200

    assert len(many) == len(few)
