"""What the engine does when the database keeps a batch waiting or refuses it."""

from django.db import DatabaseError, OperationalError, connection

from sync.merge import Status
from sync.mutations import Mutation, MutationResult

BATCH_ATTEMPTS = 3


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
