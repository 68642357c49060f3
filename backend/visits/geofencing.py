"""Verified visits: the server measures every check-in against its store's geofence.

Hooked into the sync engine (see `visits.syncing`), so a visit written by a push, a REST
call or a bulk job gets the same `distance_m`, `geofence` verdict and `rep`; in hard mode
a check-in outside the fence is refused, and a rep never holds two open visits.
"""

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model

from geo.geofence import GeofenceOutcome
from geo.point import Point
from stores.fences import StoreFence, as_uuid, fence_verdict, store_fence, store_fences
from sync.registry import Candidate, Touched, WriteContext
from visits.fraud import (
    FLAG_FIELDS,
    TravelLimits,
    impossible_travel,
    store_time_zone,
    travel_spans,
    visit_flags,
)
from visits.jobs import visit_travel_flags_refresh_job
from visits.models import GeofenceVerdict, Visit

# Fields whose change means the check-in must be measured again.
CHECK_IN_FIELDS = frozenset({"store", "check_in_lat", "check_in_lon", "check_in_accuracy_m"})

# What a visit stores for each outcome. A refusal is never stored by a push (the check-in
# is rejected); trusted bulk writes keep the visit and flag it.
STORED_VERDICT = {
    GeofenceOutcome.PASS: GeofenceVerdict.PASS,
    GeofenceOutcome.FLAGGED: GeofenceVerdict.FLAGGED,
    GeofenceOutcome.REFUSED: GeofenceVerdict.FLAGGED,
    GeofenceOutcome.UNCHECKED: GeofenceVerdict.UNKNOWN,
}


@dataclass
class VisitWriteData:
    """What one write reads up front for its visits: their stores' fences, and (on first
    need) the open visits of the reps involved."""

    stores: dict[uuid.UUID, StoreFence]
    reps: frozenset[int]
    open_by_rep: dict[int, set[uuid.UUID]] | None = None
    # Visits this write opened, by rep (their `rep` is only set when the write is stored).
    opened: dict[int, set[uuid.UUID]] = field(default_factory=dict)

    def open_visits(self, rep: int) -> set[uuid.UUID]:
        if self.open_by_rep is None:
            self.open_by_rep = {}
            rows = Visit.objects.filter(
                rep_id__in=self.reps, check_out_at__isnull=True, deleted=False
            ).values_list("rep_id", "pk")
            for rep_id, pk in rows:
                self.open_by_rep.setdefault(rep_id, set()).add(pk)
        return set(self.open_by_rep.get(rep, ()))


def _acting_rep(context: WriteContext) -> int | None:
    actor = context.actor
    return actor.pk if actor is not None and actor.is_rep else None


def visit_prefetch(
    items: Sequence[tuple[Mapping[str, Any], Model | None]], context: WriteContext
) -> VisitWriteData:
    store_ids: set[uuid.UUID] = set()
    reps: set[int] = set()
    if (rep := _acting_rep(context)) is not None:
        reps.add(rep)
    for fields, current in items:
        for value in (fields.get("store"), getattr(current, "store_id", None)):
            if (parsed := as_uuid(value)) is not None:
                store_ids.add(parsed)
        if current is not None and current.rep_id is not None:
            reps.add(current.rep_id)
    return VisitWriteData(stores=store_fences(ids=store_ids), reps=frozenset(reps))


def _fence_for(store: Any, data: VisitWriteData | None, context: WriteContext) -> StoreFence | None:
    store_id = as_uuid(store)
    if store_id is None:
        return None
    held = context.held("store", store_id)
    if held is not None:
        return store_fence(held)
    if data is not None and store_id in data.stores:
        return data.stores[store_id]
    return store_fences(ids=[store_id]).get(store_id)


def _measure(values: Mapping[str, Any], fence: StoreFence | None):
    lat, lon = values.get("check_in_lat"), values.get("check_in_lon")
    if fence is None or lat is None or lon is None:
        return None
    return fence_verdict(
        fence=fence, lat=lat, lon=lon, accuracy_m=values.get("check_in_accuracy_m")
    )


