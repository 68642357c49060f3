"""Figures of the rep's app on a phone profile, against a running server (e.g. `make demo`):

    python -m tests.fieldapp.measure --url http://127.0.0.1:8000 --username rep-north-1

First load: bytes on the wire for the app's first visit (compressed, headers included).
First sync: from "Sign in" to "Synced" for the whole scope of the user. Open a store
offline: from the address change to the drawn page, over ten stores, with the CPU slowed
4x (Chrome's "mid-tier mobile" profile) and the network off.
"""

import argparse
import json
import statistics
import time

from playwright.sync_api import expect, sync_playwright


def measure(url: str, username: str, password: str, chromium: str) -> dict:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(
            viewport={"width": 360, "height": 780},
            is_mobile=True,
            has_touch=True,
            geolocation={"latitude": 53.55, "longitude": 9.99, "accuracy": 20},
            permissions=["geolocation"],
        )
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        wire = {"bytes": 0, "requests": 0}

        def finished(event):
            wire["bytes"] += event["encodedDataLength"]
            wire["requests"] += 1

        cdp.on("Network.loadingFinished", finished)
        page.goto(f"{url}/app/")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        first_load = dict(wire)

        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        started = time.perf_counter()
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("status")).to_contain_text("Synced", timeout=600_000)
        first_sync_s = time.perf_counter() - started
        records = page.evaluate(
            "Promise.all(['store','survey','visit','task','photo','followup']"
            ".map((e) => window.fieldline.client.records(e).then((r) => r.length)))"
        )

        context.set_offline(True)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        page.reload()  # the app opened with no network at all, from the service worker
        expect(page.get_by_role("status")).to_contain_text("Offline")
        page.get_by_role("link", name="Stores", exact=True).click()
        expect(page.get_by_role("heading", name="Stores")).to_be_visible()
        names = page.locator(".store-link").all_inner_texts()[::7][:10]
        opened = []
        for name in names:
            page.get_by_role("link", name="Stores", exact=True).click()
            expect(page.get_by_role("heading", name="Stores")).to_be_visible()
            page.get_by_role("link", name=name, exact=True).first.click()
            expect(page.get_by_role("heading", name=name)).to_be_visible()
            opened.append(float(page.locator("#screen").get_attribute("data-rendered-in-ms")))
        day_ms = []
        for _ in range(3):  # the first plans the route, the next ones reuse it
            page.get_by_role("link", name="Stores", exact=True).click()
            expect(page.get_by_role("heading", name="Stores")).to_be_visible()
            page.get_by_role("link", name="Day").click()
            expect(page.get_by_role("heading", name="Today")).to_be_visible()
            day_ms.append(float(page.locator("#screen").get_attribute("data-rendered-in-ms")))
        stops = page.locator("ol.stops > li").count()
        # Two kilometres on: the day is put in a new order on the phone.
        context.set_geolocation({"latitude": 53.568, "longitude": 9.99, "accuracy": 20})
        page.get_by_role("button", name="Route from here").click()
        expect(page.get_by_text("from your last position")).to_be_visible()
        rerouted_ms = float(page.locator("#screen").get_attribute("data-rendered-in-ms"))
        browser.close()
    return {
        "first_load_bytes": first_load["bytes"],
        "first_load_requests": first_load["requests"],
        "first_sync_s": round(first_sync_s, 2),
        "records": dict(
            zip(["store", "survey", "visit", "task", "photo", "followup"], records, strict=True)
        ),
        "store_open_offline_ms_median": round(statistics.median(opened), 1),
        "store_open_offline_ms_max": round(max(opened), 1),
        "day_stops": stops,
        "day_open_offline_ms_first": day_ms[0],
        "day_open_offline_ms_again": day_ms[-1],
        "day_rerouted_offline_ms": rerouted_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="rep-north-1")
    parser.add_argument("--password", default="fieldline-demo")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    options = parser.parse_args()
    print(
        json.dumps(
            measure(options.url, options.username, options.password, options.chromium), indent=2
        )
    )


if __name__ == "__main__":
    main()
