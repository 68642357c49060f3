"""What a write does when the database keeps it waiting or refuses it.

Contention (a deadlock, a lock timeout, a serialization failure) aborts a whole
transaction, so only the outermost one can run again: `retried_on_contention` makes a
function that transaction, durable (it refuses to run inside another one, where a retry
would sleep holding the caller's locks and could not undo what the caller did), and runs it
again after a short random pause. Everything inside it (`sync.batch.apply_mutations`,
services that write several records) is a plain unit of work that raises.
"""

import functools
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import DatabaseError, OperationalError, connection, transaction

from sync.merge import Status
from sync.mutations import Mutation, MutationResult

TRANSACTION_ATTEMPTS = 3

P = ParamSpec("P")
R = TypeVar("R")


def retried_on_contention(func: Callable[P, R]) -> Callable[P, R]:
    """`func` as the outermost transaction, `transaction.atomic(durable=True)`, run up to
    TRANSACTION_ATTEMPTS times while the database aborts it for contention. A lost
    connection (backend killed, database restarting), or contention that outlasts the
    attempts, is raised as it is (the API answers 503 with Retry-After): nothing was
    committed, and answering a phone's mutations `rejected` would make it drop edits a
    retry would apply."""

    @functools.wraps(func)
    def outermost(*args: P.args, **kwargs: P.kwargs) -> R:
        attempt = 1
        while True:
            try:
                with transaction.atomic(durable=True):
                    return func(*args, **kwargs)
            except OperationalError as error:
                if connection_lost(error) or attempt == TRANSACTION_ATTEMPTS:
                    raise
            # Let the other side finish first.
            time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311
            attempt += 1

    return outermost


def connection_lost(error: DatabaseError) -> bool:
    """Did the connection break (backend killed, server shutting down or unreachable),
    rather than the batch fail? PostgreSQL says so with SQLSTATE class 08 or 57P, or with
    no SQLSTATE at all when the socket is gone. (Django reconnects behind the failed
    transaction, so the connection itself cannot tell.)"""
    if connection.vendor != "postgresql" or not isinstance(error, OperationalError):
        return False
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(("08", "57P"))


def isolated(run, mutation: Mutation) -> MutationResult:
    """One mutation of a batch the database refused, on its own: its answer, or
    `rejected` if the database refuses it too (a constraint no validator knows of)."""
    try:
        return run([mutation])[0]
    except DatabaseError as error:
        if isinstance(error, OperationalError):
            raise
        return MutationResult(
            mutation_id=mutation.mutation_id,
            status=Status.REJECTED,
            errors={"detail": "The database refused this mutation."},
            reason="invalid",
        )
