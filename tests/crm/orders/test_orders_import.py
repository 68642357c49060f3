"""Orders import: row-by-row validation, store matching by id or phone, idempotency."""

import datetime as dt
import io
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.orders import services
from crm.orders.models import Order, OrderLine
from crm.orders.services import StagedOrder, insert_orders, orders_import
from fieldline.middleware import BodySizeLimitMiddleware
from sync.models import ChangeLog
from tests.conftest import create

HEADER = "order_id,store_id,store_phone,order_date,sku,quantity,amount\n"


def north_shop(people, name: str, phone: str):
    """A north store of rep_north's, known to imports by its phone."""
    return create(
        "store",
        name=name,
        phone=phone,
        lat=53.55,
        lon=9.99,
        region="north",
        owner=people["rep_north"].pk,
    )


@pytest.fixture
def shops(people):
    """Two north stores with phones, one with a phone shared by a duplicate not yet merged."""
    return {
        "kiosk": north_shop(people, "Kiosk", "+494030301234"),
        "bakery": north_shop(people, "Bakery", "+49891234567"),
        "twin_a": north_shop(people, "Twin A", "+494055501234"),
        "twin_b": north_shop(people, "Twin B", "+494055501234"),
    }


def post_csv(client, text: str):
    return client.generic("POST", "/api/imports/orders", text.encode(), content_type="text/csv")


def good_file(shops) -> str:
    kiosk, bakery = shops["kiosk"], shops["bakery"]
    return HEADER + (
        f"A-1,{kiosk},,2025-11-02,SALAD,3,10.50\n"
        f"A-1,{kiosk},,2025-11-02,BREAD,1,2.25\n"
        f"A-2,,040 30 30 12 34,2025-11-03,SALAD,1,3.50\n"
        f"A-3,,+49 89 1234567,2025-11-04,MEAL,2,8.00\n"
        f"A-4,{bakery},089 1234567,2025-11-05,MEAL,1,4.00\n"
    )


@pytest.mark.django_db
def test_import_creates_orders_whose_amount_is_the_sum_of_their_lines(client_for, shops):
    response = post_csv(client_for("hq"), good_file(shops))

    assert response.status_code == 200, response.content
    assert response.json() == {
        "rows_read": 5,
        "rows_rejected": 0,
        "orders_created": 4,
        "lines_created": 5,
        "orders_skipped": 0,
        "rejected": [],
    }
    orders = {o.external_id: o for o in Order.objects.all()}
    assert orders["A-1"].amount == Decimal("12.75")
    assert orders["A-1"].store_id == shops["kiosk"]
    assert str(orders["A-1"].order_date) == "2025-11-02"
    assert orders["A-1"].lines.count() == 2
    # Matched by phone, written nationally and internationally.
    assert orders["A-2"].store_id == shops["kiosk"]
    assert orders["A-3"].store_id == shops["bakery"]
    assert orders["A-4"].store_id == shops["bakery"]


@pytest.mark.django_db
def test_second_import_of_the_same_file_changes_nothing(client_for, shops):
    client = client_for("hq")
    post_csv(client, good_file(shops))
    changes, orders, lines = (
        ChangeLog.objects.count(),
        Order.objects.count(),
        OrderLine.objects.count(),
    )
    snapshot = sorted(Order.objects.values_list("id", "external_id", "store_id", "amount"))

    again = post_csv(client, good_file(shops)).json()

    assert again == {
        "rows_read": 5,
        "rows_rejected": 0,
        "orders_created": 0,
        "lines_created": 0,
        "orders_skipped": 4,
        "rejected": [],
    }
    assert ChangeLog.objects.count() == changes
    assert (Order.objects.count(), OrderLine.objects.count()) == (orders, lines)
    assert sorted(Order.objects.values_list("id", "external_id", "store_id", "amount")) == snapshot


