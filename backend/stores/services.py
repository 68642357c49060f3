"""Writes on stores beyond single-record edits: merging a duplicate into its original."""

import uuid
from dataclasses import dataclass
from enum import StrEnum

from accounts.models import User
from accounts.scope import scope_filter
from stores.models import Store
from sync.batch import apply_mutations
from sync.bulk import bulk_update_records
from sync.merge import Status
from sync.models import ChangeSource
from sync.mutations import Mutation
from sync.registry import get_entity
from sync.retries import retried_on_contention

# Records that belong to a store through their `store` field; photos follow their survey
# or visit (their scope is inherited and moves with it).
STORE_CHILDREN = ("survey", "visit", "followup", "task")


class MergeError(StrEnum):
    SAME_STORE = "same_store"
    OTHER_REGION = "other_region"
    NOT_FOUND = "not_found"
    REFUSED = "refused"


class MergeRefused(Exception):
    def __init__(self, code: MergeError, detail: str, errors: object = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.errors = errors


@dataclass(frozen=True)
class MergeOutcome:
    winner_id: uuid.UUID
    loser_id: uuid.UUID
    moved: dict[str, int]


@retried_on_contention
def stores_merge(*, actor: User, winner_id: uuid.UUID, loser_id: uuid.UUID) -> MergeOutcome:
    """Move every live survey, visit, follow-up and task of `loser` to `winner`, then
    delete `loser`, leaving a tombstone that names `winner`; all or nothing.

    Everything goes through the sync engine, so phones learn of it on their next pull:
    the loser as a delete, the moved records as upserts pointing at the winner.
    """
    if winner_id == loser_id:
        raise MergeRefused(MergeError.SAME_STORE, "A store cannot be merged into itself.")
    stores = {
        store.pk: store
        for store in Store.objects.select_for_update(no_key=True)
        .filter(scope_filter(user=actor), pk__in=[winner_id, loser_id], deleted=False)
        .order_by("pk")
    }
    if len(stores) != 2:
        raise MergeRefused(MergeError.NOT_FOUND, "Not found.")
    winner, loser = stores[winner_id], stores[loser_id]
    if winner.region_id != loser.region_id:
        raise MergeRefused(MergeError.OTHER_REGION, "Only stores of the same region can be merged.")
    device_id = f"rest-{actor.pk}"
    moves: list[Mutation] = []
    moved: dict[str, int] = {}
    for entity in STORE_CHILDREN:
        spec = get_entity(entity)
        assert spec is not None
        children = spec.model.objects.filter(store_id=loser.pk, deleted=False).order_by("pk")
        rows = list(children.values_list("pk", "version"))
        moved[entity] = len(rows)
        moves.extend(
            Mutation(
                entity=entity,
                op="update",
                record_id=pk,
                base_version=version,
                fields={"store": str(winner.pk)},
            )
            for pk, version in rows
        )
    _apply_all(actor=actor, mutations=moves, device_id=device_id)
    bulk_update_records(
        entity="store",
        values_by_id={loser.pk: {"merged_into": winner.pk}},
        actor=actor,
        source=ChangeSource.REST,
        device_id=device_id,
    )
    _apply_all(
        actor=actor,
        mutations=[Mutation(entity="store", op="delete", record_id=loser.pk)],
        device_id=device_id,
    )
    return MergeOutcome(winner_id=winner.pk, loser_id=loser.pk, moved=moved)


def _apply_all(*, actor: User, mutations: list[Mutation], device_id: str) -> None:
    """Apply the mutations in one call; any refusal undoes the whole merge."""
    results = apply_mutations(
        actor=actor, mutations=mutations, device_id=device_id, source=ChangeSource.REST
    )
    refused = [
        {"entity": m.entity, "record_id": str(m.record_id), "errors": r.errors}
        for m, r in zip(mutations, results, strict=True)
        if r.status in (Status.REJECTED, Status.CONFLICT)
    ]
    if refused:
        raise MergeRefused(MergeError.REFUSED, "A record could not be moved.", refused)


class OpeningHoursRefused(Exception):
    """Nothing to confirm, or the engine refused the write (`errors` as it answered)."""

    def __init__(self, detail: str, errors: object = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


@retried_on_contention
def opening_hours_confirm(*, actor: User, store_id: uuid.UUID) -> dict:
    """A manager or HQ confirms the hours a rep proposed: they become the store's
    `opening_hours` (which visits are judged by) and the proposal is cleared, in one
    versioned write that reaches phones. Returns the store's wire form.

    Reps may only propose: a rep who could set confirmed hours could switch off the
    `outside_opening_hours` flag of their own visits."""
    store = (
        Store.objects.filter(scope_filter(user=actor), pk=store_id, deleted=False)
        .values("version", "opening_hours_proposed")
        .first()
    )
    if store is None:
        raise OpeningHoursRefused("Not found.")
    if not store["opening_hours_proposed"]:
        raise OpeningHoursRefused("No opening hours are proposed for this store.")
    results = apply_mutations(
        actor=actor,
        mutations=[
            Mutation(
                entity="store",
                op="update",
                record_id=store_id,
                base_version=store["version"],
                fields={
                    "opening_hours": store["opening_hours_proposed"],
                    "opening_hours_proposed": {},
                },
            )
        ],
        device_id=f"rest-{actor.pk}",
        source=ChangeSource.REST,
    )
    (result,) = results
    if result.status == Status.REJECTED or result.record is None:
        raise OpeningHoursRefused("The hours could not be confirmed.", result.errors)
    return result.record
