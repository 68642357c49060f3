"""A recomputed segment reaches the owner's phone through an ordinary pull."""

import pytest

from crm.analytics.services import analytics_recompute
from tests.crm.fixtures import AS_OF, build_history
from tests.sync.phone import Phone

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_store_whose_segment_changed_is_pulled_by_its_reps_phone(people, client_for):
    stores = build_history(people)
    phone = Phone(client_for("rep_north"))
    phone.pull()
    assert phone.records("store")[str(stores["s8"])]["segment"] == ""

    analytics_recompute(actor=people["hq"], as_of=AS_OF)
    received = phone.pull()

    replica = phone.records("store")
    assert replica[str(stores["s8"])]["segment"] == "head_active"
    assert replica[str(stores["s8"])]["grade"] == "A"
    assert replica[str(stores["s2"])]["segment"] == "head_warning"
    # Its nine stores changed (s9 and s11 belong to other reps), and the flagged key
    # accounts s2 and s10 each got a reactivation task for it.
    assert received == 9 + 2
    assert sorted(task["store"] for task in phone.records("task").values()) == sorted(
        [str(stores["s2"]), str(stores["s10"])]
    )
    assert str(stores["s9"]) not in replica
