"""Scope moves: a record given to another owner or region takes its children along, and
the phones that lose them are told."""

from typing import Any

from django.db.models import Q

from sync.models import ConflictLog, ScopeExit
from sync.positions import allocate_positions, bump_positions
from sync.registry import EntitySpec, get_entity, in_lock_order, scope_children


def move_scope(
    *,
    entity: str,
    record_ids: list[Any],
    old_scope: tuple[Any, Any],
    new_scope: tuple[Any, Any],
) -> None:
    """Records moved to another owner or region: the old side's phones get deletes, and
    every record whose scope is inherited from them follows, set-based, level by level.

    Each level's records are locked FOR UPDATE before they change, entity by entity in
    lock order and by primary key, as a push locks them: a move and a push touching the
    same records wait for each other instead of deadlocking, and a record being created
    under one of them waits for the move (`Batch.lock_targets`). A record with two
    parents that moved (a photo of a survey and of a visit) moves once.
    """
    spec = get_entity(entity)
    assert spec is not None
    _record_exits(spec=spec, record_ids=record_ids, old_scope=old_scope, new_scope=new_scope)
    _move_conflicts(
        entity=entity,
        record_ids=record_ids,
        update={"scope_owner_id": new_scope[0], "scope_region_id": new_scope[1]},
    )
    moved = {entity: (record_ids, old_scope, new_scope)}
    while moved:
        following: dict[str, tuple[EntitySpec, Q, tuple[Any, Any], tuple[Any, Any]]] = {}
        for parent, (parent_ids, parent_old, parent_new) in moved.items():
            for child, ref in scope_children(parent):
                child_old, child_new = (None, parent_old[1]), (None, parent_new[1])
                if child.scope_rule.owner is None:
                    child_old, child_new = parent_old, parent_new
                if child_old == child_new:
                    continue
                points_at = Q(**{f"{ref}__in": parent_ids})
                if child.name in following:
                    # Its parents all moved with one record, so from and to one scope.
                    assert following[child.name][2:] == (child_old, child_new)
                    points_at |= following[child.name][1]
                following[child.name] = (child, points_at, child_old, child_new)
        moved = {}
        for name in in_lock_order(following):
            child, points_at, child_old, child_new = following[name]
            child_ids = list(
                child.model.objects.select_for_update()
                .filter(points_at)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if not child_ids:
                continue
            update: dict[str, Any] = {"scope_region_id": child_new[1]}
            if child.scope_rule.owner is None:
                update["scope_owner_id"] = child_new[0]
            child.model.objects.filter(pk__in=child_ids).update(**update)
            bump_positions(model=child.model, record_ids=child_ids)
            _move_conflicts(entity=child.name, record_ids=child_ids, update=update)
            _record_exits(
                spec=child, record_ids=child_ids, old_scope=child_old, new_scope=child_new
            )
            moved[name] = (child_ids, child_old, child_new)


def _move_conflicts(*, entity: str, record_ids: list[Any], update: dict[str, Any]) -> None:
    """A record's conflict log follows it: its new owner and region see what was lost on
    it, and the side it left sees it no more (the log holds values of the record)."""
    ConflictLog.objects.filter(entity=entity, record_id__in=record_ids).update(**update)


def _record_exits(
    *,
    spec: EntitySpec,
    record_ids: list[Any],
    old_scope: tuple[Any, Any],
    new_scope: tuple[Any, Any],
) -> None:
    old_owner, old_region = old_scope
    owner_left = old_owner if old_owner is not None and old_owner != new_scope[0] else None
    region_left = old_region if old_region is not None and old_region != new_scope[1] else None
    if owner_left is None and region_left is None:
        return
    positions = allocate_positions(len(record_ids))
    ScopeExit.objects.bulk_create(
        ScopeExit(
            entity=spec.name,
            record_id=pk,
            owner_id=owner_left,
            region_id=region_left,
            sync_txid=position.txid,
            sync_seq=position.seq,
        )
        for pk, position in zip(record_ids, positions, strict=True)
    )
