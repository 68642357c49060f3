"""A survey records how far from its store it was taken: the server measures it on every
write path (see `surveys.syncing`), geodesically, from the survey's GPS fix."""

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from django.db.models import Model

from geo.distance import geodesic_m
from geo.point import Point
from stores.fences import StoreFence, as_uuid, store_fence, store_fences
from sync.registry import Touched, WriteContext

POSITION_FIELDS = frozenset({"store", "lat", "lon"})


def survey_prefetch(
    items: Sequence[tuple[Mapping[str, Any], Model | None]], context: WriteContext
) -> dict[uuid.UUID, StoreFence]:
    # Only the writes `survey_derive` measures: creates, and moves of the fix or the store.
    ids = {
        parsed
        for fields, current in items
        if current is None or not POSITION_FIELDS.isdisjoint(fields)
        for value in (fields.get("store"), getattr(current, "store_id", None))
        if (parsed := as_uuid(value)) is not None
    }
    return store_fences(ids=ids)


def survey_derive(
    touched: Sequence[Touched],
    stores: dict[uuid.UUID, StoreFence] | None,
    context: WriteContext,
) -> Collection[str]:
    names: set[str] = set()
    for item in touched:
        if not item.created and not item.changed & POSITION_FIELDS:
            continue
        survey = item.record
        store_id = as_uuid(survey.store_id)
        held = context.held("store", store_id)
        fence = store_fence(held) if held is not None else (stores or {}).get(store_id)
        if fence is None or survey.lat is None or survey.lon is None:
            survey.distance_m = None
        else:
            distance = geodesic_m(a=fence.point, b=Point(lat=survey.lat, lon=survey.lon))
            survey.distance_m = round(distance, 2)
        names.add("distance_m")
    return names
