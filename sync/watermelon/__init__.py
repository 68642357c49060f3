"""WatermelonDB's sync protocol, spoken over the sync engine.

A stock WatermelonDB app syncs with `GET`/`POST /api/sync/watermelon` and its own
`synchronize()`: tables are entity names pluralized, columns are wire field names, and list
or object fields travel as JSON strings (WatermelonDB columns hold strings, numbers and
booleans only). Everything written goes through `apply_mutations`.

Timestamp. A pull reads every change whose transaction id is below the watermark W (see
`sync.positions`) and answers `timestamp = W`. Everything below W is final, so W alone is
a complete cursor: the next pull reads positions with `last_pulled_at <= txid < W'`. W is
a transaction id (PostgreSQL) or a sequence number (SQLite), never a clock, and stays far
below 2**53. A `last_pulled_at` above the current watermark was issued by another database
(a restored backup, a reset): that pull sends the whole scope with WatermelonDB's
`experimentalStrategy: "replacement"`, so the phone drops what the server no longer has and
keeps its unpushed records.

Created or updated. A first pull sends everything in `created`. Later pulls send in
`created` the records the phone cannot have yet: created in the window by another device,
or moved into the user's scope in the window (the window's first scope exit of the record
is not the user's); everything else goes in `updated`. Echoes of the phone's own pushes are
`updated`, so a stock client (without `sendCreatedAsUpdated`) logs no diagnostics. A wrong
guess is harmless: the client upserts either way.

Deletes. Tombstones and scope exits in the window go in `deleted`; a first pull has none.
A table's deletes are read before its rows, and an exit whose record is back in scope is
skipped: a change committed meanwhile gets a position at or above W, so no id lands in two
lists of one answer.

Streaming. The answer is built as it is sent: keyset pages over positions, rendered with
orjson, `created` rows written out at once and `updated` rows spooled to a temporary file
(in memory up to a few MB), so memory does not grow with the scope.

Schema version and migrations. The server sends every table and column it has; the client
skips tables it does not know and drops unknown columns, so `schema_version` is only
checked. When the client reports a migration (`migration={"from", "tables", "columns"}`),
tables it created are sent whole in `created`, and tables that gained columns are sent
whole too (every record in scope, `updated` unless first seen) with the window's deletes,
so the new columns get filled.

Push. Each table's `created`, `updated` and `deleted` become mutations, parents before
children, deletes last. Rows arrive whole; each is diffed against the record as that phone
last pulled it, reconstructed from the changelog: current values with the `old_values` of
every change at or after `last_pulled_at` undone, and `base_version` the version it had
then (or the `version` column the row carries, when that is older: the phone never saw the
later changes). Only fields that differ from that base are sent, so a manager's concurrent
edit of another field survives and fields a rep may not write (a survey's review status)
come back untouched. A `created` row whose id exists is an update of it. A new record's
columns that hold only WatermelonDB's placeholders (null where the field cannot be null,
'' where it cannot be blank) or the server's defaults are left to the defaults. Mutation
ids are derived from the request, so a retry of the same push is answered from the
engine's log; after a new pull, what was applied no longer differs from the base. Refused
mutations make the answer a 409 listing them (with WatermelonDB's `experimentalRejectedIds`),
and the stock client keeps its local changes; accepted ones stay applied. A delete of a
record the user cannot see any more counts as done.
"""
