"""Fact, model, predicted and rule tags of the analytics recompute, on the hand-computed
history of tests/crm/fixtures.py (as of 2026-11-30, default thresholds).

store  fact                                                   model                    predicted
s1     -                                                      growing                  -
s2     has_coffee_machine/_hot_food_cabinet/_microwave,       lunch_potential          churn_risk
       has_survey, high_footfall
s3     new_customer (one order)                               growing                  -
s4     new_customer (two orders)                              growing                  -
s5     has_microwave, has_survey, high_footfall (500 >= 500)  -                        churn_risk
s7, s9, s10, s11  -                                           -                        churn_risk
s8     the equipment tags, has_survey, high_footfall,         growing, lunch_potential -
       new_customer
Every store with orders has fewer than nine: all but s6 are `new_customer` (none is
`established`, which takes the ninth order).

growing = 0.7 x intent + 0.3 x (an order in the window) >= 0.8: s1, s3, s4, s8 ordered only
in the last 45 days (intent 1). lunch_potential = 0.4 x footfall + 0.3 x lunch trade area
+ 0.3 x hot-food equipment share >= 0.6: s2 and s8 (office, full site) score 1; s5
(residential, 500 passers-by, a microwave) 0.4 x 0.5 + 0 + 0.3 / 3 = 0.3.
"""

import datetime as dt
from decimal import Decimal

import pytest

from crm.analytics.models import TagRule
from crm.analytics.services import analytics_recompute
from crm.analytics.tags import (
    Condition,
    StoreFacts,
    TagRuleInvalid,
    condition_holds,
    customer_stage,
    parse_conditions,
)
from crm.orders.models import Order
from stores.models import Store
from sync.bulk import bulk_update_records
from sync.models import ChangeLog
from tests.crm.fixtures import AS_OF, build_history

EQUIPMENT_TAGS = {"has_coffee_machine": "fact", "has_hot_food_cabinet": "fact"}
EXPECTED = {
    "s1": {"growing": "model", "new_customer": "fact"},
    "s2": {
        **EQUIPMENT_TAGS,
        "has_microwave": "fact",
        "has_survey": "fact",
        "high_footfall": "fact",
        "lunch_potential": "model",
        "churn_risk": "predicted",
        "new_customer": "fact",
    },
    "s3": {"growing": "model", "new_customer": "fact"},
    "s4": {"growing": "model", "new_customer": "fact"},
    "s5": {
        "has_microwave": "fact",
        "has_survey": "fact",
        "high_footfall": "fact",
        "churn_risk": "predicted",
        "new_customer": "fact",
    },
    "s6": {},
    "s7": {"churn_risk": "predicted", "new_customer": "fact"},
    "s8": {
        **EQUIPMENT_TAGS,
        "has_microwave": "fact",
        "has_survey": "fact",
        "high_footfall": "fact",
        "lunch_potential": "model",
        "growing": "model",
        "new_customer": "fact",
    },
    "s9": {"churn_risk": "predicted", "new_customer": "fact"},
    "s10": {"churn_risk": "predicted", "new_customer": "fact"},
    "s11": {"churn_risk": "predicted", "new_customer": "fact"},
}


@pytest.fixture
def history(people):
    return build_history(people)


def rule(name: str, conditions: list[dict]) -> TagRule:
    from django.utils import timezone

    now = timezone.now()
    return TagRule.objects.create(name=name, conditions=conditions, created_at=now, updated_at=now)


@pytest.mark.django_db
def test_recompute_writes_each_stores_computed_tags_with_their_kinds(history, people):
    result = analytics_recompute(actor=people["hq"], as_of=AS_OF)

    stores = {s.name: s for s in Store.objects.all()}
    assert {name: store.tag_kinds for name, store in stores.items()} == EXPECTED
    assert {name: sorted(store.tags) for name, store in stores.items()} == {
        name: sorted(kinds) for name, kinds in EXPECTED.items()
    }
    assert result.run.counts["tags"]["churn_risk"] == 6
    assert result.run.counts["tags"]["growing"] == 4
    assert result.run.parameters["tags"]["high_footfall"] == 500
    # Written through the sync engine: the tags are in the store's changelog row.
    change = ChangeLog.objects.get(record_id=history["s7"], op="update")
    assert change.new_values["tags"] == ["churn_risk", "new_customer"]
    assert change.new_values["tag_kinds"] == {"churn_risk": "predicted", "new_customer": "fact"}
    assert result.run.parameters["tags"]["established_from_order"] == 9


