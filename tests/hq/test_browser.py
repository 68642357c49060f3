"""The HQ pages in a real headless Chromium against a live server: log in, read the
dashboard's figures, see the map's markers, approve a survey from the review queue,
dispatch after a dry run; a manager sees their region only; a tablet-size screen works.

Screenshots go to test-artifacts/hq/. Chromium is Debian's (`make test` installs it);
without it these tests skip, except under CI, where they fail.
"""

import datetime as dt
import os
import re
import shutil
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import User
from crm.models import Order
from hq.views import store_url_pattern
from reports.selectors import GroupBy, completeness_report
from stores.models import Store
from surveys.models import SiteSurvey, SurveyReview
from sync.models import ChangeLog
from tasks.models import Dispatch, Task
from tests.conftest import PASSWORD
from tests.hq.photos import photo_with_bytes
from tests.surveys import scenario

CHROMIUM = os.environ.get("FIELDLINE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "hq"
TIMEOUT_MS = 15_000
LAPTOP = (1366, 768)
TABLET = (820, 1180)

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


ADDRESSES = {
    "S1": "Hafenstraße 12, 20459 Hamburg",
    "S2": "Grindelallee 80, 20146 Hamburg",
    "S3": "Osterstraße 41, 20259 Hamburg",
    "S4": "Mönckebergstraße 7, 20095 Hamburg",
    "S5": "Bahrenfelder Straße 160, 22765 Hamburg",
    "S6": "Leopoldstraße 33, 80802 München",
}
NAMES = {"rep_north": ("Rita", "Nord"), "rep_north_2": ("Nils", "Brandt")}


@pytest.fixture
def scene(people):
    """The completeness scenario, its stores with addresses and two reps with names."""
    built = scenario.build(people)
    for key, address in ADDRESSES.items():
        Store.objects.filter(pk=built["stores"][key]).update(address=address)
    for who, (first, last) in NAMES.items():
        User.objects.filter(pk=people[who].pk).update(first_name=first, last_name=last)
    return built


@pytest.fixture
def open_page(chromium, live_server):
    """A fresh browser context (no cookies) per test, logged in as the given user."""
    contexts = []

    def build(username: str, *, viewport=(1366, 800), locale: str = "en-US"):
        context = chromium.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, locale=locale
        )
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
        page.click("main button[type=submit]")
        page.wait_for_selector("h1")
        return page

    yield build
    for context in contexts:
        context.close()


