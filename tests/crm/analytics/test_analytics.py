"""RFM segments, ABC grades and churn warnings against a hand-computed history."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from crm.analytics.models import AnalyticsRun
from crm.analytics.scoring import AnalyticsParameters, StoreOrderStats, churn_flags, rfm_segments
from crm.analytics.selectors import store_order_stats
from crm.analytics.services import analytics_recompute
from stores.models import Segment, Store
from sync.models import ChangeLog
from tasks.models import Task
from tests.conftest import create
from tests.crm.fixtures import AS_OF, EXPECTED_SEGMENTS, build_history

PARAMS = AnalyticsParameters(
    as_of=AS_OF,
    window_days=90,
    trend_days=45,
    intent_weight=0.5,
    a_min=0.65,
    b_min=0.35,
    full_footfall=1000,
    full_area_m2=120.0,
    churn_factor=2.0,
    churn_min_orders=3,
    reactivation_due_days=7,
)


@pytest.fixture
def history(people):
    return build_history(people)


@pytest.mark.django_db
def test_rfm_figures_and_segments_match_the_hand_computed_history(history):
    stats = {row.store_id: row for row in store_order_stats(params=PARAMS)}
    s1 = stats[history["s1"]]
    assert (s1.orders, s1.window_orders, s1.window_amount) == (4, 4, Decimal("400"))
    assert stats[history["s3"]].last_order == dt.date(2026, 11, 25)  # the single order
    assert history["s6"] not in stats

    segments, averages = rfm_segments(stats=list(stats.values()), as_of=AS_OF)

    assert averages.active_stores == 7
    assert averages.recency_days == 27.0
    assert averages.frequency == pytest.approx(17 / 7)
    assert averages.monetary == pytest.approx(Decimal(5080) / 7)
    names = {pk: name for name, pk in history.items()}
    assert {names[pk]: segment for pk, segment in segments.items()} == {
        name: segment for name, segment in EXPECTED_SEGMENTS.items() if segment
    }


@pytest.mark.django_db
def test_recompute_writes_segments_and_grades_through_the_sync_engine(history, people):
    result = analytics_recompute(actor=people["hq"], as_of=AS_OF)

    stores = {s.name: s for s in Store.objects.all()}
    assert {name: store.segment for name, store in stores.items()} == EXPECTED_SEGMENTS
    # s8: rising orders (intent 1) and a full site (potential 1) -> A.
    # s1: rising orders, no survey -> 0.5 -> B.  s2: no recent order, full site -> 0.5 -> B.
    # s5: no recent order; latest survey 0.3*0.5 + 0.2*0.5 + 0.3*0.2 + 0.2*0.5 = 0.41 -> C.
    assert stores["s8"].grade == "A"
    assert stores["s1"].grade == "B"
    assert stores["s2"].grade == "B"
    assert stores["s5"].grade == "C"
    assert stores["s6"].grade == "C"
    s1 = stores["s1"]
    assert s1.version == 2
    # Rising orders, one in the window: the `growing` model tag (0.7 x 1 + 0.3 x 1).
    assert ChangeLog.objects.filter(record_id=s1.pk, op="update").get().new_values == {
        "segment": "early_growth",
        "grade": "B",
        "tags": ["growing"],
        "tag_kinds": {"growing": "model"},
    }
    run = AnalyticsRun.objects.get()
    assert run == result.run
    assert run.parameters["as_of"] == "2026-11-30"
    assert run.parameters["window_days"] == 90
    assert run.counts["stores"] == 11
    assert run.counts["stores_with_orders"] == 10
    assert run.counts["stores_changed"] == 11
    assert run.finished_at is not None


@pytest.mark.django_db
def test_a_second_recompute_changes_no_store(history, people):
    analytics_recompute(actor=people["hq"], as_of=AS_OF)
    changes, tasks = ChangeLog.objects.count(), Task.objects.count()

    again = analytics_recompute(actor=people["hq"], as_of=AS_OF)

    assert again.run.counts["stores_changed"] == 0
    assert again.run.counts["reactivation_tasks"] == 0
    assert (ChangeLog.objects.count(), Task.objects.count()) == (changes, tasks)


@pytest.mark.django_db
def test_churn_dates_match_the_hand_computed_history(history):
    stats = store_order_stats(params=PARAMS)
    segments, _ = rfm_segments(stats=stats, as_of=AS_OF)

    warnings = churn_flags(stats=stats, segment_of=segments, params=PARAMS)

    names = {pk: name for name, pk in history.items()}
    # Own intervals (>= 3 orders): s1 29/3, s2 9/2, s5 30/2, s8 14/2, s9 2/2.
    # s3 (early_growth) uses s1's 9.67: 5 days is fine. s4 and s7 have no peers with enough
    # orders in their segment: all stores' mean, 37.17 / 5 = 7.43. s10 and s11 (tail_churn)
    # use s5 and s9: 8.0.
    assert {
        names[w.store_id]: (w.days_since_last_order, w.average_interval_days, w.interval_source)
        for w in warnings
    } == {
        "s2": (51, 4.5, "own"),
        "s5": (152, 15.0, "own"),
        "s7": (71, 7.43, "all"),
        "s9": (58, 1.0, "own"),
        "s10": (213, 8.0, "segment"),
        "s11": (243, 8.0, "segment"),
    }


@pytest.mark.django_db
def test_flagged_key_accounts_get_one_reactivation_task_for_their_owner(history, people):
    already = create(
        "task",
        store=history["s10"],
        assignee=people["rep_north"].pk,
        type="reactivation",
        title="Call them",
        status="accepted",
    )

    result = analytics_recompute(actor=people["hq"], as_of=AS_OF)

    # Key accounts before this run: s2, s9, s10; s10 already has an open reactivation task.
    tasks = Task.objects.filter(type="reactivation").exclude(pk=already)
    assert sorted((t.store.name, t.assignee.username, str(t.due_date)) for t in tasks) == [
        ("s2", "rep-north-1", "2026-12-07"),
        ("s9", "rep-north-2", "2026-12-07"),
    ]
    assert result.run.counts["churn_warnings"] == 6
    assert result.run.counts["reactivation_tasks"] == 2
    assert {t.scope_owner_id for t in tasks} == {people["rep_north"].pk, people["rep_north_2"].pk}


@pytest.mark.django_db
def test_churn_list_is_scoped_to_the_managers_region(history, people, client_for):
    analytics_recompute(actor=people["hq"], as_of=AS_OF)

    north = client_for("manager_north").get("/api/analytics/churn", {"as_of": "2026-11-30"})
    everyone = client_for("hq").get("/api/analytics/churn", {"as_of": "2026-11-30"})
    rep = client_for("rep_north").get("/api/analytics/churn")

    assert north.status_code == 200, north.content
    assert [row["store_name"] for row in north.json()["results"]] == ["s10", "s5", "s7", "s9", "s2"]
    assert [row["store_name"] for row in everyone.json()["results"]][0] == "s11"
    assert everyone.json()["count"] == 6
    first = north.json()["results"][0]
    assert first["last_order"] == "2026-05-01"
    assert first["days_since_last_order"] == 213
    assert first["interval_source"] == "segment"
    assert rep.status_code == 403


@pytest.mark.django_db
def test_recompute_api_is_for_hq_and_answers_the_run(
    history, client_for, django_capture_on_commit_callbacks
):
    refused = client_for("manager_north").post("/api/analytics/recompute", {}, format="json")
    # The job is enqueued on commit; without a broker it runs inline then.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for("hq").post(
            "/api/analytics/recompute", {"as_of": "2026-11-30"}, format="json"
        )

    assert refused.status_code == 403
    assert len(callbacks) == 1
    assert response.status_code == 202, response.content
    assert response.json()["parameters"]["as_of"] == "2026-11-30"
    followed = client_for("manager_north").get(f"/api/analytics/runs/{response.json()['id']}")
    assert followed.status_code == 200, followed.content
    body = followed.json()
    assert body["kind"] == "recompute"
    assert body["finished_at"] is not None
    assert body["parameters"]["as_of"] == "2026-11-30"
    assert body["counts"]["segments"]["head_active"] == 1
    assert body["counts"]["churn_warnings"] == 6
    assert AnalyticsRun.objects.count() == 1


@pytest.mark.django_db
def test_recompute_command_records_a_run(history, capsys):
    call_command("recompute_analytics", "--as-of", "2026-11-30")

    run = AnalyticsRun.objects.get()
    assert run.started_by is None
    assert run.counts["stores_changed"] == 11


stats_rows = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=50),  # orders
        st.integers(min_value=0, max_value=400),  # days since the last order
        st.integers(min_value=0, max_value=20),  # orders in the window
        st.decimals(min_value=0, max_value=10_000, places=2),
    ),
    max_size=40,
)


@given(stats_rows)
def test_every_store_with_orders_gets_exactly_one_segment(rows):
    stats = [
        StoreOrderStats(
            store_id=uuid.uuid4(),
            orders=orders,
            first_order=AS_OF - dt.timedelta(days=days + 10),
            last_order=AS_OF - dt.timedelta(days=days),
            window_orders=min(window, orders),
            window_amount=amount if min(window, orders) else Decimal(0),
            trend_recent=0,
            trend_prior=0,
        )
        for orders, days, window, amount in rows
    ]

    segments, _ = rfm_segments(stats=stats, as_of=AS_OF)

    assert list(segments) == [row.store_id for row in stats]
    assert all(segment in Segment.values for segment in segments.values())