def check_in_within_geofence(
    candidate: Candidate, data: VisitWriteData | None, context: WriteContext
) -> dict[str, list[str]]:
    """Hard mode: a check-in outside the store's fence is refused."""
    if candidate.current is not None and not candidate.changed & CHECK_IN_FIELDS:
        return {}
    verdict = _measure(candidate.values, _fence_for(candidate.values.get("store"), data, context))
    if verdict is None or verdict.allowed:
        return {}
    return {
        "check_in_lat": [
            f"Outside the store's geofence: {verdict.distance_m:,.0f} m from the store, "
            f"{verdict.allowed_radius_m:,.0f} m allowed."
        ]
    }


def one_open_visit_per_rep(
    candidate: Candidate, data: VisitWriteData | None, context: WriteContext
) -> dict[str, list[str]]:
    """A rep checks out of one store before checking in at the next."""
    current = candidate.current
    if candidate.values.get("check_out_at") is not None or data is None:
        return {}
    if current is not None and "check_out_at" not in candidate.changed:
        return {}
    rep = current.rep_id if current is not None and current.rep_id else _acting_rep(context)
    if rep is None:
        return {}
    stored_open = data.open_visits(rep)
    still_open = set()
    for pk in (stored_open | data.opened.get(rep, set())) - {candidate.record_id}:
        # This write's own state of a visit wins over the stored one.
        held = context.held("visit", pk)
        if held is None:
            if pk in stored_open:
                still_open.add(pk)
        elif held.check_out_at is None and not held.deleted and held.rep_id in (rep, None):
            still_open.add(pk)
    if still_open:
        return {
            "check_out_at": [
                f"You are still checked in at another visit ({min(still_open)}): "
                "check out of it first."
            ]
        }
    data.opened.setdefault(rep, set()).add(candidate.record_id)
    return {}


def visit_derive(
    touched: Sequence[Touched], data: VisitWriteData | None, context: WriteContext
) -> Collection[str]:
    """Distance and verdict of new or moved check-ins; the acting rep on new visits; the
    fraud flags of new or changed check-ins (`visits.fraud`), for the whole write at once."""
    names: set[str] = set()
    rep = _acting_rep(context)
    flag_visits: list[Visit] = []
    for item in touched:
        visit = item.record
        if item.created and visit.rep_id is None and rep is not None:
            visit.rep_id = rep
            names.add("rep")
        if item.created or item.changed & FLAG_FIELDS:
            flag_visits.append(visit)
        if not item.created and not item.changed & CHECK_IN_FIELDS:
            continue
        values = {
            "check_in_lat": visit.check_in_lat,
            "check_in_lon": visit.check_in_lon,
            "check_in_accuracy_m": visit.check_in_accuracy_m,
        }
        verdict = _measure(values, _fence_for(visit.store_id, data, context))
        visit.distance_m = None if verdict is None else round(verdict.distance_m, 2)
        visit.geofence = (
            GeofenceVerdict.UNKNOWN if verdict is None else STORED_VERDICT[verdict.outcome]
        )
        names.update(("distance_m", "geofence"))
    if flag_visits:
        _derive_flags(flag_visits, data, context)
        names.add("flags")
    return names


def _derive_flags(visits: list[Visit], data: VisitWriteData | None, context: WriteContext) -> None:
    def store_point(store_id: Any) -> Point | None:
        fence = _fence_for(store_id, data, context)
        return None if fence is None else fence.point

    too_fast = impossible_travel(
        visits=visits,
        in_memory=context.held_of("visit"),
        store_point=store_point,
        limits=TravelLimits.configured(),
    )
    if spans := travel_spans(visits):
        # Their stored neighbours may now contradict them: judged again once this commits.
        visit_travel_flags_refresh_job.delay_on_commit(spans=spans)
    tz = store_time_zone()
    for visit in visits:
        fence = _fence_for(visit.store_id, data, context)
        visit.flags = visit_flags(
            visit=visit,
            too_fast=as_uuid(visit.pk) in too_fast,
            hours=None if fence is None else fence.opening_hours,
            tz=tz,
        )
