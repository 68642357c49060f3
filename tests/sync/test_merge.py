"""Property tests of the pure merge rules (sync.merge), no database."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.merge import (
    Kept,
    LoggedChange,
    Policy,
    Stamp,
    Status,
    canonical_set,
    clamp_client_ts,
    effective_op,
    fields_needing_base,
    merge_fields,
    tombstone_conflicts,
    union_merge,
    values_as_of,
    values_at,
    version_before,
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


# --- a write against what is stored ----------------------------------------------------------

FIELD_NAMES = sorted(FIELDS)
field_values = st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=3))


@given(
    op=st.sampled_from(["create", "update", "delete", "bogus"]),
    base_version=st.one_of(st.none(), st.integers(0, 50)),
    exists=st.booleans(),
)
def test_only_a_create_of_an_existing_id_becomes_an_update_from_nothing(op, base_version, exists):
    effective = effective_op(op=op, base_version=base_version, exists=exists)
    if op == "create" and exists:
        assert effective == ("update", 0)
    else:
        assert effective == (op, base_version)


def stored(values: dict[str, Any]) -> dict[str, Any]:
    """Values as the server keeps them: set-like lists in their canonical order."""
    return {
        name: canonical_set(value) if FIELDS.get(name) == Policy.UNION else value
        for name, value in values.items()
    }


@settings(max_examples=300, deadline=None)
@given(created=base_record, device=st.sampled_from(["phone-a", "phone-b"]))
def test_a_create_seen_again_changes_nothing(created, device):
    """The answer to a create was lost and the phone sends it again: the record it made is
    there, so the create is an update from nothing, and it changes nothing."""
    stamps = {name: Stamp(1, 5, device) for name in created}
    op, base_version = effective_op(op="create", base_version=None, exists=True)
    assert op == "update"
    outcome = merge_fields(
        server_values=stored(created),
        server_stamps=stamps,
        base_values={},
        client_values=created,
        policies=FIELDS,
        base_version=base_version,
        new_version=2,
        client_ts_ms=5,
        device=device,
    )
    assert outcome.values == {}
    assert outcome.conflicts == ()
    assert outcome.status == Status.APPLIED


@settings(max_examples=300, deadline=None)
@given(edits=concurrent_edits())
def test_a_create_seen_again_after_another_change_loses_nothing_silently(edits):
    """Another device changed the record after the create: sent again, every field the
    create sets that differs from the server is either applied or in the conflicts."""
    created, other, _ = edits
    record, stamps = dict(created), {name: Stamp(1, 0, "phone-b") for name in created}
    record, stamps, _ = apply(record, stamps, created, other | {"device": "mgr"}, 1)
    _, base_version = effective_op(op="create", base_version=None, exists=True)
    outcome = merge_fields(
        server_values=record,
        server_stamps=stamps,
        base_values=values_as_of(
            wanted=fields_needing_base(
                client_values=created,
                server_stamps=stamps,
                base_version=base_version,
                policies=FIELDS,
            ),
            newest_first=[],
        ),
        client_values=created,
        policies=FIELDS,
        base_version=base_version,
        new_version=3,
        client_ts_ms=1,
        device="phone-b",
    )
    conflicted = {conflict.field for conflict in outcome.conflicts}
    for name, value in stored(created).items():
        if stored(record)[name] != value:
            assert name in outcome.values or name in conflicted, name


@given(
    sent=st.dictionaries(st.sampled_from([*FIELD_NAMES, "unknown"]), field_values),
    server=st.fixed_dictionaries({name: field_values for name in FIELD_NAMES}),
)
def test_an_edit_of_a_tombstone_keeps_the_server_and_logs_every_field_sent(sent, server):
    conflicts = tombstone_conflicts(sent=sent, server_values=server, policies=FIELDS)
    assert all(conflict.kept == Kept.SERVER for conflict in conflicts)
    if not sent:
        [conflict] = conflicts
        assert (conflict.field, conflict.client_value, conflict.server_value) == (
            "deleted",
            False,
            True,
        )
        assert conflict.resolved_value is True
        return
    assert [conflict.field for conflict in conflicts] == list(sent)
    for conflict in conflicts:
        assert conflict.client_value == sent[conflict.field]
        assert conflict.server_value == server.get(conflict.field)
        assert conflict.policy == FIELDS.get(conflict.field, Policy.LWW)
        assert conflict.resolved_value is None


# A record's history: per version from 1, the fields that change and their new values.
histories = st.lists(
    st.dictionaries(st.sampled_from(FIELD_NAMES), field_values, min_size=1),
    min_size=1,
    max_size=8,
)


def replayed(history: list[dict[str, Any]], up_to: int) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for new_values in history[:up_to]:
        state |= new_values
    return state


@given(history=histories, data=st.data())
def test_values_as_of_a_version_are_the_history_replayed_to_it(history, data):
    version = data.draw(st.integers(1, len(history)))
    wanted = data.draw(st.lists(st.sampled_from(FIELD_NAMES), unique=True))
    newest_first = reversed(history[:version])
    expected = replayed(history, version)
    found = values_as_of(wanted=wanted, newest_first=newest_first)
    assert found == {name: expected[name] for name in wanted if name in expected}


def test_values_as_of_reads_no_further_than_it_must():
    read = []

    def changes():
        for new_values in ({"notes": "b"}, {"footfall": 3}, {"notes": "a"}):
            read.append(new_values)
            yield new_values

    assert values_as_of(wanted=["notes"], newest_first=changes()) == {"notes": "b"}
    assert read == [{"notes": "b"}]
    assert values_as_of(wanted=[], newest_first=changes()) == {}
    assert len(read) == 1


@given(history=histories, data=st.data())
def test_values_at_an_older_version_undo_the_later_updates(history, data):
    """Undoing each later update's old values from today's record gives the record as it
    was: what a WatermelonDB push is diffed against."""
    full = [dict.fromkeys(FIELD_NAMES) | history[0], *history[1:]]
    states = [replayed(full, version) for version in range(1, len(full) + 1)]
    changes = [
        LoggedChange(
            version=version,
            op="create" if version == 1 else "update",
            old_values={name: states[version - 2][name] for name in full[version - 1]}
            if version > 1
            else {},
        )
        for version in range(1, len(full) + 1)
    ]
    version = data.draw(st.integers(1, len(full)))
    assert values_at(states[-1], changes, version) == states[version - 1]
    since = data.draw(st.integers(1, len(full)))
    later = changes[since - 1 :]
    expected = 1 if since == 1 else since - 1
    assert version_before(len(full), later) == expected
    assert version_before(len(full), []) == len(full)


@given(
    client=st.dictionaries(st.sampled_from(FIELD_NAMES), field_values),
    stamps=st.dictionaries(
        st.sampled_from(FIELD_NAMES), st.builds(Stamp, st.integers(1, 9), st.just(0), st.just("x"))
    ),
    base_version=st.integers(0, 9),
)
def test_only_union_fields_changed_since_the_base_need_it(client, stamps, base_version):
    needing = fields_needing_base(
        client_values=client, server_stamps=stamps, base_version=base_version, policies=FIELDS
    )
    assert set(needing) == {
        name
        for name in client
        if FIELDS[name] == Policy.UNION and name in stamps and stamps[name].version > base_version
    }
