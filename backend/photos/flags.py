"""Reused photos: the same bytes (the photo's SHA-256) already used at another store.

A photo's `flags` are set by the server on every write path, from the photo entity's
`prefetch`/`derive` hooks (see `surveys.syncing`), when a photo is created or its
`sha256`, survey or visit changes. The photo written later is the one flagged (in one
write, the later mutation): the one that came first stays as it was. A photo's store is
its survey's store, else its visit's.

A photo flagged this way that belongs to a visit also flags the visit (`photo_reused`):
the visit is another record, so it is written by a job after this write commits
(`visits.jobs.visit_photo_flags_refresh`). Survey photos flag only the photo.
"""

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.db.models.functions import Coalesce

from stores.fences import as_uuid
from surveys.models import Photo, PhotoFlag, SiteSurvey
from sync.registry import Touched, WriteContext
from visits.jobs import visit_photo_flags_refresh
from visits.models import Visit

# Fields whose change means the photo must be compared again.
REUSE_FIELDS = frozenset({"sha256", "survey", "visit"})


@dataclass(frozen=True)
class PhotoUse:
    photo_id: uuid.UUID
    store_id: uuid.UUID | None


@dataclass(frozen=True)
class PhotoWriteData:
    """What one write reads up front: the stores of the surveys and visits its photos
    point at, and the stored photos with the same SHA-256s and their stores."""

    survey_stores: dict[uuid.UUID, uuid.UUID]
    visit_stores: dict[uuid.UUID, uuid.UUID]
    uses: dict[str, list[PhotoUse]]


def photo_prefetch(
    items: Sequence[tuple[Mapping[str, Any], Model | None]], context: WriteContext
) -> PhotoWriteData:
    """Three queries for the whole write, whatever its size."""
    shas: set[str] = set()
    surveys: set[uuid.UUID] = set()
    visits: set[uuid.UUID] = set()
    for fields, current in items:
        for value in (fields.get("sha256"), getattr(current, "sha256", None)):
            if isinstance(value, str) and value:
                shas.add(value.lower())
        for name, wanted in (("survey", surveys), ("visit", visits)):
            for value in (fields.get(name), getattr(current, f"{name}_id", None)):
                if (parsed := as_uuid(value)) is not None:
                    wanted.add(parsed)
    survey_stores = (
        dict(SiteSurvey.objects.filter(pk__in=surveys).values_list("pk", "store_id"))
        if surveys
        else {}
    )
    visit_stores = (
        dict(Visit.objects.filter(pk__in=visits).values_list("pk", "store_id")) if visits else {}
    )
    uses: dict[str, list[PhotoUse]] = {}
    if shas:
        rows = (
            Photo.objects.filter(sha256__in=shas, deleted=False)
            .annotate(store_id=Coalesce("survey__store_id", "visit__store_id"))
            .values_list("pk", "sha256", "store_id")
        )
        for pk, sha256, store_id in rows:
            uses.setdefault(sha256, []).append(PhotoUse(photo_id=pk, store_id=store_id))
    return PhotoWriteData(survey_stores=survey_stores, visit_stores=visit_stores, uses=uses)


def _store_of(photo: Photo, data: PhotoWriteData, context: WriteContext) -> uuid.UUID | None:
    """The photo's store, from the write's own survey or visit where it holds one."""
    for entity, ref, stored in (
        ("survey", photo.survey_id, data.survey_stores),
        ("visit", photo.visit_id, data.visit_stores),
    ):
        parent_id = as_uuid(ref)
        if parent_id is None:
            continue
        held = context.held(entity, parent_id)
        store = held.store_id if held is not None else stored.get(parent_id)
        if store is not None:
            return as_uuid(store)
    return None


def photo_derive(
    touched: Sequence[Touched], data: PhotoWriteData | None, context: WriteContext
) -> Collection[str]:
    """Flag photos whose bytes were already used at another store; queue their visits."""
    recheck = [t.record for t in touched if t.created or t.changed & REUSE_FIELDS]
    if not recheck:
        return ()
    if data is None:
        data = photo_prefetch([({}, photo) for photo in recheck], context)
    # Uses the photos are compared with: the stored ones, as this write holds them; a photo
    # of this write then counts for the photos written after it.
    in_memory = {as_uuid(p.pk): p for p in context.held_of("photo")}
    in_memory |= {as_uuid(p.pk): p for p in recheck}
    uses: dict[str, dict[uuid.UUID, uuid.UUID | None]] = {}
    for sha256, stored in data.uses.items():
        for use in stored:
            if use.photo_id not in in_memory:
                uses.setdefault(sha256, {})[use.photo_id] = as_uuid(use.store_id)
    rechecked = {as_uuid(p.pk) for p in recheck}
    for pk, photo in in_memory.items():
        if pk not in rechecked and not photo.deleted and photo.sha256:
            uses.setdefault(photo.sha256.lower(), {})[pk] = _store_of(photo, data, context)
    reused_visits: set[str] = set()
    for photo in recheck:
        store = _store_of(photo, data, context)
        sha256 = (photo.sha256 or "").lower()
        others = uses.setdefault(sha256, {})
        reused = store is not None and any(
            other_store is not None and other_store != store for other_store in others.values()
        )
        flags = {str(flag) for flag in photo.flags or () if flag != PhotoFlag.REUSED}
        if reused:
            flags.add(PhotoFlag.REUSED)
            if photo.visit_id is not None:
                reused_visits.add(str(photo.visit_id))
        photo.flags = sorted(str(flag) for flag in flags)
        if sha256:
            others[as_uuid(photo.pk)] = store
    if reused_visits:
        visit_photo_flags_refresh.delay_on_commit(visit_ids=sorted(reused_visits))
    return ("flags",)
