"""Read-only entities a pull carries beside the syncable records: small sets the server
alone writes (the survey templates in force), sent whole whenever they change.

They have no positions in the change stream. A pull's cursor carries a digest of the set
it last sent; a page that finds another set sends the records in force again, so a
change is never missed and costs nothing while nothing changes. Apps register their feeds
in `AppConfig.ready()`.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReadOnlyFeed:
    entity: str
    # The wire forms in force now (id, version, updated_at, deleted and the entity's fields).
    records: Callable[[], list[dict[str, Any]]]


_FEEDS: dict[str, ReadOnlyFeed] = {}


def register_feed(feed: ReadOnlyFeed) -> ReadOnlyFeed:
    _FEEDS[feed.entity] = feed
    return feed


def all_feeds() -> tuple[ReadOnlyFeed, ...]:
    return tuple(_FEEDS.values())


@dataclass(frozen=True)
class FeedState:
    changes: list[dict[str, Any]]  # upserts of every feed's records in force
    digest: str  # what the cursor carries


def feed_state() -> FeedState:
    changes = []
    fingerprint = hashlib.sha256()
    for feed in all_feeds():
        for record in feed.records():
            changes.append({"entity": feed.entity, "op": "upsert", "record": record})
            fingerprint.update(f"{feed.entity}:{record['id']}:{record['version']};".encode())
    return FeedState(changes=changes, digest=fingerprint.hexdigest()[:16])
