"""Pull cursors: where a phone's walk through its scope stands, as an opaque signed token.

A cursor carries the position reached, and during a first walk the watermark it began
under, its tier and how far through today's work it is; the server signs it, so a phone
can only hand back what it was given, and decoding checks every value's type (a cursor
that is signed but holds the wrong types is refused like a forged one).
"""

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson
from django.core import signing

from fieldline.inputs import json_problems, text_problem
from sync.wire import parse_uuid

# Version 1 cursors (unsigned) are still read; version 2 cursors are signed.
LEGACY_CURSOR_VERSION = 1
CURSOR_VERSION = 2
CURSOR_SIGNER_SALT = "sync.pull.cursor"
# The tier of a first walk: today's work first, then the rest of the scope; today's work
# comes entity by entity, in this order.
TODAY, REST = 0, 1
TODAY_ENTITIES = ("store", "survey", "followup", "task")


@dataclass(frozen=True)
class RestorePoint:
    """The epoch a restored backup was taken in, and the last position it holds."""

    epoch: int
    seq: int


class CursorInvalid(ValueError):
    """The cursor is not one this server wrote."""


class CursorExpired(Exception):
    """The cursor is from another epoch or beyond this database's history: resync."""


def _signer() -> signing.Signer:
    return signing.Signer(salt=CURSOR_SIGNER_SALT, algorithm="sha256")


def _is_count(value: Any) -> bool:
    return type(value) is int and 0 <= value < 2**63


@dataclass(frozen=True)
class Cursor:
    txid: int = 0
    seq: int = 0
    # Set during a phone's first walk: the watermark it began under. Tombstones and scope
    # exits older than that are of records the phone never had, so they are left out.
    initial_below: int | None = None
    # A first walk in tiers: `tier` 0 pages today's work by (entity rank, id) after
    # `today_after`; tier 1 pages positions, leaving out what tier 0 sent unchanged.
    tiered: bool = False
    tier: int = REST
    today_after: tuple[int, str] = (-1, "")
    # Progress of the walk: changes sent so far, and the estimate made at its start.
    received: int = 0
    estimated_total: int | None = None
    # Digest of the read-only feeds last sent (sync.feeds); "" when none were.
    feeds: str = ""

    def encode(self, *, epoch: int) -> str:
        raw = [
            CURSOR_VERSION,
            epoch,
            self.txid,
            self.seq,
            self.initial_below,
            int(self.tiered),
            self.tier,
            list(self.today_after),
            self.received,
            self.estimated_total,
            self.feeds,
        ]
        payload = base64.urlsafe_b64encode(orjson.dumps(raw)).decode().rstrip("=")
        return _signer().sign(payload)

    @classmethod
    def decode(cls, text: str, *, epoch: int, restored: "RestorePoint | None" = None) -> "Cursor":
        """The cursor, if this database can serve it: of the current epoch, or of the epoch
        before a restore and no further than what the restored backup holds. Version 2
        cursors are signed, so a cursor this server did not write is refused before any of
        its values is used; every value is checked all the same."""
        invalid = CursorInvalid("Not a cursor this server issued.")
        signed = ":" in text
        try:
            payload = _signer().unsign(text) if signed else text
            padded = payload + "=" * (-len(payload) % 4)
            raw = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        except (signing.BadSignature, ValueError, TypeError, binascii.Error) as error:
            raise invalid from error
        if not isinstance(raw, list) or not raw or json_problems(raw, max_depth=3):
            raise invalid
        if signed and raw[0] == CURSOR_VERSION and len(raw) == 11:
            cursor = cls._from_v2(raw)
        elif not signed and raw[0] == LEGACY_CURSOR_VERSION and len(raw) == 5:
            cursor = cls._from_v1(raw)
        elif isinstance(raw[0], int) and raw[0] not in (LEGACY_CURSOR_VERSION, CURSOR_VERSION):
            raise CursorExpired  # a format this server no longer reads
        else:
            raise invalid
        cursor_epoch = raw[1]
        if not _is_count(cursor_epoch):
            raise invalid
        if cursor_epoch != epoch and not (
            restored is not None and cursor_epoch == restored.epoch and cursor.seq <= restored.seq
        ):
            raise CursorExpired
        return cursor

    @classmethod
    def _from_v1(cls, raw: list) -> "Cursor":
        _version, _epoch, txid, seq, initial_below = raw
        ints = (txid, seq) if initial_below is None else (txid, seq, initial_below)
        if not all(_is_count(value) for value in ints):
            raise CursorInvalid("Not a cursor this server issued.")
        return cls(txid=txid, seq=seq, initial_below=initial_below)

    @classmethod
    def _from_v2(cls, raw: list) -> "Cursor":
        (_v, _e, txid, seq, initial_below, tiered, tier, today, received, total, feeds) = raw
        valid = (
            all(_is_count(value) for value in (txid, seq, received))
            and (initial_below is None or _is_count(initial_below))
            and type(tiered) is int
            and tiered in (0, 1)
            and type(tier) is int
            and tier in (TODAY, REST)
            and (total is None or _is_count(total))
            and isinstance(feeds, str)
            and len(feeds) <= 64
            and text_problem(feeds) is None
            and isinstance(today, list)
            and len(today) == 2
            and type(today[0]) is int
            and -1 <= today[0] < len(TODAY_ENTITIES)
            and isinstance(today[1], str)
            and (today[1] == "" or parse_uuid(today[1]) is not None)
            and (tier == REST or (tiered and initial_below is not None))
        )
        if not valid:
            raise CursorInvalid("Not a cursor this server issued.")
        return cls(
            txid=txid,
            seq=seq,
            initial_below=initial_below,
            tiered=bool(tiered),
            tier=tier,
            today_after=(today[0], today[1]),
            received=received,
            estimated_total=total,
            feeds=feeds,
        )
