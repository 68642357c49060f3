"""Reads from PostgreSQL streaming replicas, explicitly, where a view says so.

`DATABASE_REPLICA_URLS` adds database aliases `replica_1`, `replica_2`, ... (settings.py).
Nothing reads from them unless a view asks: the pulls (protocol and WatermelonDB), the
rep's day, reports and the HQ pages run their reads through `read_on_replica` (or the
`replica_view` decorator). Inside that read context:

- every write, and every read after a write or inside a transaction, goes to the primary
  (`ReplicaRouter`); raw SQL that must follow the context uses `read_connection()`;
- the replica is chosen once for the whole answer, so a pull's watermark is computed on
  the replica that serves the page (its snapshot reflects what it has replayed);
- a replica is in rotation while it answers and its replay lag is at most
  `FIELDLINE["REPLICA_MAX_LAG_S"]` (checked at most every `REPLICA_HEALTH_TTL_S` per
  process); one that fails mid-answer is taken out and the answer is read again from the
  primary, so a phone sees no error.

Read your own writes (and never less than you already saw): each user's requests note the
highest WAL position (LSN) they have seen in the shared cache: after a push, the primary's
`pg_current_wal_lsn()` once it has committed; after a read on the primary, its LSN; after
a read on a replica (when there are several), the replica's replayed LSN. A
read picks a replica only if its `pg_last_wal_replay_lsn()` is at or past that LSN; else
the primary serves it. LSNs are cluster-wide and only grow, so this compares positions of
one WAL stream and needs no clock. The pull itself also checks the cursor against the
replica it landed on (`ReplicaBehind`), which holds even when the cache has lost a note:
a cursor beyond the replica's watermark or sequence is served by the primary, never
answered as "resync" or with less.
"""

import contextlib
import contextvars
import functools
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.template.response import SimpleTemplateResponse
from rest_framework.response import Response

from fieldline.conf import fieldline_settings

logger = logging.getLogger(__name__)
T = TypeVar("T")
PRIMARY = DEFAULT_DB_ALIAS
# Which database answered a read (an alias: `default` is the primary), for operators and
# for the benchmark's count of the reads replicas take.
READ_FROM_HEADER = "X-Fieldline-Read-From"


class ReplicaBehind(Exception):
    """The replica serving this read has not replayed what the reader already knows."""


@dataclass
class _ReadContext:
    alias: str
    wrote: bool = False


_context: contextvars.ContextVar[_ReadContext | None] = contextvars.ContextVar(
    "fieldline_replica_reads", default=None
)


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", []))


def current_replica() -> str | None:
    """The replica this read context reads from, or None (primary, or no context)."""
    alias = _read_alias()
    return None if alias == PRIMARY else alias


def _read_alias() -> str:
    state = _context.get()
    if state is None or state.alias == PRIMARY or state.wrote:
        return PRIMARY
    if connections[PRIMARY].in_atomic_block:
        return PRIMARY  # a read inside a write's transaction sees that transaction
    return state.alias


def read_connection():
    """The connection a read here goes to: for raw SQL that follows the read context."""
    return connections[_read_alias()]


class ReplicaRouter:
    """Reads go where the read context says (the primary without one); writes, and
    migrations, to the primary. The database cache (the login brake, the read-your-writes
    notes) is always the primary's: a replica's copy would be behind."""

    def db_for_read(self, model, **hints) -> str:
        if model._meta.app_label == "django_cache":
            return PRIMARY
        return _read_alias()

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == PRIMARY


# --- health --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicaHealth:
    ok: bool
    lag_s: float
    replay_lsn: int | None  # None where LSNs do not exist (SQLite test mirrors)
    checked_at: float
    reason: str = ""


_health: dict[str, ReplicaHealth] = {}
_health_lock = threading.Lock()

# A standby's replay position and lag; a server that is not in recovery (a test mirror
# of the primary) is its own position with no lag. Lag is the age of the last replayed
# transaction while WAL is waiting to be replayed, and 0 once everything received is
# replayed: an idle primary sends no transactions, which is not lag.
HEALTH_SQL = """
SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END
           - '0/0'::pg_lsn,
       CASE WHEN NOT pg_is_in_recovery()
                 OR pg_last_wal_receive_lsn() IS NULL
                 OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
            ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 1e9)
       END
"""


