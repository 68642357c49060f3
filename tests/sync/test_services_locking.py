"""How the write path locks records on PostgreSQL: concurrent writers wait for each
other instead of deadlocking (which the engine survives by retrying, at a cost; three
deadlocks in a row failed a manager's edit), edits do not hold up records created under
them, and a record created while its parent moves to another scope follows the parent.

Each test sets up an interleaving that went wrong before: a connection holds rows in an
open transaction, so that the writers queue in a known order, then lets go.
"""

import uuid
from typing import Any

import pytest
from django.db import connection

from stores.models import Store
from surveys.models import Photo, SiteSurvey
from sync.batch import apply_mutation, apply_mutations
from sync.models import ScopeExit
from sync.mutations import Mutation
from sync.registry import get_entity, in_lock_order, scope_depth
from tests.row_locks import held, in_background, lock_waiters

pytestmark = [pytest.mark.django_db(transaction=True)]


def update(entity: str, record_id, **fields) -> Mutation:
    version = get_entity(entity).model.objects.get(pk=record_id).version
    return Mutation(
        entity=entity, op="update", record_id=record_id, fields=fields, base_version=version
    )


def test_parents_lock_before_children():
    assert scope_depth("store") == 0
    assert scope_depth("survey") == scope_depth("visit") == scope_depth("task") == 1
    assert scope_depth("photo") == 2
    assert in_lock_order(["photo", "visit", "store", "survey"]) == [
        "store",
        "survey",
        "visit",
        "photo",
    ]


def test_a_child_insert_does_not_wait_for_an_edit_of_its_store(
    postgres_only, people, world, batch_runs
):
    """A manager's edit of a store, still uncommitted, must not hold up a rep's new visit
    to it: the visit's foreign-key check (KEY SHARE, at commit) waits for a FOR UPDATE
    lock, not for the engine's FOR NO KEY UPDATE."""
    store_id = world["rep_north"]["store"]
    manager_edit: dict[str, Any] = {}

    def edit_store() -> None:
        manager_edit["value"] = apply_mutation(
            actor=people["manager_north"], mutation=update("store", store_id, grade="A")
        )

    with held(edit_store):
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        try:
            result = apply_mutation(
                actor=people["rep_north"],
                mutation=Mutation(
                    entity="visit",
                    op="create",
                    record_id=uuid.uuid4(),
                    fields={
                        "store": str(store_id),
                        "check_in_at": "2026-11-03T09:00:00Z",
                        "purpose": "routine",
                    },
                ),
            )
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    assert manager_edit["value"].status == "applied", manager_edit
    assert result.status == "applied", result.errors
    # The manager's batch, then the rep's, each once.
    assert batch_runs == [1, 1]


def test_a_store_move_and_a_push_to_its_records_do_not_deadlock(
    postgres_only, people, world, batch_runs
):
    """The move locks the store's survey, then its photo; a phone edits both. Were the
    phone to lock the photo first, each would hold what the other waits for."""
    records = world["rep_north"]
    store_id, survey_id, photo_id = records["store"], records["survey"], records["photo"]
    with held(lambda: SiteSurvey.objects.select_for_update(no_key=True).get(pk=survey_id)):
        move, moved = in_background(lambda: reassign_store(people, store_id))
        lock_waiters(count=1, unless_done=moved)
        push, pushed = in_background(
            lambda: apply_mutations(
                actor=people["rep_north"],
                mutations=[
                    update("photo", photo_id, section="shelf"),
                    update("survey", survey_id, footfall_weekday=420),
                ],
            )
        )
        lock_waiters(count=2, unless_done=pushed)
    move.join(timeout=30)
    push.join(timeout=30)
    assert "error" not in moved, moved
    assert "error" not in pushed, pushed
    assert moved["value"].status == "applied"
    assert len(pushed["value"]) == 2
    # Each batch ran once: no deadlock was detected and retried.
    assert sorted(batch_runs) == [1, 2]
    store = Store.objects.get(pk=store_id)
    assert store.owner_id == people["rep_north_2"].pk
    survey = SiteSurvey.objects.get(pk=survey_id)
    assert survey.scope_owner_id == people["rep_north_2"].pk


def create_photo(survey_id) -> tuple[uuid.UUID, Mutation]:
    photo_id = uuid.uuid4()
    return photo_id, Mutation(
        entity="photo",
        op="create",
        record_id=photo_id,
        fields={"survey": str(survey_id), "sha256": "b" * 64, "content_type": "image/jpeg"},
    )


def reassign_store(people, store_id):
    """The north manager gives the store to the second north rep."""
    return apply_mutation(
        actor=people["manager_north"],
        mutation=update("store", store_id, owner=people["rep_north_2"].pk),
    )


def assert_with_the_new_rep(people, photo_id) -> None:
    photo = Photo.objects.get(pk=photo_id)
    assert (photo.scope_owner_id, photo.scope_region_id) == (people["rep_north_2"].pk, "north")


def test_a_record_created_while_its_parent_moves_takes_the_new_scope(postgres_only, people, world):
    """The store moves to another rep, uncommitted, when HQ adds a photo to its survey:
    the photo waits for the move and lands in the new rep's scope, not the old one's."""
    records = world["rep_north"]
    moved: dict[str, Any] = {}

    def move() -> None:
        moved["value"] = reassign_store(people, records["store"])

    photo_id, mutation = create_photo(records["survey"])
    with held(move, commit=True):
        creator, created = in_background(
            lambda: apply_mutation(actor=people["hq"], mutation=mutation)
        )
        lock_waiters(count=1, unless_done=created)
    creator.join(timeout=30)
    assert moved["value"].status == "applied", moved
    assert created["value"].status == "applied", created
    assert_with_the_new_rep(people, photo_id)


def test_a_move_takes_along_a_record_created_just_before_it(postgres_only, people, world):
    """HQ's new photo is uncommitted when the store moves: the move waits for it and
    moves it with the survey."""
    records = world["rep_north"]
    created: dict[str, Any] = {}
    photo_id, mutation = create_photo(records["survey"])

    def add_photo() -> None:
        created["value"] = apply_mutation(actor=people["hq"], mutation=mutation)

    with held(add_photo, commit=True):
        mover, moved = in_background(lambda: reassign_store(people, records["store"]))
        lock_waiters(count=1, unless_done=moved)
    mover.join(timeout=30)
    assert created["value"].status == "applied", created
    assert moved["value"].status == "applied", moved
    assert_with_the_new_rep(people, photo_id)
    # The old rep's phones learn that the photo left their scope.
    assert ScopeExit.objects.filter(
        entity="photo", record_id=photo_id, owner_id=people["rep_north"].pk
    ).exists()