@pytest.mark.django_db
def test_rejected_rows_are_reported_with_line_number_and_reasons(client_for, shops):
    kiosk, bakery = shops["kiosk"], shops["bakery"]
    text = HEADER + (
        f"B-1,{uuid.uuid4()},,2025-11-02,SALAD,1,1.00\n"  # line 2
        f"B-2,{kiosk},,2026-13-02,SALAD,1,1.00\n"  # line 3
        f"B-3,{kiosk},,2025-11-02,SALAD,1,-4.00\n"  # line 4
        f"B-4,,,2025-11-02,SALAD,0,abc\n"  # line 5
        f"B-5,,040 555 01234,2025-11-02,SALAD,1,1.00\n"  # line 6: two stores share it
        f"B-6,,12,2025-11-02,SALAD,1,1.00\n"  # line 7
        f"B-7,{kiosk},,2025-11-02,SALAD,1,1.00\n"  # line 8: fine, but its sibling is not
        f"B-7,{kiosk},,2025-11-02,BREAD,1,1.005\n"  # line 9
        f"B-8,{kiosk},,2025-11-02,SALAD,1,1.00\n"  # line 10
        f"B-8,{bakery},,2025-11-03,BREAD,1,1.00\n"  # line 11
        f"B-9,{kiosk},,2099-01-01,SALAD,1,1.00\n"  # line 12
        f"B-10,{kiosk},,2025-11-02,SALAD,2,5.00\n"  # line 13: the only good one
    )

    body = post_csv(client_for("hq"), text).json()

    assert body["rows_read"] == 12
    assert body["rows_rejected"] == 11
    assert body["orders_created"] == 1
    assert {(row["line"], row["order_id"]): row["reasons"] for row in body["rejected"]} == {
        (2, "B-1"): ["unknown store"],
        (3, "B-2"): ["order_date is not a date (YYYY-MM-DD)"],
        (4, "B-3"): ["amount is negative"],
        (5, "B-4"): [
            "store_id or store_phone is required",
            "quantity is not a whole number of at least 1",
            "amount is not a number",
        ],
        (6, "B-5"): ["several stores have this phone number"],
        (7, "B-6"): ["store_phone is not a valid phone number"],
        (8, "B-7"): ["another line of order B-7 was rejected"],
        (9, "B-7"): ["amount has more than 2 decimal places"],
        (10, "B-8"): ["another line of order B-8 was rejected"],
        (11, "B-8"): [
            "store differs from the first line of the order",
            "order_date differs from the first line of the order",
        ],
        (12, "B-9"): ["order_date is in the future"],
    }
    assert list(Order.objects.values_list("external_id", flat=True)) == ["B-10"]
    assert OrderLine.objects.count() == 1


@pytest.mark.django_db
def test_lines_of_an_order_must_be_consecutive(shops):
    kiosk = shops["kiosk"]
    text = HEADER + (
        f"C-1,{kiosk},,2025-11-02,SALAD,1,1.00\n"
        f"C-2,{kiosk},,2025-11-02,SALAD,1,1.00\n"
        f"C-1,{kiosk},,2025-11-02,BREAD,1,1.00\n"
    )

    report = orders_import(csv_text=io.StringIO(text), chunk_rows=1)

    assert report.orders_created == 2
    assert [(row.line, row.reasons) for row in report.rejected] == [
        (4, ("lines of order C-1 are not consecutive in the file",))
    ]
    assert Order.objects.get(external_id="C-1").amount == Decimal("1.00")


@pytest.mark.django_db
def test_chunks_end_at_order_boundaries_and_store_lookups_do_not_grow_with_rows(shops):
    def file_of(orders: int) -> str:
        rows = [
            f"D{orders}-{n // 2},,040 30 30 12 34,2025-11-02,SKU{n % 2},1,1.00\n"
            for n in range(orders * 2)
        ]
        return HEADER + "".join(rows)

    with CaptureQueriesContext(connection) as small:
        orders_import(csv_text=io.StringIO(file_of(5)), chunk_rows=1000)
    with CaptureQueriesContext(connection) as large:
        report = orders_import(csv_text=io.StringIO(file_of(300)), chunk_rows=1000)

    assert report.orders_created == 300
    assert report.lines_created == 600

    def store_lookups(queries) -> int:
        return sum('FROM "stores_store"' in query["sql"] for query in queries.captured_queries)

    # One query for all the phones of a chunk (no ids in these files: no id lookup).
    assert store_lookups(small) == store_lookups(large) == 1
    # Chunks of 7 rows cut no order in two: every order keeps both lines.
    report = orders_import(csv_text=io.StringIO(file_of(20)), chunk_rows=7)
    assert (report.orders_created, report.lines_created, report.rows_rejected) == (20, 40, 0)


@pytest.mark.django_db
def test_multipart_upload_is_accepted(client_for, shops):
    upload = io.BytesIO(good_file(shops).encode())
    upload.name = "orders.csv"

    response = client_for("hq").post("/api/imports/orders", {"file": upload}, format="multipart")

    assert response.status_code == 200, response.content
    assert response.json()["orders_created"] == 4


@pytest.mark.django_db
def test_a_file_without_the_needed_columns_is_refused_whole(client_for, shops):
    response = post_csv(client_for("hq"), "order_id,order_date,sku\nX,2025-11-02,S\n")

    assert response.status_code == 400
    assert response.json() == {
        "file": ["Missing columns: quantity, amount, store_id or store_phone."]
    }
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_a_body_that_is_not_utf8_is_a_400(client_for, shops):
    body = (HEADER + f"E-1,{shops['kiosk']},,2025-11-02,K\xe4se,1,1.00\n").encode("latin-1")

    response = client_for("hq").generic(
        "POST", "/api/imports/orders", body, content_type="text/csv"
    )

    assert response.status_code == 400
    assert Order.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["manager_north", "rep_north"])