def check_replica(alias: str) -> ReplicaHealth:
    """Ask the replica now (and remember the answer)."""
    now = time.monotonic()
    db = connections[alias]
    try:
        if db.vendor != "postgresql":
            with db.cursor() as cursor:
                cursor.execute("SELECT 1")
            ok = fieldline_settings.REPLICA_MAX_LAG_S >= 0
            health = ReplicaHealth(
                ok=ok, lag_s=0.0, replay_lsn=None, checked_at=now, reason="" if ok else "lag"
            )
        else:
            with db.cursor() as cursor:
                cursor.execute(HEALTH_SQL)
                lsn, lag = cursor.fetchone()
            lag = float(lag)
            limit = fieldline_settings.REPLICA_MAX_LAG_S
            health = ReplicaHealth(
                ok=lag <= limit,
                lag_s=lag,
                replay_lsn=int(lsn),
                checked_at=now,
                reason="" if lag <= limit else f"replay lag {lag:.1f}s > {limit}s",
            )
    except DatabaseError as error:
        _discard_connection(alias)
        health = ReplicaHealth(
            ok=False, lag_s=float("inf"), replay_lsn=None, checked_at=now, reason=str(error)
        )
    with _health_lock:
        before = _health.get(alias)
        _health[alias] = health
    if before is not None and before.ok != health.ok:
        if health.ok:
            logger.warning("replica %s back in rotation", alias)
        else:
            logger.warning("replica %s out of rotation: %s", alias, health.reason)
    return health


def replica_health(alias: str) -> ReplicaHealth:
    """The remembered answer while it is fresh (REPLICA_HEALTH_TTL_S), else a new one."""
    with _health_lock:
        known = _health.get(alias)
    if known is not None and time.monotonic() - known.checked_at < (
        fieldline_settings.REPLICA_HEALTH_TTL_S
    ):
        return known
    return check_replica(alias)


def mark_down(alias: str, reason: str) -> None:
    _discard_connection(alias)
    with _health_lock:
        _health[alias] = ReplicaHealth(
            ok=False,
            lag_s=float("inf"),
            replay_lsn=None,
            checked_at=time.monotonic(),
            reason=reason,
        )
    logger.warning("replica %s out of rotation: %s", alias, reason)


def forget_health() -> None:
    """Tests: start from nothing known."""
    with _health_lock:
        _health.clear()


def _discard_connection(alias: str) -> None:
    with contextlib.suppress(Exception):
        connections[alias].close()


# --- read your writes ---------------------------------------------------------------------


def _seen_key(reader: Any) -> str:
    return f"fieldline:seen-lsn:{reader}"


def seen_lsn(reader: Any) -> int:
    if reader is None:
        return 0
    return cache.get(_seen_key(reader), 0)


def note_seen(reader: Any, lsn: int | None) -> None:
    """Remember that `reader` has seen everything up to `lsn` (only ever raised)."""
    if reader is None or not lsn:
        return
    key = _seen_key(reader)
    if cache.get(key, 0) < lsn:
        cache.set(key, lsn, timeout=fieldline_settings.REPLICA_SEEN_TTL_S)


def primary_lsn() -> int | None:
    db = connections[PRIMARY]
    if db.vendor != "postgresql":
        return None
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


def note_write(reader: Any) -> None:
    """After a write committed for `reader` (a push): its later reads must include it."""
    if reader is None or not replica_aliases():
        return
    note_seen(reader, primary_lsn())


