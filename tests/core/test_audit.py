"""The audit journal: what is written, and that modification, deletion and reordering are caught."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from tongban.core import audit, journal_guard
from tongban.core.errors import InvalidInput, NotPermitted
from tongban.core.models import AuditEntry, AuditHead

COLUMNS = (
    "chain, seq, occurred_at, actor_id, actor_label, action, object_type, object_ref, department_code, "
    "outcome, request_id, client_ip, detail, key_id, prev_mac, entry_mac"
)


def _in_memory() -> bool:
    name = str(connection.settings_dict.get("NAME", ""))
    return connection.vendor == "sqlite" and (name in (":memory:", "") or "mode=memory" in name)


def _append(n: int, prefix: str = "test.append") -> None:
    for i in range(n):
        with audit.audited(f"{prefix}.{i}", object_type="thing", object_ref=str(i), detail={"i": i}):
            pass


def _tamper(sql: str, params=()) -> None:
    """What an attacker with database access would do: drop the append-only guard, then write."""
    journal_guard.remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        journal_guard.install(connection)


def _entry(action: str) -> AuditEntry:
    return AuditEntry.objects.get(action=action)


def _assert_chains_contiguous() -> None:
    by_chain: dict[int, list[int]] = {}
    for chain, seq in AuditEntry.objects.order_by("chain", "seq").values_list("chain", "seq"):
        by_chain.setdefault(chain, []).append(seq)
    for chain, seqs in by_chain.items():
        assert seqs == list(range(1, len(seqs) + 1)), chain
        head = AuditHead.objects.get(id=chain)
        last = AuditEntry.objects.get(chain=chain, seq=seqs[-1])
        assert (head.seq, head.entry_mac) == (last.seq, last.entry_mac)


def test_chains_are_contiguous_and_verify(db):
    before = AuditEntry.objects.count()
    _append(5)
    assert AuditEntry.objects.count() == before + 5
    _assert_chains_contiguous()
    result = audit.verify()
    assert result.ok, result.message
    assert result.checked == before + 5
    assert len(result.anchor) == 64


def test_entry_records_who_what_when_and_request(db, client):
    response = client.get("/api/v1/health", HTTP_X_REQUEST_ID="trace-0123456789")
    assert response["X-Request-ID"] == "trace-0123456789"
    from tongban.core import context

    tokens = context.set_request("req-abcdef012345", "10.0.0.7")
    try:
        with audit.audited(
            "test.who", object_type="thing", object_ref="T-1", department_code="scjgj"
        ) as entry:
            entry.detail["extra"] = 1
    finally:
        context.reset_request(tokens)
    row = _entry("test.who")
    assert row.actor_label == "system" and row.outcome == "success"
    assert (row.object_type, row.object_ref, row.department_code) == ("thing", "T-1", "scjgj")
    assert (row.request_id, row.client_ip) == ("req-abcdef012345", "10.0.0.7")
    assert row.detail == {"extra": 1}
    assert row.occurred_at is not None


def test_refused_change_is_journalled_and_rolled_back(db):
    from tongban.accounts.models import Region

    with pytest.raises(InvalidInput), audit.audited("test.invalid", object_type="region", object_ref="9"):
        Region.objects.create(code="999999", name="x", level="county")
        raise InvalidInput.single("code", "bad", "bad code")
    assert not Region.objects.filter(code="999999").exists()
    row = _entry("test.invalid")
    assert row.outcome == "invalid" and row.detail["fields"] == ["code"]

    with pytest.raises(NotPermitted), audit.audited("test.denied"):
        raise NotPermitted()
    assert _entry("test.denied").outcome == "denied"

    with pytest.raises(ZeroDivisionError), audit.audited("test.crash"):
        1 / 0  # noqa: B018
    crash = _entry("test.crash")
    assert crash.outcome == "failed" and crash.detail == {"error": "ZeroDivisionError"}
    assert audit.verify().ok


def test_nested_blocks_write_once_at_the_end_and_inner_failures_survive(db):
    with audit.audited("test.outer"):
        with audit.audited("test.inner.ok"):
            pass
        try:
            with audit.audited("test.inner.bad"):
                raise InvalidInput.single("x", "bad", "bad")
        except InvalidInput:
            pass
    outer, ok, bad = (_entry(a) for a in ("test.outer", "test.inner.ok", "test.inner.bad"))
    assert bad.outcome == "invalid" and ok.outcome == "success"
    # Buffered in order and written together when the outer block commits: one chain, consecutive.
    assert ok.chain == bad.chain == outer.chain
    assert (ok.seq + 1, bad.seq + 1) == (bad.seq, outer.seq)
    assert audit.verify().ok


def test_append_only_guard_refuses_updates(db):
    _append(1, "test.guard")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(action="test.guard.0").update(outcome="failed")


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="DELETE guard exists on PostgreSQL only")
def test_append_only_guard_refuses_deletes_on_postgresql(db):
    _append(1, "test.guard")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(action="test.guard.0").delete()


def test_modified_entry_is_named(db):
    _append(6)
    target = _entry("test.append.3")
    _tamper("UPDATE core_auditentry SET object_ref = %s WHERE id = %s", ["tampered", target.id])
    result = audit.verify()
    assert not result.ok
    assert (result.bad_chain, result.bad_seq, result.problem) == (target.chain, target.seq, "modified")
    assert f"entry {target.seq} of chain {target.chain}" in result.message


def test_modified_detail_json_is_detected(db):
    _append(3)
    target = _entry("test.append.1")
    _tamper("UPDATE core_auditentry SET detail = %s WHERE id = %s", ['{"i": 99}', target.id])
    result = audit.verify()
    assert (result.ok, result.bad_chain, result.bad_seq) == (False, target.chain, target.seq)


def test_deleted_entry_is_named(db):
    _append(6)
    target = _entry("test.append.2")
    _tamper("DELETE FROM core_auditentry WHERE id = %s", [target.id])
    result = audit.verify()
    assert (result.ok, result.bad_chain, result.bad_seq, result.problem) == (
        False,
        target.chain,
        target.seq,
        "missing",
    )


def test_entries_swapped_out_of_order_are_named(db):
    _append(6)
    a, b = _entry("test.append.2"), _entry("test.append.3")
    assert a.chain == b.chain and a.seq + 1 == b.seq
    # Swap the two entries' positions, keeping each entry's own (valid) MAC.
    _tamper("UPDATE core_auditentry SET seq = -1 WHERE id = %s", [a.id])
    _tamper("UPDATE core_auditentry SET seq = %s WHERE id = %s", [a.seq, b.id])
    _tamper("UPDATE core_auditentry SET seq = %s WHERE id = %s", [b.seq, a.id])
    result = audit.verify()
    assert (result.ok, result.bad_chain, result.bad_seq, result.problem) == (
        False,
        a.chain,
        a.seq,
        "out_of_order",
    )


def test_entry_inserted_in_the_middle_is_named(db):
    _append(6)
    target = _entry("test.append.4")
    chain = target.chain
    # Make room by renumbering the tail of the chain, then copy a genuine entry (valid MAC) into the gap.
    tail = (
        AuditEntry.objects.filter(chain=chain, seq__gte=target.seq).order_by("-seq").values_list("id", "seq")
    )
    for entry_id, seq in list(tail):
        _tamper("UPDATE core_auditentry SET seq = %s WHERE id = %s", [seq + 1, entry_id])
    genuine = AuditEntry.objects.filter(chain=chain).order_by("seq").first()
    columns = COLUMNS.replace("chain, seq, ", "")
    _tamper(
        f"INSERT INTO core_auditentry (chain, seq, {columns}) SELECT chain, %s, {columns} "
        "FROM core_auditentry WHERE id = %s",
        [target.seq, genuine.id],
    )
    result = audit.verify()
    assert (result.ok, result.bad_chain, result.bad_seq, result.problem) == (
        False,
        chain,
        target.seq,
        "out_of_order",
    )


def test_forged_entry_without_the_key_is_named(db):
    _append(3)
    last = _entry("test.append.2")
    _tamper(
        f"INSERT INTO core_auditentry ({COLUMNS}) "
        "VALUES (%s, %s, %s, NULL, 'intruder', 'forged', '', '', '', 'success', '', '', '{}', %s, %s, %s)",
        [last.chain, last.seq + 1, last.occurred_at, last.key_id, last.entry_mac, "f" * 64],
    )
    result = audit.verify()
    assert (result.ok, result.bad_chain, result.bad_seq) == (False, last.chain, last.seq + 1)


def test_truncated_tail_is_detected_through_the_head(db):
    _append(4)
    last = _entry("test.append.3")
    _tamper("DELETE FROM core_auditentry WHERE id = %s", [last.id])
    result = audit.verify()
    assert (result.ok, result.problem, result.bad_chain, result.bad_seq) == (
        False,
        "truncated",
        last.chain,
        last.seq,
    )


def test_a_deleted_head_is_detected(db):
    _append(2)
    last = _entry("test.append.1")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_audithead WHERE id = %s", [last.chain])
    result = audit.verify()
    assert (result.ok, result.problem) == (False, "no_head")


def test_duplicate_positions_in_a_chain_are_impossible(db):
    _append(1)
    row = AuditEntry.objects.order_by("-id").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.create(
            chain=row.chain,
            seq=row.seq,
            occurred_at=row.occurred_at,
            actor_label="x",
            action="dup",
            outcome="success",
            key_id=row.key_id,
            prev_mac="0",
            entry_mac="0",
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_gap_free_chain(seeded):
    """Eight threads append at once (PostgreSQL: row lock on the head; SQLite: the write lock)."""
    if _in_memory():
        pytest.skip("in-memory SQLite is one connection")
    before = AuditEntry.objects.count()
    errors = []

    def writer(k):
        from django.db import connections

        try:
            for i in range(25):
                with audit.audited(f"test.concurrent.{k}.{i}"):
                    pass
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert AuditEntry.objects.count() == before + 200
    _assert_chains_contiguous()
    result = audit.verify()
    assert result.ok, result.message
    assert result.checked == before + 200
    if connection.vendor == "postgresql":
        # Writers spread over the parallel chains instead of queueing behind one.
        assert AuditEntry.objects.values("chain").distinct().count() > 1


@pytest.mark.django_db(transaction=True)
def test_verification_while_writers_append_sees_one_consistent_moment(seeded):
    """A check that races appends must not report tampering that did not happen."""
    if _in_memory():
        pytest.skip("in-memory SQLite is one connection")
    done = threading.Event()
    errors = []

    def writer(k):
        from django.db import connections

        try:
            i = 0
            while not done.is_set():
                with audit.audited(f"test.race.{k}.{i}"):
                    pass
                i += 1
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    try:
        results = [audit.verify() for _ in range(15)]
    finally:
        done.set()
        for t in threads:
            t.join()
    assert not errors, errors
    bad = [r.message for r in results if not r.ok]
    assert not bad, bad
    assert results[-1].checked > results[0].checked  # the writers really were appending meanwhile
