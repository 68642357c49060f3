"""The admin shows HQ staff the office-side records and lets nobody change them; the
budget ledger above all stays append-only."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from crm.analytics.models import TagRule
from crm.analytics.services import tag_rule_create
from crm.calls.models import Call, CallQueue
from crm.orders.models import OrderImportJob
from crm.subsidies.models import BudgetEntry, Campaign, Coupon, CouponBatch
from crm.subsidies.services import coupon_claim
from tests.conftest import PASSWORD, make_user
from tests.crm.subsidies.fixtures import approved_campaign, make_budget, make_store, open_batch

MODELS = [
    "call",
    "tagrule",
    "subsidybudget",
    "budgetentry",
    "campaign",
    "couponbatch",
    "coupon",
    "orderimportjob",
]


@pytest.fixture
def office(people, regions):
    """One record of each office-side model, made through the services."""
    hq = people["hq"]
    store = make_store(people["rep_north"], "Kiosk Nord", segment="mid_churn", phone="+4940123456")
    now = timezone.now()
    call = Call.objects.create(
        queue=CallQueue.REACTIVATION,
        store_id=store,
        reason="No order for a while",
        created_at=now,
        due_at=now + dt.timedelta(hours=48),
    )
    tag_rule_create(
        actor=hq, name="lapsed", conditions=[{"field": "orders", "op": "gte", "value": 3}]
    )
    budget = make_budget(hq, regions["north"], "1000.00")
    batch = open_batch(hq, approved_campaign(hq, budget))
    coupon = coupon_claim(actor=people["rep_north"], batch_id=batch.pk, store_id=store)
    OrderImportJob.objects.create(
        file_name="imports/orders/nord.csv",
        sha256="0" * 64,
        size_bytes=120,
        requested_by=hq,
        created_at=now,
    )
    return {"call": call, "budget": budget, "coupon": coupon, "batch": batch}


def admin_client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS)
def test_hq_staff_see_the_changelist_and_a_record(office, people, model):
    client = admin_client(people["hq"])
    assert not people["hq"].is_superuser

    listing = client.get(reverse(f"admin:crm_{model}_changelist"))
    searched = client.get(reverse(f"admin:crm_{model}_changelist"), {"q": "nord"})

    assert listing.status_code == 200, listing.content[:500]
    assert searched.status_code == 200
    assert listing.context["cl"].result_count >= 1
    record = listing.context["cl"].result_list[0]
    detail = client.get(reverse(f"admin:crm_{model}_change", args=[record.pk]))
    assert detail.status_code == 200  # a read-only view
    assert b'name="_save"' not in detail.content


def listing_actions(client) -> set[str]:
    response = client.get(reverse("admin:crm_budgetentry_changelist"))
    form = response.context.get("action_form")
    return {name for name, _ in form.fields["action"].choices} if form else set()


@pytest.mark.django_db
def test_the_ledger_refuses_add_change_and_delete(office, people):
    client = admin_client(people["hq"])
    entry = BudgetEntry.objects.filter(budget=office["budget"]).first()
    before = list(BudgetEntry.objects.order_by("id").values_list("id", "kind", "amount", "note"))

    add = client.get(reverse("admin:crm_budgetentry_add"))
    add_post = client.post(
        reverse("admin:crm_budgetentry_add"),
        {"budget": office["budget"].pk, "kind": "allocation", "amount": "1000000.00"},
    )
    change = client.post(
        reverse("admin:crm_budgetentry_change", args=[entry.pk]),
        {"amount": "1.00", "note": "edited"},
    )
    delete = client.post(reverse("admin:crm_budgetentry_delete", args=[entry.pk]), {"post": "yes"})
    bulk_delete = client.post(
        reverse("admin:crm_budgetentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )

    assert add.status_code == 403
    assert add_post.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert "delete_selected" not in listing_actions(client)
    assert bulk_delete.status_code in (200, 302)
    assert list(BudgetEntry.objects.order_by("id").values_list("id", "kind", "amount", "note")) == (
        before
    )


@pytest.mark.django_db
def test_nothing_office_side_can_be_changed_in_the_admin(office, people):
    client = admin_client(people["hq"])
    call = office["call"]

    changed = client.post(
        reverse("admin:crm_call_change", args=[call.pk]), {"status": "done", "outcome": "x"}
    )
    added = client.get(reverse("admin:crm_campaign_add"))

    assert changed.status_code == 403
    assert added.status_code == 403
    call.refresh_from_db()
    assert call.status == "open"
    assert Campaign.objects.count() == CouponBatch.objects.count() == Coupon.objects.count() == 1
    assert TagRule.objects.count() == 1


@pytest.mark.django_db
def test_managers_with_admin_access_do_not_see_other_regions_records(office, regions):
    manager = make_user("manager-staff", Role.MANAGER, regions["south"])
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    client = admin_client(manager)

    for model in MODELS:
        assert client.get(reverse(f"admin:crm_{model}_changelist")).status_code == 403, model
