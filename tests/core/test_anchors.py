"""Signed anchors of the audit journal, outside the database (issue 9, defect 11).

The chains alone cannot see a journal whose newest entries were cut off with the heads moved back,
or a database put back to an older copy: every chain still verifies. The anchors can.
"""

import gzip
import json
import logging
import stat

import pytest
from django.db import connection
from django.utils import timezone
from gmssl import sm2 as gmssl_sm2

from tongban.core import anchors, audit, backup, journal_guard, services, sm2
from tongban.core.authz import SYSTEM
from tongban.core.models import AuditEntry, AuditHead
from tongban.core.tasks import nightly_audit_verification

OTHER_MASTER = "f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff"


@pytest.fixture(autouse=True)
def anchor_dir(settings, tmp_path):
    settings.TONGBAN_ANCHOR_DIR = str(tmp_path / "anchors")
    return tmp_path / "anchors"


def _append(n: int, prefix: str = "test.anchor") -> None:
    for i in range(n):
        with audit.audited(f"{prefix}.{i}", object_type="thing", object_ref=str(i)):
            pass


def _verify(trigger: str = "test") -> audit.VerifyResult:
    result = services.verify_journal(SYSTEM, trigger=trigger)
    assert result.ok, result.message
    assert result.anchor_log, result.anchor_error
    return result


def _tamper(sql: str, params=()) -> None:
    """What someone with the database but not the master key can do: drop the guard, then write."""
    journal_guard.remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        journal_guard.install(connection)


def _busiest_chain(heads: dict[int, tuple[int, str]]) -> int:
    return max(heads, key=lambda c: heads[c][0])


def _cut_tail(chain: int, keep: int) -> None:
    """Cut a chain back to its first `keep` entries and move its head back to match, as someone who
    wants the removal to go unnoticed would."""
    last = AuditEntry.objects.get(chain=chain, seq=keep)
    _tamper("DELETE FROM core_auditentry WHERE chain = %s AND seq > %s", [chain, keep])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_audithead SET seq = %s, entry_mac = %s WHERE id = %s", [keep, last.entry_mac, chain]
        )


def _lines(folder) -> list[str]:
    return [line for path in anchors.anchor_files(folder) for line in path.read_text().splitlines()]


# --- writing ------------------------------------------------------------------------------------


