"""The review page (/hq/surveys/<id>/) through the test client: the survey against its
template, its photos, its position, earlier surveys of the store; verdicts go through the
review service with its rules, and a bad one changes nothing."""

import io
import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from accounts.models import User
from surveys.models import SiteSurvey, SurveyReview
from tasks.models import Task
from tests.hq.photos import photo_with_bytes
from tests.surveys import scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(people, media):
    built = scenario.build(people)
    built["photo"] = photo_with_bytes(
        actor=people["rep_north"], survey=built["surveys"]["D"], section="storefront"
    )
    return built


def browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def page(people, survey, who="manager_north"):
    response = browser(people[who]).get(f"/hq/surveys/{survey}/")
    assert response.status_code == 200, response.content[:500]
    return text(response)


def test_the_page_shows_the_answers_against_the_template(scene, people):
    html = page(people, scene["surveys"]["C"])

    # C: office v2, 9 items, area_m2 and the interior photo missing.
    assert "Survey of Kiosk 2" in html
    assert "office v2" in html
    assert "78% (7/9)" in html
    assert re.search(r'<tr data-field="area_m2" class="missing">.*?missing', html)
    assert '<tr data-field="footfall_weekday">' in html
    assert re.search(r'data-field="footfall_weekday">.*?200<', html)
    assert re.search(r'data-field="equipment">.*?Freezer<', html)
    assert 'class="section short" data-section="interior"' in html
    assert "0 of 1 needed" in html
    assert "2 missing" in html


def test_photos_have_thumbnails_and_full_size_links(scene, people):
    html = page(people, scene["surveys"]["D"])
    photo = scene["photo"]

    assert f'href="/hq/photos/{photo}/content"' in html
    assert f'src="/hq/photos/{photo}/thumbnail"' in html
    client = browser(people["manager_north"])
    thumbnail = client.get(f"/hq/photos/{photo}/thumbnail")
    full = client.get(f"/hq/photos/{photo}/content")
    assert (thumbnail.status_code, full.status_code) == (200, 200)
    assert thumbnail["Content-Type"] == full["Content-Type"] == "image/jpeg"
    assert thumbnail["X-Content-Type-Options"] == "nosniff"
    small = Image.open(io.BytesIO(b"".join(thumbnail.streaming_content)))
    large = Image.open(io.BytesIO(b"".join(full.streaming_content)))
    assert max(small.size) == 320
    assert large.size == (1200, 900)


def test_photos_are_scoped_like_the_survey(scene, people):
    photo = scene["photo"]
    south = browser(people["manager_south"])

    assert south.get(f"/hq/photos/{photo}/thumbnail").status_code == 404
    assert south.get(f"/hq/photos/{photo}/content").status_code == 404
    assert south.get(f"/hq/surveys/{scene['surveys']['D']}/").status_code == 404
    assert browser(people["manager_north"]).get(f"/hq/surveys/{uuid.uuid4()}/").status_code == 404
    assert (
        browser(people["rep_north"]).get(f"/hq/surveys/{scene['surveys']['D']}/").status_code == 403
    )


def test_position_rep_time_and_earlier_surveys(scene, people):
    survey = SiteSurvey.objects.get(pk=scene["surveys"]["D"])
    SiteSurvey.objects.filter(pk=survey.pk).update(captured_by=people["rep_north"])
    html = page(people, survey.pk)

    # D was taken 0.009° (1002 m, geodesic) north of the store, whose fence is 150 m.
    assert re.search(r"1002 m from the store \(its geofence: 150 m\) — <strong>outside", html)
    assert '<dd id="captured-by">rep-north-1</dd>' in html
    assert f'<dd id="captured-at">{survey.captured_at:%Y-%m-%d %H:%M}</dd>' in html
    # The store's other surveys, newest first, each a link to its own page.
    earlier = re.findall(r'<a href="/hq/surveys/([0-9a-f-]{36})/">', html.split('id="previous"')[1])
    assert earlier == [str(scene["surveys"]["B"]), str(scene["surveys"]["A"])]


def test_the_queue_links_each_row_to_its_survey(scene, people):
    html = text(browser(people["manager_north"]).get("/hq/review/"))

    for name in "ABCDEF":
        assert f'<a class="open" href="/hq/surveys/{scene["surveys"][name]}/">' in html