def wait_until_true(page, expression: str, timeout_s: float = TIMEOUT_MS / 1000) -> None:
    """Poll a JavaScript expression until it is true. Not `wait_for_function`: the map
    page's Content-Security-Policy forbids the string evaluation its polling uses."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout_s} s: {expression}"
        page.wait_for_timeout(50)


def shot(page, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def report_row(page, group: str) -> list[str]:
    cells = page.locator(f'table.figures tr:has(th:text-is("{group}"))').first.locator("td")
    return [cell.strip() for cell in cells.all_inner_texts()]


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def open_cluster(page, *, stores: int) -> None:
    """Click the map's cluster until its stores fan out (a click that lands while the map
    is still settling is ignored by the cluster library)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _attempt in range(5):
        page.click(".store-cluster")
        try:
            page.locator("path.store").nth(stores - 1).wait_for(state="attached", timeout=2000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError("the cluster did not open")


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

    open_cluster(page, stores=6)
    assert page.locator("path.store.band-none").count() == 1
    assert page.locator("path.store.band-stale").count() == 1
    page.locator("path.store.band-none").dispatch_event("click")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()

    kiosk_4 = str(scene["stores"]["S4"])
    assert "Kiosk 4" in popup.inner_text()
    # The scene gives rep-north-1 a name: "Rita Nord (rep-north-1)".
    assert people["rep_north"].username in popup.locator("dd.owner").inner_text()
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


def dispatch_offices(page, *, title: str = "Bring the new sandwiches") -> None:
    page.click("nav >> text=Dispatch")
    page.check("input[name=trade_area_type][value=office]")
    page.check("input[name=region][value=north]")
    page.select_option("#id_task_type", "visit")
    page.fill("#id_title", title)
    page.click("#preview")
    page.wait_for_selector("#preview-result")


def test_dispatch_after_a_dry_run(scene, open_page):
    page = open_page("hq", viewport=LAPTOP)
    dispatch_offices(page)

    assert page.inner_text("#preview-count") == "3"
    assert page.input_value("#id_due_date")  # a due date is offered
    assert Dispatch.objects.count() == 0
    shot(page, "dispatch-preview")

    page.click("#confirm")
    page.wait_for_selector(".messages li")

    assert "Dispatched 3 tasks." in page.inner_text(".messages")
    dispatch = Dispatch.objects.get()
    assert Task.objects.filter(dispatch=dispatch, title="Bring the new sandwiches").count() == 3
    assert page.inner_text("#created-count") == "3"
    page.click("text=← Dispatch tasks")
    assert "Bring the new sandwiches" in page.inner_text("#dispatches")


def test_a_second_dispatch_skips_then_cancel_from_its_page(scene, open_page):
    page = open_page("manager-north", viewport=LAPTOP)
    dispatch_offices(page, title="First round")
    page.click("#confirm")
    page.wait_for_selector(".messages li")

    # The same dispatch again: every store already has an open visit task.
    dispatch_offices(page, title="Second round")
    assert page.inner_text("#preview-count") == "0"
    assert page.inner_text("#skipped-count") == "3"
    assert page.locator("#skipped-sample tbody tr").count() == 3
    assert page.is_disabled("#confirm")
    shot(page, "dispatch-skipped-laptop")

    # Asking to include them: three more.
    page.check("#id_include_existing")
    page.click("#preview")
    page.wait_for_selector("#preview-result")
    assert page.inner_text("#preview-count") == "3"
    page.click("#confirm")
    page.wait_for_selector(".messages li")
    second = Dispatch.objects.get(task_template__title="Second round")
    assert (second.task_count, second.include_existing) == (3, True)
    shot(page, "dispatch-page-laptop")

    # Cancel from its page (confirmed in the browser's dialog).
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#cancel-dispatch")
    page.wait_for_selector("#dispatch-state:text-is('Cancelled')")

    assert "3 open tasks cancelled" in page.inner_text(".messages")
    assert set(Task.objects.filter(dispatch=second).values_list("status", flat=True)) == {
        "cancelled"
    }
    first = Dispatch.objects.get(task_template__title="First round")
    assert set(Task.objects.filter(dispatch=first).values_list("status", flat=True)) == {"open"}
    assert page.locator("#cancel-dispatch").count() == 0
    assert page.outside_requests == []


def test_dispatch_on_a_tablet(scene, open_page):
    page = open_page("manager-north", viewport=TABLET)
    dispatch_offices(page, title="Tablet round")

    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    shot(page, "dispatch-preview-tablet")
    page.click("#confirm")
    page.wait_for_selector("#cancel-dispatch")
    shot(page, "dispatch-page-tablet")


def test_a_manager_sees_only_their_region(scene, open_page):
    page = open_page("manager-north")

    assert report_row(page, "north")[0] == "7"
    assert page.locator('table.figures th:text-is("south")').count() == 0
    page.click("nav >> text=Map")
    page.wait_for_selector('#map[data-markers="5"]')
    # While the map zooms to its stores, the clusters of both zoom levels are drawn (the
    # page's CSP forbids eval, so this waits from Python, not with wait_for_function).
    expect(page.locator(".store-cluster")).to_have_count(1)
    assert page.locator(".store-cluster").all_inner_texts() == ["5"]  # five at one address
    assert page.locator("path.store").count() == 0
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


# --- the review page ----------------------------------------------------------------------


@pytest.fixture
def review_scene(scene, people, media):
    """The scenario, survey D with a storefront photo whose bytes and thumbnail exist."""
    survey = scene["surveys"]["D"]
    SiteSurvey.objects.filter(pk=survey).update(captured_by=people["rep_north"])
    scene["photo"] = photo_with_bytes(
        actor=people["rep_north"], survey=survey, section="storefront"
    )
    photo_with_bytes(
        actor=people["rep_north"], survey=survey, section="interior", colour=(190, 150, 60)
    )
    return scene


def natural_width(page, selector: str) -> int:
    loaded = f"(i => !!(i && i.complete && i.naturalWidth))(document.querySelector({selector!r}))"
    wait_until_true(page, loaded)
    return page.eval_on_selector(selector, "img => img.naturalWidth")


def test_review_page_shows_photos_and_requires_a_reason(review_scene, people, open_page):
    survey = review_scene["surveys"]["D"]
    page = open_page("manager-north", viewport=LAPTOP)
    page.click("nav >> text=Review")
    page.click(f'a.open[href="/hq/surveys/{survey}/"]')
    page.wait_for_selector("#answers")

    # The thumbnail is shown; a click shows the photo at full size.
    photo = f'#photos a.photo[href="/hq/photos/{review_scene["photo"]}/content"]'
    assert natural_width(page, f"{photo} img") == 320  # 1200 x 900 → 320 x 240
    assert page.inner_text("#captured-by") == "Rita Nord"  # rep-north-1 by name
    assert "outside the geofence" in page.inner_text("#distance")
    assert page.locator("#previous a").count() == 2  # surveys A and B of Kiosk 1
    shot(page, "review-survey-laptop")
    page.click(photo)
    page.wait_for_selector("#photo-viewer[open]")
    assert natural_width(page, "#photo-viewer img") == 1200
    shot(page, "review-photo-full-size", full_page=False)  # the dialog covers the screen
    page.keyboard.press("Escape")
    page.wait_for_selector("#photo-viewer:not([open])", state="attached")

    # "Has issues" without a reason is refused, and nothing changes.
    page.fill("#id_comment", "Count the footfall again.")
    page.click("#has-issues")
    page.wait_for_selector("#review-errors")
    assert "Name at least one reason" in page.inner_text("#review-errors")
    assert page.input_value("#id_comment") == "Count the footfall again."
    assert not SurveyReview.objects.exists()
    assert SiteSurvey.objects.get(pk=survey).version == 1

    # With a reason beside a field, it goes through and reaches the rep's fix task.
    page.select_option('select[name="reason.footfall_weekday"]', "implausible")
    page.click("#has-issues")
    page.wait_for_selector(".messages li")

    assert "Has issues: the survey of Kiosk 1" in page.inner_text(".messages")
    review = SurveyReview.objects.get(survey_id=survey)
    assert review.reasons == {"footfall_weekday": ["implausible"]}
    task = Task.objects.get(pk=review.task_id)
    assert task.assignee == people["rep_north"]
    assert "footfall_weekday: implausible" in task.notes
    assert "Count the footfall again." in task.notes
    assert page.outside_requests == []


def test_keyboard_shortcuts_work_through_the_queue(review_scene, open_page):
    page = open_page("manager-north", viewport=LAPTOP)
    page.click("nav >> text=Review")
    page.wait_for_load_state()  # review.js has run: the keys are listened for
    first, second = page.locator("tr[data-survey]").evaluate_all(
        "rows => rows.slice(0, 2).map(r => r.dataset.survey)"
    )

    # In the queue: j selects the first row, a approves it.
    page.keyboard.press("j")
    assert page.get_attribute(f'tr[data-survey="{first}"]', "class") == "current"
    page.keyboard.press("a")
    page.wait_for_selector(".messages li")
    page.wait_for_load_state()
    assert SiteSurvey.objects.get(pk=first).review_status == "approved"

    # o opens the selected survey; there, a approves it and the next one opens.
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_selector("#answers")
    page.wait_for_load_state()
    assert f"/hq/surveys/{second}/" in page.url
    page.keyboard.press("a")
    page.wait_for_selector(".messages li")
    assert SiteSurvey.objects.get(pk=second).review_status == "approved"
    assert f"/hq/surveys/{second}/" not in page.url
    assert "1 of 5 waiting" in page.inner_text(".queue-nav")
    # Keys typed into a field stay text.
    page.fill("#id_comment", "")
    page.type("#id_comment", "ja")
    assert page.input_value("#id_comment") == "ja"
    assert SurveyReview.objects.count() == 2


def test_review_page_on_a_tablet(review_scene, open_page):
    page = open_page("manager-north", viewport=TABLET)
    page.goto(page.url.split("/hq/")[0] + f"/hq/surveys/{review_scene['surveys']['D']}/")
    page.wait_for_selector("#answers")

    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    photo = f'#photos a.photo[href="/hq/photos/{review_scene["photo"]}/content"] img'
    assert natural_width(page, photo) == 320
    assert page.locator("#approve").is_visible()
    shot(page, "review-survey-tablet")


def test_the_plans_page_charts_compliance_from_verified_visits(people, open_page):
    """A manager's plan from two weeks back, most past visits made at the store: the page
    shows the figures the API answers, and the chart a bar per week."""
    import datetime as dt
    import random
    import uuid

    from django.utils import timezone

    from demo.plans import keep_past_visits
    from planning.selectors import plan_compliance
    from planning.services import plan_generate
    from tests.conftest import create

    today = timezone.localdate()
    start = today - dt.timedelta(days=today.weekday() + 14)
    rng = random.Random(18)
    for n in range(24):
        create(
            "store",
            name=f"Planned {n}",
            lat=53.55 + 0.004 * (n % 6),
            lon=9.99 + 0.006 * (n // 6),
            region="north",
            owner=people["rep_north" if n % 2 else "rep_north_2"].pk,
            status="active",
            grade="ABBCCC"[n % 6],
        )
    manager = people["manager_north"]
    plan = plan_generate(actor=manager, region="north", start=start, weeks=4, today=start).plan
    keep_past_visits(rng=rng, new_id=uuid.uuid4, plan_id=plan.pk, today=today, manager=manager)
    figures = plan_compliance(region="north", start=today - dt.timedelta(days=27), end=today).total

    page = open_page("manager-north")
    page.click("nav >> text=Plans")
    page.wait_for_selector("#compliance-chart")

    cells = page.locator("#compliance-total td").all_inner_texts()
    assert cells[:3] == [str(figures.planned), str(figures.done), str(figures.verified)]
    assert figures.planned > 0
    assert page.locator("#compliance-chart g.bar").count() == 3  # 2 past weeks and this one
    assert page.locator("#compliance-reps tbody tr").count() == 2
    shot(page, "plans-compliance")
    assert page.outside_requests == []


def german_orders(store) -> None:
    """Four weeks of orders for one store up to yesterday, last Monday 40 % down on the
    Monday before."""
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday() or 7)
    for offset in range(1, 29):
        day = today - dt.timedelta(days=offset)
        amount = Decimal("1234.50") + 37 * (day.toordinal() % 5)
        if day == monday:
            amount = (Decimal("1234.50") + 37 * ((day.toordinal() - 7) % 5)) * Decimal("0.6")
        Order.objects.create(
            external_id=f"de-{offset}", store_id=store, order_date=day, amount=amount
        )


@pytest.mark.parametrize(("size", "viewport"), [("laptop", LAPTOP), ("tablet", TABLET)])
def test_the_pages_in_german(scene, open_page, size, viewport):
    """A German browser gets German pages (Accept-Language): the menu, the analytics with
    amounts as 1.234,50 € and dates as 23.11.2026, the map's popup; the language menu
    switches to English and back."""
    german_orders(scene["stores"]["S1"])
    page = open_page("hq", viewport=viewport, locale="de-DE")

    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("nav a").all_inner_texts() == [
        "Übersicht", "Karte", "Prüfung", "Aufträge", "Auswertungen", "Pläne", "Exporte", "Geräte"
    ]  # fmt: skip
    page.click("nav >> text=Auswertungen")
    page.wait_for_selector("h1:text-is('Kundenauswertungen')")
    assert "Bestellungen pro Tag, EUR" in page.text_content("svg.orders[data-region=north]")
    anomaly = page.locator("table.anomalies").first.inner_text()
    assert re.search(r"Mo \d\d\.\d\d\.\d{4}\s+\d\d\d,\d\d €\s+1\.\d\d\d,\d\d €\s+-40 %", anomaly)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    shot(page, f"hq-analytics-de-{size}")

    page.click("nav >> text=Karte")
    page.wait_for_selector('#map[data-markers="6"]')
    assert page.inner_text("#map-status") == "6 Filialen."
    open_cluster(page, stores=6)
    page.locator("path.store.band-partial").first.dispatch_event("click")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Betreuer" in popup.inner_text()
    assert "vollständig" in popup.inner_text()
    assert popup.locator("a.store-link").inner_text() == "Filiale öffnen"
    page.wait_for_timeout(400)  # the popup's fade-in
    shot(page, f"hq-map-de-{size}")

    page.select_option("#language", "en")
    page.click("form.language button")
    page.wait_for_selector("h1:text-is('Stores by survey completeness')")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.outside_requests == []


@pytest.mark.parametrize(("size", "viewport"), [("laptop", LAPTOP), ("tablet", TABLET)])
def test_map_screenshots(scene, open_page, size, viewport):
    page = open_page("hq", viewport=viewport)
    page.click("nav >> text=Map")
    page.wait_for_selector('#map[data-markers="6"]')
    open_cluster(page, stores=6)
    page.locator("path.store.band-partial").first.dispatch_event("click")
    page.locator(".leaflet-popup-content a.store-link").wait_for()
    page.wait_for_timeout(400)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    shot(page, f"hq-map-{size}")


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
