"""What a write answers when the database keeps it waiting or refuses it: contention
that outlasts the retries is a 503 with Retry-After and changes nothing (a phone keeps
its edits and pushes again), and a mutation the database refuses is rejected alone,
without holding back the rest of its push. Only the outermost transaction runs again:
inside another one, the engine raises at once instead of sleeping with its locks held."""

import uuid

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

from stores.models import Store
from surveys.models import SiteSurvey, SurveyReview
from surveys.services import survey_review
from sync import retries
from sync.batch import Batch, apply_mutation
from sync.models import ChangeLog
from sync.mutations import Mutation
from sync.retries import TRANSACTION_ATTEMPTS, retried_on_contention
from tests.row_locks import held

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def short_lock_timeout(postgres_only):
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '100ms'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")


def locked(model, pk):
    return held(lambda: model.objects.select_for_update().get(pk=pk))


def test_an_edit_kept_waiting_on_a_lock_answers_503_and_changes_nothing(
    short_lock_timeout, client_for, world, batch_runs
):
    store_id = world["rep_north"]["store"]
    client = client_for("manager_north")
    changes = ChangeLog.objects.count()
    with locked(Store, store_id):
        response = client.patch(f"/api/stores/{store_id}/", {"grade": "A"}, format="json")
    assert response.status_code == 503, response.content
    assert int(response["Retry-After"]) > 0
    assert "nothing was applied" in response.json()["detail"]
    assert batch_runs == [1] * TRANSACTION_ATTEMPTS
    assert Store.objects.get(pk=store_id).grade == ""
    assert ChangeLog.objects.count() == changes


def test_a_push_kept_waiting_answers_503_not_rejected(
    short_lock_timeout, client_for, world, batch_runs
):
    """Rejected would make the phone drop both edits; 503 makes it push them again."""
    records = world["rep_north"]
    mutations = [
        {
            "mutation_id": str(uuid.uuid4()),
            "entity": entity,
            "op": "update",
            "record_id": str(records[entity]),
            "base_version": 1,
            "fields": fields,
        }
        for entity, fields in (("survey", {"notes": "new fridge"}), ("visit", {"notes": "ok"}))
    ]
    client = client_for("rep_north")
    with locked(SiteSurvey, records["survey"]):
        response = client.post("/api/sync/push", {"mutations": mutations}, format="json")
    assert response.status_code == 503, response.content
    assert batch_runs == [2] * TRANSACTION_ATTEMPTS
    assert SiteSurvey.objects.get(pk=records["survey"]).notes == ""
    # Pushed again once the lock is gone, both apply.
    response = client.post("/api/sync/push", {"mutations": mutations}, format="json")
    assert [r["status"] for r in response.json()["results"]] == ["applied", "applied"]


@pytest.fixture
def refused_survey(monkeypatch, world):
    """The database refuses any batch that writes the rep's survey (as it would a row
    breaking a constraint no validator knows of)."""
    survey_id = world["rep_north"]["survey"]
    write = Batch.write

    def refusing(self, derived):
        if ("survey", survey_id) in self.writer.dirty:
            raise IntegrityError("check constraint violated")
        return write(self, derived)

    monkeypatch.setattr(Batch, "write", refusing)
    return survey_id


def test_a_mutation_the_database_refuses_is_rejected_alone(client_for, world, refused_survey):
    visit_id = world["rep_north"]["visit"]
    mutations = [
        {
            "mutation_id": str(uuid.uuid4()),
            "entity": entity,
            "op": "update",
            "record_id": str(record_id),
            "base_version": 1,
            "fields": {"notes": "after the refit"},
        }
        for entity, record_id in (("survey", refused_survey), ("visit", visit_id))
    ]
    response = client_for("rep_north").post(
        "/api/sync/push", {"mutations": mutations}, format="json"
    )
    assert response.status_code == 200, response.content
    refused, applied = response.json()["results"]
    assert refused["status"] == "rejected"
    assert refused["errors"] == {"detail": "The database refused this mutation."}
    assert applied["status"] == "applied"
    assert applied["record"]["notes"] == "after the refit"
    assert SiteSurvey.objects.get(pk=refused_survey).notes == ""


def test_a_rest_edit_the_database_refuses_is_a_400(client_for, refused_survey):
    response = client_for("rep_north").patch(
        f"/api/surveys/{refused_survey}/", {"notes": "after the refit"}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json() == {"detail": "The database refused this mutation."}
    assert SiteSurvey.objects.get(pk=refused_survey).notes == ""


# --- only the outermost transaction runs again ---------------------------------------------


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The pauses between attempts, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(retries.time, "sleep", slept.append)
    return slept


def test_the_engine_inside_another_transaction_raises_at_once_without_sleeping(
    short_lock_timeout, people, world, batch_runs, sleeps
):
    store_id = world["rep_north"]["store"]
    changes = ChangeLog.objects.count()
    edit = Mutation(
        entity="store",
        op="update",
        record_id=store_id,
        base_version=Store.objects.get(pk=store_id).version,
        fields={"grade": "A"},
    )

    def in_the_callers_transaction() -> None:
        with transaction.atomic():
            assert Store.objects.filter(pk=store_id).exists()  # the caller's own work
            apply_mutation(actor=people["manager_north"], mutation=edit, device_id="office")

    with locked(Store, store_id), pytest.raises(OperationalError):
        in_the_callers_transaction()
    assert batch_runs == [1]
    assert sleeps == []
    assert Store.objects.get(pk=store_id).grade == ""
    assert ChangeLog.objects.count() == changes


def test_a_service_inside_another_transaction_is_refused_and_writes_nothing(people, world, sleeps):
    """A service that writes through the engine owns the outermost transaction: called
    inside another, it refuses to start rather than retry where it cannot undo."""
    survey = SiteSurvey.objects.get(pk=world["rep_north"]["survey"])
    changes = ChangeLog.objects.count()

    def in_the_callers_transaction() -> None:
        with transaction.atomic():
            survey_review(
                actor=people["manager_north"], survey=survey, verdict="approved", reasons={}
            )

    with pytest.raises(RuntimeError, match="durable"):
        in_the_callers_transaction()
    assert SurveyReview.objects.count() == 0
    assert SiteSurvey.objects.get(pk=survey.pk).review_status == survey.review_status
    assert ChangeLog.objects.count() == changes
    assert sleeps == []


@pytest.mark.parametrize(
    "errcode", ["serialization_failure", "deadlock_detected", "lock_not_available"]
)
def test_the_outermost_transaction_runs_again_after_contention(
    postgres_only, world, sleeps, errcode
):
    """The database aborts the first attempt (as it would the loser of a deadlock or a
    serialization conflict): what the attempt wrote is undone, and the second commits."""
    store_id = world["rep_north"]["store"]
    attempts: list[int] = []

    @retried_on_contention
    def rename() -> int:
        attempts.append(len(attempts) + 1)
        Store.objects.filter(pk=store_id).update(name=f"attempt {len(attempts)}")
        if len(attempts) == 1:
            with connection.cursor() as cursor:
                cursor.execute(f"DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '{errcode}'; END $$")
        return len(attempts)

    assert rename() == 2
    assert len(sleeps) == 1
    assert Store.objects.get(pk=store_id).name == "attempt 2"


def test_a_lost_connection_is_not_retried(postgres_only, world, sleeps):
    attempts: list[int] = []

    @retried_on_contention
    def write() -> None:
        attempts.append(1)
        with connection.cursor() as cursor:
            cursor.execute("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'admin_shutdown'; END $$")

    with pytest.raises(OperationalError):
        write()
    assert attempts == [1]
    assert sleeps == []
