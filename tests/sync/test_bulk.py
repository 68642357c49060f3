"""The bulk write paths: records they touch are versioned, logged and pulled like any."""

import pytest

from stores.models import Store
from sync.bulk import bulk_update_records
from sync.models import ChangeLog
from tests.sync.phone import Phone

pytestmark = pytest.mark.django_db(transaction=True)


def test_bulk_update_versions_logs_and_reaches_phones(client_for, world, people):
    phone = Phone(client_for("rep_north"))
    phone.pull()
    mine, theirs = world["rep_north"]["store"], world["rep_south"]["store"]
    changed = bulk_update_records(
        entity="store",
        values_by_id={
            str(mine): {"segment": "head_active", "grade": "A"},
            theirs: {"segment": ""},  # already empty: nothing to do
        },
        actor=people["hq"],
    )
    assert changed == 1
    store = Store.objects.get(pk=mine)
    assert (store.segment, store.grade, store.version) == ("head_active", "A", 2)
    assert store.field_stamps["segment"][0] == 2
    assert Store.objects.get(pk=theirs).version == 1
    [change] = ChangeLog.objects.filter(record_id=mine, version=2)
    assert change.new_values == {"segment": "head_active", "grade": "A"}
    assert change.old_values == {"segment": "", "grade": ""}
    assert phone.pull() == 1
    assert phone.records("store")[str(mine)]["segment"] == "head_active"


def test_bulk_update_refuses_scope_fields(world, people):
    with pytest.raises(AssertionError, match="scope fields"):
        bulk_update_records(
            entity="store",
            values_by_id={world["rep_north"]["store"]: {"owner": people["rep_north_2"].pk}},
        )
