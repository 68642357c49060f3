"""The HQ pages in a real headless Chromium against a live server: log in, read the
dashboard's figures, see the map's markers, approve a survey from the review queue,
dispatch after a dry run; a manager sees their region only; a tablet-size screen works.

Screenshots go to test-artifacts/hq/. Chromium is Debian's (`make test` installs it);
without it these tests skip, except under CI, where they fail.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from hq.views import store_url_pattern
from reports.selectors import GroupBy, completeness_report
from surveys.models import SiteSurvey, SurveyReview
from sync.models import ChangeLog
from tasks.models import Dispatch, Task
from tests.conftest import PASSWORD
from tests.surveys import scenario

CHROMIUM = os.environ.get("FIELDLINE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "hq"
TIMEOUT_MS = 15_000

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for all the browser tests (they are all in this module).

    Module-scoped, not session-scoped: Playwright's sync API keeps an event loop running in
    this thread while it is open, which Django takes for an async context, so the ORM's
    async check is lifted only for as long as this module runs and restored after; the
    rest of the suite (e.g. `check --deploy` in a subprocess that inherits the
    environment) never sees the lifted check."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        unavailable(f"no Chromium at {CHROMIUM} (run `make browser` as root to install it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install -e '.[test]')")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def scene(people):
    return scenario.build(people)


@pytest.fixture
def open_page(chromium, live_server):
    """A fresh browser context (no cookies) per test, logged in as the given user."""
    contexts = []

    def build(username: str, *, viewport=(1366, 800)):
        context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        # Nothing leaves the machine: any request to another host fails the test.
        outside = []
        context.on(
            "request",
            lambda request: (
                None if request.url.startswith(live_server.url) else outside.append(request.url)
            ),
        )
        page = context.new_page()
        page.outside_requests = outside
        page.goto(f"{live_server.url}/hq/")
        assert "/hq/login/" in page.url
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("h1")
        return page

    yield build
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def report_row(page, group: str) -> list[str]:
    cells = page.locator(f'table.figures tr:has(th:text-is("{group}"))').first.locator("td")
    return [cell.strip() for cell in cells.all_inner_texts()]


def test_hq_logs_in_and_sees_the_real_figures(scene, people, open_page):
    page = open_page("hq")

    assert page.url.endswith("/hq/")
    for row in completeness_report(actor=people["hq"], group_by=GroupBy.REGION):
        score = "–" if row.average_score is None else f"{round(row.average_score * 100)}%"
        assert report_row(page, row.group) == [
            str(row.surveys),
            score,
            str(row.complete),
            str(row.missing_photos),
            str(row.stores_without_survey),
            str(row.stores_with_stale_survey),
        ]
    assert page.inner_text("#needing-count") == "2"  # Kiosk 4 (none), Kiosk 5 (stale)
    shot(page, "dashboard-hq")
    assert page.outside_requests == []


def test_the_map_clusters_stores_and_a_popup_links_the_store(scene, people, open_page):
    """The five northern stores share an address: one cluster marked 5; the southern one
    is a marker of its own. A click on the cluster fans its stores out (zooming cannot
    part them); a store's popup names its owner and last survey and links the store."""
    page = open_page("hq")
    csp_errors = []
    page.on(
        "console",
        lambda message: (
            csp_errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.click("nav >> text=Map")
    page.wait_for_selector('#map[data-markers="6"]')

    assert page.inner_text("#map-status") == "6 stores."
    assert page.locator(".store-cluster").all_inner_texts() == ["5"]
    assert page.locator("path.leaflet-interactive.store").count() == 1
    shot(page, "map-hq")

    page.click(".store-cluster")
    page.wait_for_function("document.querySelectorAll('path.store').length === 6")
    assert page.locator("path.store.band-none").count() == 1
    assert page.locator("path.store.band-stale").count() == 1
    page.locator("path.store.band-none").dispatch_event("click")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()

    kiosk_4 = str(scene["stores"]["S4"])
    assert "Kiosk 4" in popup.inner_text()
    assert popup.locator("dd.owner").inner_text() == people["rep_north"].username
    assert popup.locator("dd.survey").inner_text() == "none"
    link = popup.locator("a.store-link")
    assert link.get_attribute("href") == store_url_pattern().replace("{id}", kiosk_4)
    shot(page, "map-popup")
    assert page.outside_requests == []
    assert csp_errors == []


def test_approve_a_survey_from_the_review_queue(scene, people, open_page):
    page = open_page("hq")
    page.click("nav >> text=Review")
    first = page.locator("tr[data-survey]").first
    survey_id = first.get_attribute("data-survey")
    shot(page, "review-queue")

    first.locator("button[value=approved]").click()
    page.wait_for_selector(".messages li")

    assert "Approved" in page.inner_text(".messages")
    assert page.locator(f'tr[data-survey="{survey_id}"]').count() == 0
    survey = SiteSurvey.objects.get(pk=survey_id)
    assert (survey.review_status, survey.version) == ("approved", 2)
    change = ChangeLog.objects.get(entity="survey", record_id=survey_id, version=2)
    assert (change.new_values, change.actor_id) == (
        {"review_status": "approved"},
        people["hq"].pk,
    )
    assert SurveyReview.objects.get(survey_id=survey_id).verdict == "approved"


def test_dispatch_after_a_dry_run(scene, open_page):
    page = open_page("hq")
    page.click("nav >> text=Dispatch")
    page.check("input[name=trade_area_type][value=office]")
    page.check("input[name=region][value=north]")
    page.select_option("#id_task_type", "visit")
    page.fill("#id_title", "Bring the new sandwiches")
    page.click("#preview")
    page.wait_for_selector("#preview-result")

    assert page.inner_text("#preview-count") == "3"
    assert Dispatch.objects.count() == 0
    shot(page, "dispatch-preview")

    page.click("#confirm")
    page.wait_for_selector(".messages li")

    assert "Dispatched 3 task(s)." in page.inner_text(".messages")
    dispatch = Dispatch.objects.get()
    assert Task.objects.filter(dispatch=dispatch, title="Bring the new sandwiches").count() == 3
    assert "Bring the new sandwiches" in page.inner_text("#dispatches")


def test_a_manager_sees_only_their_region(scene, open_page):
    page = open_page("manager-north")

    assert report_row(page, "north")[0] == "7"
    assert page.locator('table.figures th:text-is("south")').count() == 0
    page.click("nav >> text=Map")
    page.wait_for_selector('#map[data-markers="5"]')
    # While the map zooms to its stores, the clusters of both zoom levels are drawn.
    page.wait_for_function("document.querySelectorAll('.store-cluster').length === 1")
    assert page.locator(".store-cluster").all_inner_texts() == ["5"]
    page.click("nav >> text=Review")
    assert page.locator("tr[data-survey]").count() == 7
    assert str(scene["surveys"]["G"]) not in page.content()
    shot(page, "review-queue-manager")


def test_tablet_viewport(scene, open_page):
    page = open_page("hq", viewport=(768, 1024))

    for path in ("/hq/", "/hq/review/", "/hq/dispatch/", "/hq/analytics/"):
        page.goto(page.url.split("/hq/")[0] + path)
        page.wait_for_selector("h1")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (path, overflow)
        assert page.locator("nav a").first.is_visible()
        shot(page, "tablet" + re.sub(r"\W+", "-", path).rstrip("-"))


def test_pages_run_under_the_content_security_policy(scene, open_page, live_server):
    """The map (Leaflet), the dispatch form's script and the API docs (Swagger UI) work
    with the strict policy: no violation is reported and each page does its job."""
    page = open_page("hq")
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    page.click("nav >> text=Map")
    page.wait_for_selector('#map[data-markers="6"]')
    page.click("nav >> text=Dispatch")
    page.wait_for_selector("h1")
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    shot(page, "api-docs")

    assert violations == []
    assert page.outside_requests == []