@pytest.mark.django_db
def test_hand_set_tags_are_kept_and_stale_computed_ones_dropped(history, people):
    # s1 was tagged by hand, including `has_survey`, which it has not earned; s7 carries a
    # rule tag whose rule has since been deleted.
    bulk_update_records(
        entity="store",
        values_by_id={
            history["s1"]: {"tags": ["open_sunday", "has_survey", "key_account"]},
            history["s7"]: {"tags": ["old_rule"], "tag_kinds": {"old_rule": "rule"}},
        },
    )

    analytics_recompute(actor=people["hq"], as_of=AS_OF)

    s1, s7 = Store.objects.get(pk=history["s1"]), Store.objects.get(pk=history["s7"])
    assert s1.tags == ["open_sunday", "key_account", "growing", "new_customer"]
    assert s1.tag_kinds == {"growing": "model", "new_customer": "fact"}
    assert s7.tags == ["churn_risk", "new_customer"]
    assert s7.tag_kinds == {"churn_risk": "predicted", "new_customer": "fact"}


@pytest.mark.django_db
def test_rule_tags_follow_hq_conditions_and_leave_with_their_rule(history, people):
    lapsed = rule(
        "lapsed_regular",
        [
            {"field": "tags", "op": "contains", "value": "churn_risk"},
            {"field": "orders", "op": "gte", "value": 3},
        ],
    )
    rule("big_site", [{"field": "area_m2", "op": "gte", "value": 100}])
    rule(
        "unsurveyed_north",
        [
            {"field": "footfall_weekday", "op": "exists", "value": False},
            {"field": "region", "op": "eq", "value": "north"},
            {"field": "segment", "op": "in", "value": ["early_growth", "mid_growth"]},
        ],
    )
    inactive = rule("anything", [{"field": "orders", "op": "gte", "value": 0}])
    TagRule.objects.filter(pk=inactive.pk).update(active=False)

    result = analytics_recompute(actor=people["hq"], as_of=AS_OF)

    def tagged(name: str) -> list[str]:
        return sorted(s.name for s in Store.objects.all() if s.tag_kinds.get(name) == "rule")

    # Churn-flagged with at least 3 orders: s2, s5, s9 (s7, s10, s11 ordered once).
    assert tagged("lapsed_regular") == ["s2", "s5", "s9"]
    assert tagged("big_site") == ["s2", "s8"]  # 120 m2; s5's latest survey says 60
    assert tagged("unsurveyed_north") == ["s1", "s3", "s4"]
    assert tagged("anything") == []
    assert [r["name"] for r in result.run.parameters["tag_rules"]] == [
        "big_site",
        "lapsed_regular",
        "unsurveyed_north",
    ]

    lapsed.delete()
    analytics_recompute(actor=people["hq"], as_of=AS_OF)

    assert tagged("lapsed_regular") == []
    assert "lapsed_regular" not in Store.objects.get(pk=history["s2"]).tags


@pytest.mark.django_db
def test_a_second_recompute_leaves_tags_alone(history, people):
    analytics_recompute(actor=people["hq"], as_of=AS_OF)
    changes = ChangeLog.objects.count()

    again = analytics_recompute(actor=people["hq"], as_of=AS_OF)

    assert again.run.counts["stores_changed"] == 0
    assert ChangeLog.objects.count() == changes


@pytest.mark.django_db
def test_computed_tags_are_dispatch_filters_and_on_the_store_record(history, people, client_for):
    analytics_recompute(actor=people["hq"], as_of=AS_OF)
    manager = client_for("manager_north")

    preview = manager.post(
        "/api/tasks/dispatch",
        {
            "filter": {"tags": ["churn_risk", "has_survey"]},
            "task": {"type": "reactivation", "title": "Win them back"},
            "dry_run": True,
        },
        format="json",
    )
    record = client_for("rep_north").get(f"/api/stores/{history['s8']}/")
    listed = manager.get("/api/stores/", {"tag": "lunch_potential"})

    assert preview.status_code == 200, preview.content
    # s2 and s5 (s11, also flagged, is south); the recompute already sent one of them a
    # reactivation task, so a reactivation dispatch skips it.
    body = preview.json()
    assert (body["count"] + body["skipped_existing"], body["skipped_existing"]) == (2, 1)
    assert {row["name"] for row in body["sample"] + body["skipped_sample"]} == {"s2", "s5"}
    assert record.status_code == 200
    assert record.json()["tag_kinds"]["lunch_potential"] == "model"
    assert record.json()["tag_kinds"]["new_customer"] == "fact"
    assert sorted(row["name"] for row in listed.json()["results"]) == ["s2", "s8"]


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ([], "non-empty list"),
        ("segment = 'x'", "non-empty list"),
        ([{"field": "__class__", "op": "eq", "value": 1}], "unknown field"),
        ([{"field": "orders", "op": "contains", "value": 1}], "orders takes the operators"),
        ([{"field": "orders", "op": "gt", "value": "3"}], "compares with a number"),
        ([{"field": "orders", "op": "gt", "value": True}], "compares with a number"),
        ([{"field": "grade", "op": "eq", "value": "Z"}], "'Z' is not a known grade value"),
        (
            [{"field": "equipment", "op": "contains", "value": "jukebox"}],
            "not a known equipment value",
        ),
        ([{"field": "segment", "op": "in", "value": []}], "list of 1 to 50"),
        ([{"field": "segment", "op": "eq"}], "exactly field, op and value"),
        ([{"field": "orders", "op": "exists", "value": 1}], "true or false"),
        ([{"field": "tags", "op": "contains", "value": "a\x00b"}], "no NUL"),
    ],
)
def test_bad_conditions_are_refused_with_a_reason(conditions, message):
    with pytest.raises(TagRuleInvalid) as error:
        parse_conditions(conditions)
    assert message in str(error.value)