def test_the_page_reads_in_a_fixed_number_of_queries(scene, people):
    client = browser(people["hq"])
    client.get(f"/hq/surveys/{scene['surveys']['D']}/")  # warm up sessions, templates
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/hq/surveys/{scene['surveys']['D']}/")

    assert response.status_code == 200
    assert len(queries) <= 20, [q["sql"][:120] for q in queries]


# --- verdicts -----------------------------------------------------------------------------


def nothing_changed(survey) -> None:
    assert not SurveyReview.objects.exists()
    assert not Task.objects.filter(type="review_fix").exists()
    assert SiteSurvey.objects.get(pk=survey).version == 1


@pytest.mark.parametrize("verdict", ["has_issues", "rejected"])
def test_sending_back_without_a_reason_is_refused(scene, people, verdict):
    survey = scene["surveys"]["C"]
    response = browser(people["manager_north"]).post(
        f"/hq/surveys/{survey}/", {"verdict": verdict, "comment": "Not good."}
    )

    assert response.status_code == 400
    assert "Name at least one reason" in text(response)
    assert "Not good." in text(response)  # what was typed stays
    nothing_changed(survey)


def test_other_needs_a_comment(scene, people):
    survey = scene["surveys"]["C"]
    response = browser(people["manager_north"]).post(
        f"/hq/surveys/{survey}/", {"verdict": "rejected", "general": ["other"]}
    )

    assert response.status_code == 400
    assert "needs a comment" in text(response)
    nothing_changed(survey)


def test_reasons_per_field_and_for_the_whole_survey_reach_the_fix_task(scene, people):
    survey = scene["surveys"]["C"]
    response = browser(people["manager_north"]).post(
        f"/hq/surveys/{survey}/",
        {
            "verdict": "has_issues",
            "reason.area_m2": "missing",
            "reason.photos": "photo_unclear",
            "reason.footfall_weekday": "",
            "general": ["wrong_store", "other"],
            "comment": "Is this the kiosk by the station?",
        },
    )

    assert response.status_code == 302
    review = SurveyReview.objects.get(survey=survey)
    assert review.reasons == {
        "area_m2": ["missing"],
        "photos": ["photo_unclear"],
        "general": ["wrong_store", "other"],
    }
    task = Task.objects.get(pk=review.task_id)
    assert (task.type, task.assignee, task.priority) == ("review_fix", people["rep_north_2"], 2)
    for line in (
        "Is this the kiosk by the station?",
        "area_m2: missing",
        "photos: photo_unclear",
        "general: wrong_store, other",
    ):
        assert line in task.notes
    assert SiteSurvey.objects.get(pk=survey).review_status == "has_issues"


def test_approve_is_one_click_and_moves_on_to_the_next_in_the_queue(scene, people):
    client = browser(people["manager_north"])
    queue = re.findall(r'data-survey="([0-9a-f-]{36})"', text(client.get("/hq/review/")))
    first, second = queue[0], queue[1]

    response = client.post(f"/hq/surveys/{first}/", {"verdict": "approved"})

    assert response.status_code == 302
    assert response["Location"] == f"/hq/surveys/{second}/"
    assert SiteSurvey.objects.get(pk=first).review_status == "approved"
    landed = text(client.get(response["Location"]))
    assert "Approved: the survey of" in landed
    assert "1 of 6 waiting" in landed


def test_the_last_verdict_of_the_queue_goes_back_to_the_queue(scene, people):
    client = browser(people["manager_north"])
    queue = re.findall(r'data-survey="([0-9a-f-]{36})"', text(client.get("/hq/review/")))
    for survey in queue[:-1]:
        SiteSurvey.objects.filter(pk=survey).update(review_status="approved")

    response = client.post(f"/hq/surveys/{queue[-1]}/", {"verdict": "approved"})

    assert response["Location"] == "/hq/review/"


def test_a_survey_without_template_or_position_still_reads(scene, people):
    # H: a school survey (no template for schools), taken without a GPS fix.
    html = page(people, scene["surveys"]["H"])

    assert "none for this trade area" in html
    assert '<p id="distance" class="error">No GPS position recorded.</p>' in html
    assert 'class="missing"' not in html
    assert '<dd id="score">–</dd>' in html
