"""The store list on the dashboard and a store's page: paging, search by name, address and
phone, stores of the same name told apart by address, each a link to its page."""

import re

import pytest
from django.test import Client

from accounts.models import User
from tests.conftest import create

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(people):
    """60 north stores (three named alike at different addresses) and one south store."""
    made = {}
    for n in range(57):
        made[f"n{n}"] = create(
            "store",
            name=f"Shop {n:02d}",
            address=f"Ringstraße {n}, Hamburg",
            phone=f"+4940{1000000 + n}",
            lat=53.55,
            lon=9.99,
            region="north",
            owner=people["rep_north"].pk,
        )
    for street in ("Bahnhofstraße 2", "Marktplatz 7", "Uferweg 11"):
        made[street] = create(
            "store",
            name="Kiosk Express",
            address=f"{street}, Hamburg",
            lat=53.55,
            lon=9.99,
            region="north",
        )
    made["south"] = create(
        "store", name="Shop Süd", address="Isarweg 1, München", lat=48.1, lon=11.5, region="south"
    )
    return made


def browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def listed(html: str) -> list[str]:
    table = html.split('id="store-list"')[1].split("</table>")[0]
    return re.findall(r'<a href="/hq/stores/[0-9a-f-]{36}/">([^<]+)</a>', table)


def test_the_list_pages_through_the_stores_in_scope(shops, people):
    client = browser(people["manager_north"])
    first = text(client.get("/hq/"))
    third = text(client.get("/hq/?stores_page=3"))

    assert 'id="store-count">60<' in first
    assert listed(first)[:4] == ["Kiosk Express"] * 3 + ["Shop 00"]
    assert len(listed(first)) == 25
    assert "Page 1 of 3" in first
    assert 'href="?stores_page=2#stores"' in first
    assert listed(third) == [f"Shop {n:02d}" for n in range(47, 57)]
    assert "Shop Süd" not in first + third  # another region


def test_same_names_are_told_apart_by_address(shops, people):
    html = text(browser(people["manager_north"]).get("/hq/?q=express"))

    rows = re.findall(
        r'<tr data-store="([0-9a-f-]{36})"><td><a href="/hq/stores/\1/">Kiosk Express</a> '
        r'<span class="muted same-name"[^>]*>\(3 of this name\)</span></td> <td>([^<]+)</td>',
        html,
    )
    assert [address for _pk, address in rows] == [
        "Bahnhofstraße 2, Hamburg",
        "Marktplatz 7, Hamburg",
        "Uferweg 11, Hamburg",
    ]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("shop 1", [f"Shop {n}" for n in range(10, 20)]),
        ("MARKTPLATZ", ["Kiosk Express"]),
        ("Ringstraße 42,", ["Shop 42"]),
        ("+49 40 1000007", ["Shop 07"]),
        ("040 1000007", ["Shop 07"]),
        ("1000033", ["Shop 33"]),
        ("Isarweg", []),  # the south store: out of scope
        ("nothing like it", []),
    ],
)
def test_search_by_name_address_or_phone(shops, people, q, expected):
    response = browser(people["manager_north"]).get("/hq/", {"q": q})

    assert response.status_code == 200
    assert listed(text(response)) == expected


def test_a_search_keeps_its_words_across_pages(shops, people):
    html = text(browser(people["manager_north"]).get("/hq/", {"q": "shop"}))

    assert "Page 1 of 3" in html
    assert 'href="?q=shop&amp;stores_page=2#stores"' in html


def test_each_store_has_a_page_in_scope(shops, people):
    store = shops["Marktplatz 7"]
    page = text(browser(people["manager_north"]).get(f"/hq/stores/{store}/"))

    assert "<h1>Kiosk Express" in page
    assert "one of 3 stores of this name" in page
    assert '<dd id="store-address">Marktplatz 7, Hamburg</dd>' in page
    assert browser(people["manager_south"]).get(f"/hq/stores/{store}/").status_code == 404
    assert browser(people["rep_north"]).get(f"/hq/stores/{store}/").status_code == 403