def test_a_condition_on_a_missing_value_holds_only_for_exists_false():
    facts = StoreFacts()  # no survey, no order
    footfall_low = Condition(field="footfall_weekday", op="lt", value=100)
    no_footfall = Condition(field="footfall_weekday", op="exists", value=False)
    no_coffee = Condition(field="equipment", op="not_contains", value="coffee_machine")

    assert not condition_holds(footfall_low, facts=facts, tags=())
    assert condition_holds(no_footfall, facts=facts, tags=())
    assert not condition_holds(no_coffee, facts=facts, tags=())


@pytest.mark.django_db
def test_tag_rules_are_written_by_hq_and_read_by_managers(people, client_for):
    body = {
        "name": "big_site",
        "description": "Large shops",
        "conditions": [{"field": "area_m2", "op": "gte", "value": 100}],
    }
    refused = client_for("manager_north").post("/api/analytics/tag-rules/", body, format="json")
    created = client_for("hq").post("/api/analytics/tag-rules/", body, format="json")
    duplicate = client_for("hq").post("/api/analytics/tag-rules/", body, format="json")
    computed_name = client_for("hq").post(
        "/api/analytics/tag-rules/", {**body, "name": "churn_risk"}, format="json"
    )
    bad = client_for("hq").post(
        "/api/analytics/tag-rules/",
        {**body, "name": "odd", "conditions": [{"field": "area_m2", "op": "gte", "value": "x"}]},
        format="json",
    )
    listed = client_for("manager_north").get("/api/analytics/tag-rules/")
    rule_id = created.json()["id"]
    renamed = client_for("hq").patch(
        f"/api/analytics/tag-rules/{rule_id}", {"active": False}, format="json"
    )
    rep = client_for("rep_north").get("/api/analytics/tag-rules/")

    assert refused.status_code == 403
    assert created.status_code == 201, created.content
    assert duplicate.status_code == 400
    assert duplicate.json() == {"name": ["A rule with this name exists."]}
    assert computed_name.status_code == 400
    assert "computed tag" in computed_name.json()["name"][0]
    assert bad.status_code == 400
    assert bad.json()["conditions"] == ["condition 1: area_m2 compares with a number."]
    assert [r["name"] for r in listed.json()["results"]] == ["big_site"]
    assert renamed.status_code == 200
    assert renamed.json()["active"] is False
    assert rep.status_code == 403
    assert TagRule.objects.count() == 1
    deleted = client_for("hq").delete(f"/api/analytics/tag-rules/{rule_id}")
    assert deleted.status_code == 204
    assert not TagRule.objects.exists()


@pytest.mark.parametrize(
    ("orders", "stage"),
    [(0, None), (1, "new_customer"), (8, "new_customer"), (9, "established"), (40, "established")],
)
def test_the_ninth_order_ends_the_new_customer_stage(orders, stage):
    assert customer_stage(orders=orders, established_from_order=9) == stage


@pytest.mark.django_db
def test_a_store_becomes_established_with_its_ninth_order(history, people):
    s1 = history["s1"]  # four orders
    for day in range(5):
        Order.objects.create(
            external_id=f"extra-{day}",
            store_id=s1,
            order_date=AS_OF - dt.timedelta(days=40 + day),
            amount=Decimal("100"),
        )

    analytics_recompute(actor=people["hq"], as_of=AS_OF)

    store = Store.objects.get(pk=s1)
    assert "established" in store.tags
    assert "new_customer" not in store.tags
    assert store.tag_kinds["established"] == "fact"