class ReadYourWritesMiddleware:
    """After any request that may have written (not GET/HEAD/OPTIONS) by a signed-in user:
    note the primary's WAL position for them, so that their next reads (a pull after a
    push, the HQ list after its form) come from a replica that has replayed it, or from the
    primary. Nothing to do without replicas."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD", "OPTIONS") and replica_aliases():
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                try:
                    note_write(user.pk)
                except DatabaseError:
                    logger.exception("read-your-writes note not kept")
        return response


def _replay_lsn(alias: str) -> int | None:
    db = connections[alias]
    if db.vendor != "postgresql":
        return None
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
            "ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn"
        )
        return int(cursor.fetchone()[0])


def choose_replica(*, at_least_lsn: int = 0) -> str:
    """A replica in rotation that has replayed `at_least_lsn`, or the primary. Several
    replicas share the reads: the search starts at a random one."""
    aliases = replica_aliases()
    if len(aliases) > 1:
        start = random.randrange(len(aliases))
        aliases = aliases[start:] + aliases[:start]
    for alias in aliases:
        health = replica_health(alias)
        if not health.ok:
            continue
        if at_least_lsn and health.replay_lsn is not None and health.replay_lsn < at_least_lsn:
            # The remembered position is a lower bound: ask again before passing it by.
            health = check_replica(alias)
            if not health.ok or (health.replay_lsn or 0) < at_least_lsn:
                continue
        return alias
    return PRIMARY


# --- the read context ---------------------------------------------------------------------


# Statements that change data (transaction control and savepoints do not).
WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "TRUNCATE")


@contextlib.contextmanager
def reading_from(alias: str) -> Iterator[str]:
    """Reads in this block go to `alias` (unless written or in a transaction)."""
    state = _ReadContext(alias=alias)
    token = _context.set(state)

    def note_writes(execute, sql, params, many, context):
        # A statement that is not a plain read changes the primary: the reads after it in
        # this answer must see the change, so they go to the primary too.
        if not state.wrote and str(sql).lstrip()[:8].upper().startswith(WRITE_STATEMENTS):
            state.wrote = True
        return execute(sql, params, many, context)

    try:
        with connections[PRIMARY].execute_wrapper(note_writes):
            yield alias
    finally:
        _context.reset(token)


_FAILOVER_ERRORS = (OperationalError, InterfaceError)


@dataclass
class ReplicaRead:
    """How a read went: the alias that answered (after any fallback) and why not another."""

    alias: str = PRIMARY
    fell_back: str = ""


def read_on_replica(
    fn: Callable[[], T],
    *,
    reader: Any = None,
    retry_on_primary: tuple[type[BaseException], ...] = (),
    outcome: ReplicaRead | None = None,
) -> T:
    """`fn()` with its reads on a replica in rotation that has replayed what `reader` has
    seen; on the primary when there is none, when the replica turns out to be behind
    (`ReplicaBehind`, or one of `retry_on_primary`), or when it fails mid-read (then it is
    also taken out of rotation). `fn` must be a read that is safe to run twice."""
    outcome = outcome if outcome is not None else ReplicaRead()
    if not replica_aliases():
        return fn()
    alias = choose_replica(at_least_lsn=seen_lsn(reader))
    if alias != PRIMARY:
        try:
            with reading_from(alias):
                result = fn()
                # Everything this answer read was replayed by now. With one replica the
                # note is not needed (its replay only moves forward, and a read that
                # falls back to the primary notes its own): it would cost the primary a
                # cache write per read.
                several = len(replica_aliases()) > 1
                lsn = _replay_lsn(alias) if several and current_replica() == alias else None
        except ReplicaBehind:
            outcome.fell_back = "behind"
        except retry_on_primary:
            outcome.fell_back = "behind"
        except _FAILOVER_ERRORS as error:
            if check_replica(alias).ok:
                raise  # the replica answers: the error was not its absence
            mark_down(alias, str(error))
            outcome.fell_back = "down"
        else:
            outcome.alias = alias
            note_seen(reader, lsn)
            return result
    outcome.alias = PRIMARY
    result = fn()
    note_seen(reader, primary_lsn())
    return result


def stream_from(alias: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """A streamed answer's reads (made while it is sent) on the alias its first part used."""
    with reading_from(alias):
        yield from chunks


def replica_stream(chunks: Iterator[bytes], *, reader: Any = None) -> Iterator[bytes]:
    """A streamed answer (an export) read from a replica that has what `reader` saw. Its
    bytes go out as they are read, so a replica lost mid-stream cannot be answered for by
    the primary: the download fails and is asked again (by then from the primary)."""
    if not replica_aliases():
        return chunks
    return stream_from(choose_replica(at_least_lsn=seen_lsn(reader)), chunks)


def _find_request(args: tuple) -> Any:
    return next((arg for arg in args if hasattr(arg, "method") and hasattr(arg, "user")), None)


def replica_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view (function or method) whose GET/HEAD answers read from a replica."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        request = _find_request(args)
        if request is None or request.method not in ("GET", "HEAD"):
            return view(*args, **kwargs)
        user = getattr(request, "user", None)
        reader = user.pk if user is not None and user.is_authenticated else None
        read = ReplicaRead()
        response = read_on_replica(
            lambda: _rendered(view(*args, **kwargs)), reader=reader, outcome=read
        )
        response[READ_FROM_HEADER] = read.alias
        return response

    return wrapped


def _rendered(response: Any) -> Any:
    """A Django template response rendered now, inside the read context, not after it
    (DRF's responses render their already-read data later, in the view's own pass)."""
    if (
        isinstance(response, SimpleTemplateResponse)
        and not isinstance(response, Response)
        and not response.is_rendered
    ):
        response.render()
    return response
