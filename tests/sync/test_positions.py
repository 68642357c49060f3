"""Set-based row writes of the engine (sync/positions.py)."""

import uuid

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from sync.models import AppliedMutation
from sync.positions import insert_rows


def applied(mutation_id: uuid.UUID, user) -> dict:
    return {
        "mutation_id": mutation_id,
        "user_id": user.pk,
        "device_id": "phone-1",
        "entity": "visit",
        "record_id": uuid.uuid4(),
        "status": "applied",
        "result": {"status": "applied", "note": 'caf\u00e9 "quoted"', "n": [1, 2.5, None]},
        "at": timezone.now(),
    }


@pytest.mark.django_db
def test_log_rows_are_inserted_with_their_values(people):
    ids = [uuid.uuid4() for _ in range(3)]
    insert_rows(model=AppliedMutation, rows=[applied(i, people["rep_north"]) for i in ids])

    stored = AppliedMutation.objects.filter(mutation_id__in=ids)
    assert {row.mutation_id for row in stored} == set(ids)
    assert {row.result["status"] for row in stored} == {"applied"}
    assert all(row.result["n"] == [1, 2.5, None] for row in stored)
    assert all(row.result["note"] == 'caf\u00e9 "quoted"' for row in stored)
    assert all(row.user_id == people["rep_north"].pk for row in stored)


@pytest.mark.django_db
def test_a_mutation_id_seen_before_is_an_integrity_error(people):
    """A concurrent retry that committed the same mutation first must surface as Django's
    IntegrityError (the batch retries and replays on it), never as a driver error (a 500)."""
    seen = uuid.uuid4()
    insert_rows(model=AppliedMutation, rows=[applied(seen, people["rep_north"])])

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(
            model=AppliedMutation,
            rows=[
                applied(uuid.uuid4(), people["rep_north"]),
                applied(seen, people["rep_north"]),
            ],
        )

    assert AppliedMutation.objects.count() == 1