def test_only_hq_may_import(client_for, shops, who):
    response = post_csv(client_for(who), good_file(shops))

    assert response.status_code == 403
    assert Order.objects.count() == 0


def test_imports_may_send_large_bodies():
    assert BodySizeLimitMiddleware.limit_for("/api/imports/orders") == 200 * 1024 * 1024


def staged(shops, external_id: str) -> StagedOrder:
    return StagedOrder(
        id=uuid.uuid4(),
        external_id=external_id,
        store_id=shops["kiosk"],
        order_date=dt.date(2026, 11, 2),
        amount=Decimal("3.00"),
        lines=(("SALAD", 1, Decimal("1.00")), ("BREAD", 2, Decimal("2.00"))),
    )


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_postgresql_copies_through_a_staging_table(shops, monkeypatch):
    def portable(_orders):
        raise AssertionError("PostgreSQL must take the COPY path")

    monkeypatch.setattr(services, "_insert_orders_portable", portable)
    assert insert_orders(orders=[staged(shops, "P-1"), staged(shops, "P-2")]) == (2, 4)
    # Conflicting orders are skipped with their lines, in the same transaction as well.
    assert insert_orders(orders=[staged(shops, "P-2"), staged(shops, "P-3")]) == (1, 2)
    assert OrderLine.objects.filter(order__external_id="P-2").count() == 2
    assert Order.objects.count() == 3


@pytest.mark.django_db
def test_portable_path_skips_existing_orders_with_their_lines(shops, monkeypatch):
    if connection.vendor == "postgresql":
        monkeypatch.setattr(services, "_insert_orders_copy", services._insert_orders_portable)
    assert insert_orders(orders=[staged(shops, "S-1"), staged(shops, "S-2")]) == (2, 4)
    assert insert_orders(orders=[staged(shops, "S-2"), staged(shops, "S-3")]) == (1, 2)
    assert OrderLine.objects.filter(order__external_id="S-2").count() == 2
    assert Order.objects.count() == 3


@pytest.mark.django_db
def test_import_orders_command_reports_counts_and_rejections(shops, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(good_file(shops) + "Z-1,,,2025-11-02,S,1,1.00\n", encoding="utf-8")
    out = io.StringIO()

    call_command("import_orders", str(path), stdout=out, stderr=io.StringIO())

    assert out.getvalue().splitlines() == [
        "line 7: store_id or store_phone is required",
        "rows read 6, rejected 1; orders created 4 (5 lines), skipped as already imported 0",
    ]
    assert Order.objects.count() == 4


@pytest.mark.django_db
def test_hostile_numbers_and_text_are_row_errors_not_500(client_for, shops):
    """A 5,000-digit quantity, `1e999999999`, `1e-999999999`, `sNaN` and a NUL in a cell
    are each a rejected row; the good row beside them is imported."""
    kiosk = shops["kiosk"]
    text = HEADER + (
        f"H-1,{kiosk},,2025-11-02,SALAD,{'9' * 5000},1.00\n"
        f"H-2,{kiosk},,2025-11-02,SALAD,1,1e999999999\n"
        f"H-3,{kiosk},,2025-11-02,SALAD,1,1e-999999999\n"
        f"H-4,{kiosk},,2025-11-02,SALAD,1,sNaN\n"
        f"H-5,{kiosk},,2025-11-02,SALAD,1,{'1' * 5000}\n"
        f"H-6\x00,{kiosk},,2025-11-02,SALAD,1,1.00\n"
        f"H-7,{kiosk},,2025-11-02,SALAD,1e3,1.00\n"
        f"H-8,{kiosk},,2025-11-02,SALAD,1,1.00\n"
    )

    response = post_csv(client_for("hq"), text)

    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["rows_rejected"] == 7
    assert body["orders_created"] == 1
    reasons = {row["line"]: row["reasons"] for row in body["rejected"]}
    assert reasons[2] == ["quantity is not a whole number of at least 1"]
    assert reasons[3] == ["amount is not a number"]
    assert reasons[4] == ["amount is not a number"]
    assert reasons[5] == ["amount is not a number"]
    assert reasons[6] == ["amount is too large"]
    assert reasons[7] == ["order_id: NUL characters are not allowed."]
    assert "9999" not in response.content.decode()
    assert list(Order.objects.values_list("external_id", flat=True)) == ["H-8"]