def test_each_verification_signs_an_anchor_outside_the_database(db, anchor_dir, caplog, settings):
    _append(3)
    with caplog.at_level(logging.INFO, logger="tongban.anchors"):
        result = _verify("cli")

    path = anchor_dir / f"anchors-{timezone.localtime():%Y-%m}.jsonl"
    assert result.anchor_log == str(path)
    (line,) = path.read_text().splitlines()
    record = json.loads(line)
    assert record["v"] == 1 and record["kind"] == "anchor" and record["trigger"] == "cli"
    assert record["entries"] == result.checked
    assert record["heads"] == {str(c): [seq, mac] for c, (seq, mac) in result.heads.items()}
    assert {int(c) for c in record["heads"]} == set(AuditHead.objects.values_list("id", flat=True))
    assert record["anchor"] == result.anchor
    key = sm2.derived(anchors.KEY_PURPOSE, settings.TONGBAN_MASTER_KEY)
    assert (record["key_id"], record["public_key"]) == (key.key_id, key.public_key)
    # The signature checks with a second SM2 implementation, over the documented bytes.
    unsigned = {k: v for k, v in record.items() if k != "sig"}
    message = (
        b"tongban-audit-anchor-v1\n"
        + json.dumps(unsigned, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    )
    assert gmssl_sm2.CryptSM2(private_key=None, public_key=record["public_key"]).verify_with_sm3(
        record["sig"], message
    )
    # Appended only, never rewritten; only the service user may read the folder.
    assert stat.S_IMODE(anchor_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) & 0o027 == 0
    assert any(r.name == "tongban.anchors" and r.getMessage() == line for r in caplog.records)
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry.action == "core.audit.verify" and entry.detail["anchor_logged"] is True

    _verify()
    assert _lines(anchor_dir)[0] == line and len(_lines(anchor_dir)) == 2


def test_a_broken_journal_gets_no_anchor(db, anchor_dir):
    _append(2)
    target = AuditEntry.objects.order_by("-id").first()
    _tamper("UPDATE core_auditentry SET object_ref = 'x' WHERE id = %s", [target.id])
    result = services.verify_journal(SYSTEM, trigger="test")
    assert not result.ok and not result.anchor_log
    assert not anchors.anchor_files(anchor_dir)


def test_an_unwritable_anchor_folder_is_reported_not_fatal(db, settings, tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    settings.TONGBAN_ANCHOR_DIR = str(blocker / "anchors")
    with caplog.at_level(logging.ERROR, logger="tongban.core.services"):
        result = services.verify_journal(SYSTEM, trigger="test")
    assert result.ok and not result.anchor_log
    assert "could not be written" in result.anchor_error
    assert any("AUDIT ANCHOR NOT WRITTEN" in r.getMessage() for r in caplog.records)
    assert AuditEntry.objects.order_by("-id").first().detail["anchor_logged"] is False


# --- checking -----------------------------------------------------------------------------------


def test_anchors_stay_valid_while_the_journal_grows(db):
    for _ in range(3):
        _append(4)
        _verify()
    report = anchors.check()
    assert (report.anchors, report.valid, report.broken) == (3, 3, 0)
    assert {c.status for c in report.checks} == {"valid"}


def test_a_tail_cut_off_with_the_head_moved_back_is_found_only_by_the_anchors(db):
    _append(5)
    anchored = _verify().heads
    chain = _busiest_chain(anchored)
    seq = anchored[chain][0]
    _cut_tail(chain, keep=seq - 3)

    assert audit.verify().ok  # every chain still verifies: this is what the anchors are for
    report = anchors.check()
    assert (report.anchors, report.valid, report.broken) == (1, 0, 1)
    (broken,) = report.checks
    assert broken.problem == "rolled_back"
    assert f"chain {chain} ends at entry {seq - 3}, but the anchor saw entry {seq}" in broken.message


def test_a_tail_cut_off_and_written_again_is_found(db):
    _append(5)
    anchored = _verify().heads
    chain = _busiest_chain(anchored)
    seq = anchored[chain][0]
    _cut_tail(chain, keep=seq - 3)
    while AuditHead.objects.get(id=chain).seq < seq:  # the site goes on: new entries, same numbers
        _append(4, "test.after")
    assert audit.verify().ok

    (broken,) = anchors.check().checks
    assert (broken.status, broken.problem) == ("broken", "rewritten")
    assert f"entry {seq} of chain {chain} is not the one the anchor saw" in broken.message


def test_a_database_put_back_to_an_older_copy_is_found(seeded, tmp_path, settings):
    settings.VAR_DIR = str(tmp_path / "var")
    old_copy = tmp_path / "old.tbk"
    _verify()  # an anchor the old copy still extends
    backup.create_backup(old_copy)
    _append(3)
    _verify()  # an anchor of entries the old copy does not have

    # Someone with the database (not tongban restore, so no restore record) puts the old copy back.
    with backup.verified(old_copy) as staged:
        backup._restore_database(staged.database, staged.workdir, None)
    assert audit.verify().ok

    report = anchors.check()
    assert [c.status for c in report.checks] == ["valid", "broken"]
    assert report.checks[1].problem == "rolled_back"
    assert (report.anchors, report.valid, report.broken) == (2, 1, 1)


def test_a_recorded_restore_supersedes_the_anchors_it_undid(seeded, tmp_path, settings):
    settings.VAR_DIR = str(tmp_path / "var")
    old_copy = tmp_path / "old.tbk"
    backup.create_backup(old_copy)
    _append(3)
    _verify()
    backup.restore_backup(old_copy)  # an operator's restore: signed into the anchor log
    _append(2)
    _verify()

    report = anchors.check()
    assert [(c.kind, c.status) for c in report.checks] == [
        ("anchor", "superseded"),
        ("restore", "valid"),
        ("anchor", "valid"),
    ]
    assert "undone by the restore of" in report.checks[0].message
    assert (report.anchors, report.valid, report.broken) == (3, 3, 0)

    # Putting the old copy back again without tongban restore is a rollback again.
    with backup.verified(old_copy) as staged:
        backup._restore_database(staged.database, staged.workdir, None)
    report = anchors.check()
    assert [c.status for c in report.checks] == ["superseded", "valid", "broken"]


def test_forged_and_damaged_lines_are_broken(db, anchor_dir, settings):
    _append(2)
    _verify()
    _verify()
    path = anchors.anchor_files(anchor_dir)[0]
    genuine = json.loads(path.read_text().splitlines()[0])
    ours = sm2.derived(anchors.KEY_PURPOSE, settings.TONGBAN_MASTER_KEY)
    stranger = sm2.derived(anchors.KEY_PURPOSE, OTHER_MASTER)

    def signed(record, key):
        record = {k: v for k, v in record.items() if k != "sig"}
        record["sig"] = key.sign(anchors.SIGNED_PREFIX + anchors._canonical(record)).hex()
        return record

    bigger = {**genuine, "entries": genuine["entries"] + 100}  # an edited line, signature kept
    in_our_name = signed({**genuine, "entries": 1}, stranger)  # signed by another key, naming ours
    theirs = signed({**genuine, "key_id": stranger.key_id, "public_key": stranger.public_key}, stranger)
    inconsistent = signed({**genuine, "anchor": "0" * 64}, ours)  # (only a key holder could)
    forged = [
        json.dumps(bigger),
        json.dumps(in_our_name),
        json.dumps(theirs),
        json.dumps({**genuine, "sig": "zz"}),
        json.dumps(inconsistent),
        json.dumps({k: v for k, v in genuine.items() if k != "heads"}),
        json.dumps({**genuine, "heads": {"0": [-1, "0" * 64]}}),
        json.dumps({**genuine, "at": "yesterday"}),
        "not json at all {",
        json.dumps([genuine]),
    ]
    with open(path, "a") as fh:
        fh.write("\n".join(forged) + "\n\n")

    report = anchors.check()
    assert (report.anchors, report.valid, report.broken) == (2 + len(forged), 2, len(forged))
    problems = [c.problem for c in report.checks[2:]]
    assert problems == [
        "bad_signature",
        "bad_signature",
        "unknown_key",
        "bad_signature",
        "malformed",
        "malformed",
        "malformed",
        "malformed",
        "malformed",
        "malformed",
    ]
    assert report.checks[3].where == f"{path.name}:4"


def test_anchors_verify_after_a_master_key_rotation(db, settings):
    _append(1)
    _verify()
    current = settings.TONGBAN_MASTER_KEY
    settings.TONGBAN_MASTER_KEY, settings.TONGBAN_MASTER_KEYS_OLD = OTHER_MASTER, [current]
    assert anchors.check().valid == 1
    settings.TONGBAN_MASTER_KEYS_OLD = []
    (check,) = anchors.check().checks
    assert (check.status, check.problem) == ("broken", "unknown_key")
    assert "TONGBAN_MASTER_KEYS_OLD" in check.message


def test_a_copy_from_syslog_or_a_compressed_month_checks_the_same(db, anchor_dir, tmp_path):
    _append(1)
    _verify()
    _verify()
    lines = _lines(anchor_dir)
    syslog = tmp_path / "messages"
    syslog.write_text(
        "".join(f"Nov 22 02:30:0{i} zwfw-app1 tongban-anchor: {line}\n" for i, line in enumerate(lines))
    )
    report = anchors.check(syslog)
    assert (report.anchors, report.valid, report.broken) == (2, 2, 0)
    assert report.source == str(syslog)

    archive = tmp_path / "archive"
    archive.mkdir()
    with gzip.open(archive / "anchors-2026-01.jsonl.gz", "wt") as fh:
        fh.write(lines[0] + "\n")
    (archive / "anchors-2026-02.jsonl").write_text(lines[1] + "\n")
    (archive / "notes.txt").write_text("not an anchor file")
    report = anchors.check(archive)
    assert [c.where for c in report.checks] == ["anchors-2026-01.jsonl.gz:1", "anchors-2026-02.jsonl:1"]
    assert report.valid == 2


def test_an_absurdly_long_line_is_refused_without_holding_it(db, anchor_dir):
    _append(1)
    _verify()
    path = anchors.anchor_files(anchor_dir)[0]
    with open(path, "a") as fh:
        fh.write("{" + "x" * (anchors.MAX_LINE + 10) + "\n")
    report = anchors.check()
    assert (report.valid, report.broken) == (1, 1)
    assert report.checks[1].message == "the line is too long to be an anchor"


def test_the_nightly_job_checks_the_anchors_and_says_so_when_broken(db, caplog):
    _append(5)
    anchored = _verify().heads
    chain = _busiest_chain(anchored)
    _cut_tail(chain, keep=anchored[chain][0] - 2)
    with caplog.at_level(logging.ERROR, logger="tongban.core.services"):
        result = nightly_audit_verification.call_local()
    assert result["ok"] is True  # the journal itself verifies
    assert result["anchors"] == {"anchors": 2, "valid": 1, "broken": 1}
    assert any("AUDIT ANCHORS BROKEN: 1 of 2 anchors" in r.getMessage() for r in caplog.records)
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry.action == "core.audit.verify" and entry.outcome == "failed"
    assert entry.detail["anchors_broken"] == 1


def test_the_syslog_setting_names_a_socket_or_a_server():
    import socket

    from tongban.settings import _syslog_handler

    assert _syslog_handler("/dev/log")["address"] == "/dev/log"
    udp = _syslog_handler("logs.example.gov.cn")
    assert (udp["address"], udp["socktype"]) == (("logs.example.gov.cn", 514), socket.SOCK_DGRAM)
    tcp = _syslog_handler("tcp://10.0.0.5:6514")
    assert (tcp["address"], tcp["socktype"]) == (("10.0.0.5", 6514), socket.SOCK_STREAM)
    assert udp["class"] == "logging.handlers.SysLogHandler"
