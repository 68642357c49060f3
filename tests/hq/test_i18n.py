"""The HQ pages in English and German: the catalogue is complete and compiled, the
browser's Accept-Language or the language menu picks the language, amounts carry their
currency in the reader's notation, times are in TIME_ZONE, and the API stays English."""

import gettext
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from crm.models import Order
from hq.templatetags.humanize_hq import grouped, money, percent
from tests.conftest import create

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "backend" / "locale" / "de" / "LC_MESSAGES"


def po_entries(path: Path) -> list[dict]:
    """The entries of a .po file: flags, context, msgid, plural and translations."""
    entries = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        entry: dict = {"flags": [], "msgstr": []}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith("#"):
                continue
            elif match := re.match(
                r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) "(.*)"$', line
            ):
                key = match.group(1)
                text = match.group(2)
                if key.startswith("msgstr"):
                    entry["msgstr"].append(text)
                else:
                    entry[key] = text
            elif line.startswith('"') and key:
                if key.startswith("msgstr"):
                    entry["msgstr"][-1] += line[1:-1]
                else:
                    entry[key] += line[1:-1]
        entries.append(entry)
    return entries


def unescape(text: str) -> str:
    return (
        text.encode("latin-1", "backslashreplace")
        .decode("unicode_escape")
        .encode("latin-1")
        .decode("utf-8")
        if "\\" in text
        else text
    )


def test_every_german_message_is_translated_and_none_is_fuzzy():
    entries = po_entries(CATALOGUE / "django.po")
    messages = [e for e in entries if e.get("msgid")]

    assert len(messages) > 150
    untranslated = [e["msgid"] for e in messages if not all(e["msgstr"])]
    fuzzy = [e.get("msgid", "(header)") for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []


def test_the_compiled_catalogue_is_the_current_one():
    """django.mo holds every translation of django.po as it is now (compiled after the last
    edit): `manage.py compilemessages` or `msgfmt -o django.mo django.po`."""
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = []
    for entry in po_entries(CATALOGUE / "django.po"):
        msgid = entry.get("msgid")
        if not msgid or "msgid_plural" in entry:
            continue
        msgid, expected = unescape(msgid), unescape(entry["msgstr"][0])
        got = (
            catalogue.pgettext(unescape(entry["msgctxt"]), msgid)
            if "msgctxt" in entry
            else catalogue.gettext(msgid)
        )
        if got != expected:
            stale.append(msgid)
    assert stale == []


def office(user, **headers) -> Client:
    client = Client(**headers)
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "german"),
    [
        ("/hq/map/", "Filialen nach Vollständigkeit der Erhebung"),
        ("/hq/analytics/", "Kundenauswertungen"),
        ("/hq/exports/", "Im Hintergrund exportieren"),
        ("/hq/devices/", "Noch kein Gerät hat synchronisiert."),
        ("/hq/", "Vollständigkeit der Erhebungen"),
        ("/hq/review/", "Prüfliste"),
        ("/hq/dispatch/", "Aufträge versenden"),
    ],
)
def test_the_browsers_language_picks_german(people, path, german):
    response = office(people["hq"], HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5").get(path)
    html = response.content.decode()

    assert response.status_code == 200
    assert response["Content-Language"] == "de"
    assert '<html lang="de">' in html
    assert german in html
    assert ">Übersicht</a>" in html
    assert "Zentrale" in html  # the role, translated


@pytest.mark.django_db
def test_english_is_the_default(people):
    html = office(people["hq"], HTTP_ACCEPT_LANGUAGE="fr-FR").get("/hq/analytics/").content.decode()

    assert '<html lang="en">' in html
    assert "Customer analytics" in html


@pytest.mark.django_db
def test_the_language_menu_overrides_the_browser(people):
    client = office(people["hq"], HTTP_ACCEPT_LANGUAGE="en-GB")

    switched = client.post("/i18n/setlang/", {"language": "de", "next": "/hq/exports/"})
    html = client.get("/hq/exports/").content.decode()

    assert (switched.status_code, switched["Location"]) == (302, "/hq/exports/")
    assert "Ihre Exporte" in html
    assert '<option value="de" selected lang="de">Deutsch</option>' in html


@pytest.mark.django_db
def test_the_api_stays_english_whatever_the_phone_asks_for(people):
    response = Client(HTTP_ACCEPT_LANGUAGE="de").post(
        "/api/auth/token", {}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["username"] == ["This field is required."]
    assert "Content-Language" not in response


@pytest.mark.django_db
def test_german_analytics_show_amounts_in_german_notation(people, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "CURRENCY": "EUR"}
    store = create("store", name="Eck", lat=53.5, lon=9.9, region="north")
    Order.objects.create(external_id="a", store_id=store, order_date="2026-11-16", amount=2000)
    Order.objects.create(external_id="b", store_id=store, order_date="2026-11-23", amount=1234.5)

    html = (
        office(people["hq"], HTTP_ACCEPT_LANGUAGE="de")
        .get("/hq/analytics/?until=2026-11-29")
        .content.decode()
    )

    assert "Mo 23.11.2026" in html
    assert "1.234,50\xa0€" in html or "1.234,50 €" in html
    assert "-38 %" in html
    assert "Bestellungen pro Tag, EUR" in html
    # SVG coordinates stay numbers: a German decimal comma would make "612,5" two values.
    assert re.findall(r' (?:c?x|c?y|x1|x2|y1|y2|width|height|r)="[^"]*,[^"]*"', html) == []
    assert 'class="label" x="' in html


@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [
        ("en", 1234.5, "€1,234.50"),
        ("de", 1234.5, "1.234,50 €"),
        ("en", 0, "€0.00"),
        ("de", None, "–"),
    ],
)
def test_money_in_each_language(language, value, expected):
    with translation.override(language):
        assert money(value) == expected


def test_money_in_another_currency(settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "CURRENCY": "CHF"}
    with translation.override("de"):
        assert money(12) == "12,00 CHF"


def test_counts_and_percentages_in_each_language():
    with translation.override("de"):
        assert (grouped(12400), percent(-0.4)) == ("12.400", "-40 %")
    with translation.override("en"):
        assert (grouped(12400), percent(-0.4)) == ("12,400", "-40%")


def test_time_zone_comes_from_the_environment():
    code = "from django.conf import settings; print(settings.TIME_ZONE)"
    env = {**os.environ, "DEBUG": "true", "TIME_ZONE": "Europe/Berlin"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "backend/manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "Europe/Berlin"
