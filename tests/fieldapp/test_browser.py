"""The rep's app in a real headless Chromium on a phone (360x780, touch, emulated
geolocation) against a live server, with real offline mode: first sync and offline
reload, a whole visit offline then synced, a manager's verdict reaching the phone, a
conflict between two phones, a refused change corrected, a push whose answer was lost.

Screenshots go to test-artifacts/fieldapp/. Chromium is Debian's (`make test` installs
it); without it these tests skip, except under CI, where they fail.
"""

import datetime as dt
import hashlib
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from django.utils import timezone
from knox.models import AuthToken
from PIL import Image

from stores.models import Store
from surveys.models import Photo, SiteSurvey, SurveyTemplate
from surveys.selectors import review_queue
from surveys.services import survey_review
from sync.models import AppliedMutation, ChangeLog, ConflictLog
from tasks.models import Task
from tests.conftest import PASSWORD, create
from visits.models import FollowUp, Visit

CHROMIUM = os.environ.get("FIELDLINE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "fieldapp"
TIMEOUT_MS = 15_000
PHONE = {"width": 360, "height": 780}
# Three office stores of rep-north-1 in Hamburg, a few hundred metres apart.
KIOSK = (53.5503, 9.9930)
BAKERY = (53.5521, 9.9975)
MARKET = (53.5480, 9.9890)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module (see tests/hq/test_browser.py for why the
    ORM's async check is lifted only while it runs)."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        unavailable(f"no Chromium at {CHROMIUM} (run `make browser` as root to install it)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install -e '.[test]')")
    expect.set_options(timeout=TIMEOUT_MS)
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
def shop(people, media):
    """rep-north-1's three stores, an office template, one earlier survey, a task today."""
    rep = people["rep_north"]
    SurveyTemplate.objects.create(
        trade_area_type="office",
        version=1,
        required_fields=["footfall_weekday", "equipment"],
        min_photos={"storefront": 1},
        gps_within_geofence=True,
        created_by=people["hq"],
        created_at=timezone.now() - dt.timedelta(days=30),
    )
    stores = {}
    for name, (lat, lon) in {
        "Kiosk Rathaus": KIOSK,
        "Backshop Alster": BAKERY,
        "Markt Hopfen": MARKET,
    }.items():
        stores[name] = create(
            "store",
            name=name,
            lat=lat,
            lon=lon,
            region="north",
            owner=rep.pk,
            trade_area_type="office",
            address=f"{name} street 1, Hamburg",
        )
    survey = create(
        "survey",
        store=stores["Backshop Alster"],
        footfall_weekday=300,
        captured_at=(timezone.now() - dt.timedelta(days=20)).isoformat(),
    )
    create(
        "task",
        store=stores["Markt Hopfen"],
        assignee=rep.pk,
        type="visit",
        title="Show the new sandwiches",
        due_date=timezone.localdate().isoformat(),
    )
    return {"rep": rep, "stores": stores, "survey": survey}


@pytest.fixture
def phone(chromium, live_server):
    """A fresh phone (browser context) per call; nothing may leave the live server."""
    contexts = []

    def build(*, at=KIOSK):
        context = chromium.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            geolocation={"latitude": at[0], "longitude": at[1], "accuracy": 12},
            permissions=["geolocation"],
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        outside = []
        context.on(
            "request",
            lambda request: (
                None
                if request.url.startswith((live_server.url, "blob:", "data:"))
                else outside.append(request.url)
            ),
        )
        context.outside_requests = outside
        context.app_url = f"{live_server.url}/app/"
        return context

    yield build
    for context in contexts:
        context.close()


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def status(page):
    return page.get_by_role("status")


def signed_in(context, username="rep-north-1"):
    page = context.new_page()
    page.goto(context.app_url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect()(status(page)).to_contain_text("Synced")
    expect()(page.get_by_role("heading", name="Today")).to_be_visible()
    return page


def shell_cached(page) -> None:
    """Wait until the service worker has cached the shell (it is then active)."""
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)") is True


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def open_store(page, name: str) -> None:
    page.get_by_role("link", name="Stores", exact=True).click()
    page.get_by_role("link", name=name).click()
    expect()(page.get_by_role("heading", name=name)).to_be_visible()


def jpeg(tmp_path: Path) -> tuple[Path, str]:
    """A real JPEG from a camera-like size, and its SHA-256."""
    image = Image.new("RGB", (640, 480), (200, 120, 40))
    for x in range(0, 640, 40):
        image.paste((20, 60, 160), (x, 0, x + 20, 480))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    path = tmp_path / "storefront.jpg"
    path.write_bytes(buffer.getvalue())
    return path, hashlib.sha256(buffer.getvalue()).hexdigest()


def test_first_sync_then_the_app_and_its_data_open_offline(shop, phone):
    context = phone()
    page = context.new_page()
    page.goto(context.app_url)
    shot(page, "sign-in")
    page.get_by_label("Username").fill("rep-north-1")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect()(status(page)).to_contain_text("Synced")
    expect()(page.get_by_role("link", name="Markt Hopfen")).to_be_visible()
    shot(page, "day")
    shell_cached(page)

    context.set_offline(True)
    page.reload()

    expect()(status(page)).to_contain_text("Offline")
    expect()(page.get_by_role("heading", name="Today")).to_be_visible()
    expect()(page.get_by_text("Show the new sandwiches")).to_be_visible()
    page.get_by_role("link", name="Stores", exact=True).click()
    for name in shop["stores"]:
        expect()(page.get_by_role("link", name=name)).to_be_visible()
    page.get_by_label("Search stores").fill("back")
    expect()(page.get_by_role("link", name="Kiosk Rathaus")).to_have_count(0)
    shot(page, "stores")
    page.get_by_role("link", name="Backshop Alster").click()
    expect()(page.get_by_role("heading", name="Backshop Alster")).to_be_visible()
    expect()(page.get_by_text("Footfall on a weekday")).to_be_visible()
    opened_ms = float(page.locator("section.store-page").get_attribute("data-opened-in-ms"))
    assert opened_ms < 1000  # a desktop core here; the README gives the phone figure
    shot(page, "store")
    (ARTIFACTS / "figures.json").write_text(json.dumps({"store_opened_offline_ms": opened_ms}))
    assert context.outside_requests == []


def test_a_visit_offline_then_synced_and_reviewed(shop, phone, people, tmp_path):
    context = phone(at=KIOSK)
    page = signed_in(context)
    shell_cached(page)
    photo_path, photo_sha = jpeg(tmp_path)

    # Offline: check in, survey from the template, a photo, a follow-up, check out.
    context.set_offline(True)
    expect()(status(page)).to_contain_text("Offline")
    open_store(page, "Kiosk Rathaus")
    page.get_by_role("button", name="Check in").click()
    expect()(status(page)).to_contain_text("1 changes waiting")
    expect()(page.locator(".verdict").first).to_contain_text("inside the")
    expect()(page.get_by_role("button", name="Check out")).to_be_visible()
    shot(page, "store-checked-in")

    page.get_by_role("link", name="Start the survey").click()
    expect()(page.locator("#completeness")).to_contain_text("Complete: 25%")  # GPS only
    page.get_by_label("Footfall on a weekday").fill("-3")
    expect()(page.get_by_text("greater than or equal to 0")).to_be_visible()
    page.get_by_label("Footfall on a weekday").fill("420")
    page.get_by_label("Microwave").check()
    page.get_by_label("Coffee machine").check()
    page.get_by_label("Sales area").fill("85")
    expect()(page.locator("#completeness")).to_contain_text("Complete: 75%")
    page.get_by_label("Photo of").select_option("storefront")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Add photo").click()
    chooser.value.set_files(str(photo_path))
    expect()(page.get_by_text(f"Storefront · new · {photo_sha[:8]}")).to_be_visible()
    expect()(page.locator("#completeness")).to_contain_text("Complete: 100%")
    shot(page, "survey-form")
    page.get_by_role("button", name="Save survey").click()

    expect()(page.get_by_role("heading", name="Kiosk Rathaus")).to_be_visible()
    due = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    page.get_by_label("Follow-up date").fill(due)
    page.get_by_label("Note").fill("Bring the sandwich samples")
    page.get_by_role("button", name="Add follow-up").click()
    expect()(page.get_by_text("Bring the sandwich samples")).to_be_visible()
    page.get_by_role("button", name="Check out").click()
    # The check-out is stored once the page offers a new check-in (the count alone cannot
    # tell: it folds into the unsent check-in, so the count was 4 before it too).
    expect()(page.get_by_role("button", name="Check in")).to_be_visible()
    # Check-out folded into the unsent check-in: visit, survey, photo, follow-up.
    expect()(status(page)).to_contain_text("4 changes waiting")
    page.close()

    page = context.new_page()
    page.goto(context.app_url)
    expect()(status(page)).to_have_text("Offline · 4 changes waiting")
    page.get_by_role("link", name="Changes").click()
    expect()(page.get_by_text("Waiting to be sent (4)")).to_be_visible()
    shot(page, "changes-waiting")
    assert Visit.objects.count() == 0
    assert SiteSurvey.objects.count() == 1

    # Online: it syncs by itself.
    context.set_offline(False)
    expect()(status(page)).to_contain_text("Synced", timeout=30_000)

    store = shop["stores"]["Kiosk Rathaus"]
    visit = Visit.objects.get(store=store)
    assert visit.geofence == "pass"
    assert visit.distance_m < 50
    assert visit.check_out_at is not None
    assert visit.rep == shop["rep"]
    survey = SiteSurvey.objects.get(store=store)
    assert (survey.footfall_weekday, survey.area_m2) == (420, 85.0)
    assert sorted(survey.equipment) == ["coffee_machine", "microwave"]
    assert survey.template_version == 1
    photo = Photo.objects.get(survey=survey)
    assert (photo.section, photo.sha256) == ("storefront", photo_sha)
    assert photo.uploaded_at is not None
    with photo.content.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == photo_sha
    followup = FollowUp.objects.get(store=store)
    assert (followup.note, followup.due_date.isoformat(), followup.visit_id) == (
        "Bring the sandwich samples",
        due,
        visit.pk,
    )
    queue = list(review_queue(actor=people["manager_north"]))
    assert survey.pk in [row["id"] for row in queue]

    # The store page shows the server's verdict on the visit.
    page.get_by_role("link", name="Stores", exact=True).click()
    page.get_by_role("link", name="Kiosk Rathaus").click()
    expect()(page.get_by_text("Verified:")).to_be_visible()
    page.get_by_role("heading", name="Visits").scroll_into_view_if_needed()
    shot(page, "store-verified")

    # A manager sends the survey back: the fix task reaches the phone at the next sync.
    survey_review(
        actor=people["manager_north"],
        survey=survey,
        verdict="has_issues",
        reasons={"area_m2": ["implausible"]},
        comment="Measure the sales area again.",
    )
    page.get_by_role("button", name="Sync now").click()
    expect()(status(page)).to_contain_text("Synced")
    page.get_by_role("link", name="Day").click()
    expect()(page.get_by_role("heading", name="Today")).to_be_visible()
    expect()(page.locator("ol.stops")).to_contain_text("Fix the survey of Kiosk Rathaus")
    shot(page, "day-fix-task")
    assert context.outside_requests == []


def edit_footfall(page, value: str) -> None:
    open_store(page, "Backshop Alster")
    page.get_by_role("link", name="Edit survey").click()
    page.get_by_label("Footfall on a weekday").fill(value)
    page.get_by_role("button", name="Save survey").click()
    expect()(page.get_by_role("heading", name="Backshop Alster")).to_be_visible()


def test_two_phones_edit_the_same_field_offline_and_the_conflict_is_shown(shop, phone):
    first, second = phone(at=BAKERY), phone(at=BAKERY)
    page_a, page_b = signed_in(first), signed_in(second)
    first.set_offline(True)
    second.set_offline(True)

    edit_footfall(page_a, "420")
    edit_footfall(page_b, "515")
    expect()(status(page_a)).to_contain_text("1 changes waiting")
    expect()(status(page_b)).to_contain_text("1 changes waiting")
    first.set_offline(False)
    expect()(status(page_a)).to_contain_text("Synced")
    second.set_offline(False)
    expect()(status(page_b)).to_contain_text("Synced")

    page_b.get_by_role("link", name="Changes").click()
    expect()(page_b.get_by_text("Edited elsewhere too (1)")).to_be_visible()
    expect()(page_b.locator("#conflicts li")).to_have_text(
        "Survey at Backshop Alster: your footfall on a weekday 515 was kept "
        "(the other value was 420)."
    )
    shot(page_b, "changes-conflict")
    conflict = ConflictLog.objects.get(record_id=shop["survey"], field="footfall_weekday")
    assert (conflict.client_value, conflict.server_value, conflict.kept) == (515, 420, "client")
    assert SiteSurvey.objects.get(pk=shop["survey"]).footfall_weekday == 515


def test_a_refused_change_is_shown_with_its_error_and_can_be_corrected(shop, phone):
    context = phone(at=MARKET)
    page = signed_in(context)
    page.get_by_role("link", name="Stores", exact=True).click()
    page.get_by_role("link", name="New prospect").click()
    page.get_by_label("Name").fill("Kiosk Neu")
    page.get_by_label("Phone").fill("12345")
    page.get_by_label("Address").fill("Hopfenmarkt 3, Hamburg")
    page.get_by_label("Trade area").select_option("office")
    expect()(page.get_by_text("becomes the store")).to_be_visible()
    page.get_by_role("button", name="Save store").click()

    expect()(status(page)).to_contain_text("1 refused, needs fixing", timeout=20_000)
    assert not Store.objects.filter(name="Kiosk Neu").exists()
    page.get_by_role("link", name="Changes").click()
    refused = page.locator("#refused .refused")
    expect()(refused).to_contain_text("New store “Kiosk Neu”")
    expect()(refused).to_contain_text("Phone: Not a valid phone number.")
    shot(page, "changes-refused")

    refused.get_by_role("link", name="Fix").click()
    expect()(page.get_by_text("The server refused it")).to_be_visible()
    page.get_by_label("Phone").fill("040 3290 4100")
    page.get_by_role("button", name="Send again").click()

    expect()(status(page)).to_contain_text("Synced", timeout=20_000)
    store = Store.objects.get(name="Kiosk Neu")
    assert (store.phone, store.owner, store.region.code) == ("+494032904100", shop["rep"], "north")
    assert abs(store.lat - MARKET[0]) < 1e-6
    expect()(page.get_by_role("heading", name="Kiosk Neu")).to_be_visible()


def test_a_push_whose_answer_was_lost_is_answered_from_idempotency(shop, phone):
    context = phone(at=MARKET)
    page = signed_in(context)
    pushes = []

    def lose_the_answer(route):
        pushes.append(route.request.post_data_json)
        if len(pushes) == 1:
            route.fetch()  # the server applies the push ...
            route.abort("connectionreset")  # ... and the phone never hears back
        else:
            route.continue_()

    page.route("**/api/sync/push", lose_the_answer)
    open_store(page, "Markt Hopfen")
    page.get_by_role("button", name="Check in").click()
    expect()(page.get_by_role("button", name="Check out")).to_be_visible()
    page.wait_for_timeout(2500)  # the push after the change has gone and failed
    assert len(pushes) == 1
    expect()(status(page)).to_contain_text("1 changes waiting")
    assert Visit.objects.count() == 1  # applied on the server, unknown to the phone
    page.close()

    page = context.new_page()
    context.on(
        "request", lambda r: r.url.endswith("/api/sync/push") and pushes.append(r.post_data_json)
    )
    page.goto(context.app_url)
    expect()(status(page)).to_contain_text("Synced")

    (first_push, retried) = pushes[0], pushes[1]
    sent = [m["mutation_id"] for m in first_push["mutations"]]
    assert [m["mutation_id"] for m in retried["mutations"]] == sent
    visit = Visit.objects.get()
    assert visit.version == 1
    assert ChangeLog.objects.filter(record_id=visit.pk).count() == 1
    assert AppliedMutation.objects.filter(mutation_id__in=sent).count() == 1

    # A task's status changed on the store page reaches the server, and the day drops it.
    open_store(page, "Markt Hopfen")
    page.get_by_label("Status of Show the new sandwiches").select_option("done")
    expect()(status(page)).to_contain_text("1 changes waiting")
    expect()(status(page)).to_contain_text("Synced")
    assert Task.objects.get(assignee=shop["rep"]).status == "done"
    page.get_by_role("link", name="Day").click()
    expect()(page.get_by_text("No open tasks for today.")).to_be_visible()


def test_sign_out_warns_about_waiting_changes_revokes_the_token_and_wipes_the_phone(shop, phone):
    context = phone(at=MARKET)
    page = signed_in(context)
    assert AuthToken.objects.filter(user=shop["rep"]).count() == 1
    context.set_offline(True)
    open_store(page, "Markt Hopfen")
    page.get_by_role("button", name="Check in").click()
    expect()(status(page)).to_contain_text("1 changes waiting")
    page.route("**/api/sync/push", lambda route: route.abort())  # keep the change waiting
    context.set_offline(False)
    page.get_by_role("link", name="Changes").click()

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    # Going online starts a sync (its push refused above) that may redraw the screen under
    # the warning; the rep then taps Sign out again.
    for attempt in range(3):
        page.get_by_role("button", name="Sign out").click()
        expect()(page.get_by_text("1 changes are still waiting and would be lost.")).to_be_visible()
        assert AuthToken.objects.filter(user=shop["rep"]).count() == 1
        shot(page, "sign-out-warning")
        try:
            page.get_by_role("button", name="Sign out anyway").click(timeout=3_000)
            break
        except PlaywrightTimeout:
            assert attempt < 2, "the warning kept being redrawn away"

    expect()(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect()(status(page)).to_contain_text("Not signed in")
    assert AuthToken.objects.filter(user=shop["rep"]).count() == 0
    page.reload()
    expect()(page.get_by_label("Username")).to_have_value("")
    assert page.evaluate("window.fieldline.client.outbox().then((o) => o.length)") == 0
    assert page.evaluate("window.fieldline.client.records('store').then((r) => r.length)") == 0
    assert Visit.objects.count() == 0


def test_an_app_older_than_the_server_accepts_says_so_and_keeps_the_changes(shop, phone):
    context = phone(at=MARKET)
    page = signed_in(context)
    page.route(
        "**/api/sync/push",
        lambda route: route.fulfill(
            status=426,
            content_type="application/json",
            body=json.dumps({"detail": "upgrade", "min_version": "2.0.0"}),
        ),
    )
    open_store(page, "Markt Hopfen")
    page.get_by_role("button", name="Check in").click()

    expect()(page.locator("#sync-error")).to_have_text(
        "This app is older than the server accepts (version 2.0.0 or later). "
        "Reload the app to update it; your waiting changes are kept."
    )
    expect()(status(page)).to_contain_text("1 changes waiting")
    assert Visit.objects.count() == 0
