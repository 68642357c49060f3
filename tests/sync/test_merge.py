"""Property tests of the pure merge rules (sync.merge), no database."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.merge import (
    Kept,
    Policy,
    Stamp,
    Status,
    canonical_set,
    clamp_client_ts,
    merge_fields,
    union_merge,
)

FIELDS = {"notes": Policy.LWW, "footfall": Policy.MAX, "equipment": Policy.UNION}
ITEMS = ["microwave", "freezer", "oven", "coffee_machine", "open_chiller"]

values_for = {
    "notes": st.text(max_size=5),
    "footfall": st.integers(min_value=0, max_value=1000),
    "equipment": st.lists(st.sampled_from(ITEMS), unique=True, max_size=5),
}


@st.composite
def edit(draw, base: dict[str, Any], device: str) -> dict[str, Any]:
    """A real edit: phones send only the fields they changed, to a new value."""
    fields = draw(st.lists(st.sampled_from(sorted(FIELDS)), unique=True, min_size=1))
    return {
        "values": {
            name: draw(values_for[name].filter(lambda value, name=name: value != base[name]))
            for name in fields
        },
        "ts": draw(st.integers(min_value=0, max_value=10)),
        "device": device,
    }


base_record = st.fixed_dictionaries({name: strategy for name, strategy in values_for.items()})


@st.composite
def concurrent_edits(draw) -> tuple[dict, dict, dict]:
    base = draw(base_record)
    return base, draw(edit(base, "phone-a")), draw(edit(base, "phone-b"))


def apply(record: dict, stamps: dict, history: dict, edit: dict, base_version: int) -> tuple:
    """Apply an edit as the server does; returns (record, stamps, version, outcome)."""
    version = max([0, *(s.version for s in stamps.values())]) + 1
    outcome = merge_fields(
        server_values=record,
        server_stamps=stamps,
        base_values=history,
        client_values=edit["values"],
        policies=FIELDS,
        base_version=base_version,
        new_version=version,
        client_ts_ms=edit["ts"],
        device=edit["device"],
    )
    return record | outcome.values, stamps | outcome.stamps, outcome


@settings(max_examples=500, deadline=None)
@given(edits=concurrent_edits())
def test_two_concurrent_edits_commute(edits):
    """Two phones edit the same base offline; either arrival order gives the same record."""
    base, first, second = edits

    def run(one, two):
        record, stamps = dict(base), {}
        record, stamps, _ = apply(record, stamps, base, one, base_version=0)
        record, stamps, _ = apply(record, stamps, base, two, base_version=0)
        return record

    assert run(first, second) == run(second, first)


@settings(max_examples=500, deadline=None)
@given(edits=concurrent_edits())
def test_no_phone_value_is_dropped_without_a_conflict_entry(edits):
    base, first, second = edits
    record, stamps, _ = apply(dict(base), {}, base, first, base_version=0)
    record, stamps, outcome = apply(record, stamps, base, second, base_version=0)
    logged = {conflict.field: conflict for conflict in outcome.conflicts}
    for name, sent in second["values"].items():
        if record[name] == (canonical_set(sent) if FIELDS[name] == Policy.UNION else sent):
            continue
        assert name in logged, f"{name}: {sent!r} lost without a conflict entry"
        assert logged[name].client_value == sent


@given(
    base=st.lists(st.sampled_from(ITEMS), unique=True),
    server=st.lists(st.sampled_from(ITEMS), unique=True),
    client=st.lists(st.sampled_from(ITEMS), unique=True),
)
def test_union_keeps_additions_and_removals(base, server, client):
    merged = set(union_merge(base=base, server=server, client=client))
    additions = (set(server) - set(base)) | (set(client) - set(base))
    removals = (set(base) - set(server)) | (set(base) - set(client))
    assert additions <= merged
    assert not (removals & merged)
    assert merged <= set(server) | set(client)


def test_unchanged_on_server_takes_the_phone_value():
    outcome = merge_fields(
        server_values={"notes": "old", "footfall": 3},
        server_stamps={"notes": Stamp(1, 10, "x"), "footfall": Stamp(1, 10, "x")},
        base_values={},
        client_values={"notes": "new"},
        policies=FIELDS,
        base_version=1,
        new_version=2,
        client_ts_ms=20,
        device="phone-a",
    )
    assert outcome.values == {"notes": "new"}
    assert outcome.status == Status.APPLIED


def test_other_field_changed_on_server_is_merged():
    outcome = merge_fields(
        server_values={"notes": "old", "footfall": 9},
        server_stamps={"notes": Stamp(1, 10, "x"), "footfall": Stamp(2, 15, "mgr")},
        base_values={},
        client_values={"notes": "new"},
        policies=FIELDS,
        base_version=1,
        new_version=3,
        client_ts_ms=20,
        device="phone-a",
    )
    assert outcome.status == Status.MERGED
    assert outcome.values == {"notes": "new"}


def test_server_policy_keeps_the_server_value_and_logs_the_phone_value():
    outcome = merge_fields(
        server_values={"due": "2026-12-01"},
        server_stamps={"due": Stamp(2, 5, "mgr")},
        base_values={},
        client_values={"due": "2026-12-24"},
        policies={"due": Policy.SERVER},
        base_version=1,
        new_version=3,
        client_ts_ms=99,
        device="phone-a",
    )
    assert outcome.values == {}
    [conflict] = outcome.conflicts
    assert (conflict.client_value, conflict.kept) == ("2026-12-24", Kept.SERVER)
    assert outcome.status == Status.CONFLICT


def test_equal_clocks_break_on_device_id_the_same_way_in_both_orders():
    stamp_a, stamp_b = Stamp(2, 50, "device-a"), Stamp(2, 50, "device-b")
    from sync.merge import lww_client_wins

    assert lww_client_wins(client=stamp_b, server=stamp_a)
    assert not lww_client_wins(client=stamp_a, server=stamp_b)


def test_clock_ahead_is_clamped_to_receive_time():
    assert clamp_client_ts(client_ts_ms=10_000, received_ms=5_000) == 5_000
    assert clamp_client_ts(client_ts_ms=4_000, received_ms=5_000) == 4_000
    assert clamp_client_ts(client_ts_ms=None, received_ms=5_000) == 5_000
