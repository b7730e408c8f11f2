"""Backups and restores on the configured engine (SQLite online backup API or pg_dump/pg_restore),
with the files under var/, sealed with HMAC-SM3 under a key derived from the master key.

Both database tools see committed data only, so tests that restore are transactional and reload the
demo city; refusals, which must change nothing, share one backup of the city as the session loaded
it and run in an ordinary test transaction. Each test has a var/ and an anchor log of its own.
"""

import datetime as dt
import gzip
import io
import json
import random
import re
import shutil
import tarfile
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings
from gmssl import sm3

from tests import samples
from tests.conftest import actor, shared_data_dir
from tongban.accounts import services as accounts
from tongban.accounts.models import Region, Staff, User, Window
from tongban.core import anchors, audit, backup, crypto
from tongban.core.authz import SYSTEM
from tongban.core.backup import BackupError, create_backup, read_manifest, restore_backup, verified
from tongban.core.models import AuditEntry, AuditHead

NEW_REGION = "511602099"
OTHER_MASTER = "f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff"


@pytest.fixture(autouse=True)
def var(settings, tmp_path):
    """A var/ and an anchor folder of this test's own (restores replace trees under var/)."""
    settings.VAR_DIR = str(tmp_path / "var")
    settings.TONGBAN_ANCHOR_DIR = str(tmp_path / "anchors")
    (tmp_path / "var").mkdir()
    return tmp_path / "var"


def database_state() -> dict:
    """Every row of every model, so "exactly as at backup time" means exactly."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values_list())
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def var_state(var: Path) -> dict[str, bytes]:
    return {
        p.relative_to(var).as_posix(): p.read_bytes()
        for tree in ("files", "insight/logs", "insight/reports")
        for p in sorted((var / tree).rglob("*"))
        if p.is_file()
    }


def put_var_files(var: Path, count: int = 3) -> dict[str, bytes]:
    """Files in every backed-up tree, as core.files and insight would leave them."""
    rng = random.Random(count)
    written = {}
    for i in range(count):
        for relative in (
            f"files/{i:02x}/{i:064x}.bin",
            f"insight/logs/log-{i}.parquet",
            f"insight/reports/2026-0{i + 1}.pdf",
        ):
            path = var / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            data = rng.randbytes(1000 + 777 * i)
            path.write_bytes(data)
            written[relative] = data
    return written


def change_data() -> None:
    """Committed changes in several tables: a new region (and its journal entry), a deleted window."""
    accounts.create_region(SYSTEM, code=NEW_REGION, name="测试街道")
    Window.objects.get(centre__code="gaq-zwzx", number="01").delete()  # the clerk's window: SET_NULL on Staff


def members(path: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(path) as archive:
        return [(m, archive.extractfile(m).read()) for m in archive.getmembers()]


def write_archive(path: Path, parts: list[tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w") as archive:
        for name, data in parts:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def rebuilt(path: Path, out: Path, edit) -> Path:
    """The archive's members, changed by `edit(list of (name, bytes))`, written to `out`."""
    parts = [(m.name, data) for m, data in members(path)]
    return write_archive(out, edit(parts))


def seal_with_the_key(parts: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """What only a holder of the master key can do: seal members as `tongban backup` would."""
    key = crypto.derived_key(backup.MAC_PURPOSE)
    manifest = next(data for name, data in parts if name == "manifest.json")
    content = [(n, d) for n, d in parts if n not in ("manifest.json", "seal.json")]
    stream = backup.CONTENT_PREFIX + b"".join(backup._member_header(n, len(d)) + d for n, d in content)
    seal = {
        "members": len(content),
        "bytes": sum(len(d) for _n, d in content),
        "content_mac": crypto.hmac_sm3(key, stream).hex(),
    }
    seal["mac"] = backup._seal_mac(key, manifest, seal)
    return [("manifest.json", manifest), *content, ("seal.json", json.dumps(seal).encode())]


def gmssl_hmac(key: bytes, data: bytes) -> str:
    """HMAC (RFC 2104) over gmssl's pure-Python SM3: a second implementation of the seal."""
    key = key.ljust(64, b"\0")

    def h(b: bytes) -> bytes:
        return bytes.fromhex(sm3.sm3_hash(list(b)))

    return h(bytes(k ^ 0x5C for k in key) + h(bytes(k ^ 0x36 for k in key) + data)).hex()


@pytest.fixture(scope="module")
def sealed(tmp_path_factory, django_db_setup, django_db_blocker):
    """One backup of the demo city as the session loaded it (committed), with files under var/."""
    root = tmp_path_factory.mktemp("sealed")
    (root / "var").mkdir()
    files = put_var_files(root / "var")
    with (
        django_db_blocker.unblock(),
        override_settings(VAR_DIR=str(root / "var"), TONGBAN_ANCHOR_DIR=str(root / "anchors")),
    ):
        contents = create_backup(root / "city.tbk")
    return root / "city.tbk", contents, files


@pytest.fixture
def made(tmp_path, var, seeded):
    """A backup of the demo city with files under var/, and the exact state it holds."""
    files = put_var_files(var)
    path = tmp_path / "city.tbk"
    state, on_disk = database_state(), var_state(var)
    assert set(on_disk) == set(files)
    contents = create_backup(path)
    return path, contents, state, on_disk


def assert_refused_without_change(path: Path, message: str, var: Path) -> None:
    before, files_before = database_state(), var_state(var)
    with pytest.raises(BackupError, match=message):
        restore_backup(path)
    assert database_state() == before
    assert var_state(var) == files_before
    assert not list(var.glob(".restore-*")), "the staging folder is removed"
    assert audit.verify().ok


# --- creating -----------------------------------------------------------------------------------


def test_the_archive_holds_manifest_database_files_and_a_seal_a_second_implementation_checks(db, sealed):
    path, contents, on_disk = sealed
    manifest = contents.manifest
    assert manifest.engine == connection.vendor
    assert manifest.format == "tongban-backup" and manifest.format_version == 2
    assert manifest.key_id == crypto.key_id(crypto.derived_key("backup-mac-v1"))
    assert manifest.var_trees == ["files", "insight/logs", "insight/reports"]
    created = dt.datetime.fromisoformat(manifest.created_at)
    assert abs((dt.datetime.now(dt.UTC) - created).total_seconds()) < 120
    leaves = dict(MigrationLoader(connection).graph.leaf_nodes())
    assert manifest.migrations["core"] == leaves["core"]
    assert manifest.migrations["accounts"] == leaves["accounts"]
    assert read_manifest(path) == manifest
    assert path.stat().st_mode & 0o077 == 0  # the service user's only

    parts = members(path)
    names = [m.name for m, _data in parts]
    assert names[0] == "manifest.json" and names[1] == manifest.database and names[-1] == "seal.json"
    assert {n.removeprefix("var/") for n in names[2:-1]} == set(on_disk)
    for m, data in parts[2:-1]:
        assert data == on_disk[m.name.removeprefix("var/")]
    assert (contents.files, contents.files_bytes) == (len(on_disk), sum(map(len, on_disk.values())))
    assert contents.database_bytes == len(parts[1][1]) > 0

    # The documented format, recomputed with gmssl's SM3: content MAC, then the seal over the manifest.
    key = crypto.derived_key("backup-mac-v1")
    seal = json.loads(parts[-1][1])
    stream = b"tongban-backup-v2 content\x00" + b"".join(
        m.name.encode() + b"\x00" + m.size.to_bytes(8, "big") + data for m, data in parts[1:-1]
    )
    assert gmssl_hmac(key, stream) == seal["content_mac"]
    body = json.dumps({k: seal[k] for k in ("bytes", "content_mac", "members")}, separators=(",", ":"))
    assert (
        gmssl_hmac(key, b"tongban-backup-v2 seal\x00" + parts[0][1] + b"\x00" + body.encode()) == seal["mac"]
    )
    assert seal["mac"] == contents.seal
    assert (seal["members"], seal["bytes"]) == (1 + len(on_disk), sum(m.size for m, _d in parts[1:-1]))


def test_progress_is_reported_by_stage(seeded, tmp_path, var):
    put_var_files(var)
    calls = []
    create_backup(tmp_path / "p.tbk", progress=lambda stage, done, total: calls.append((stage, done, total)))
    stages = [c[0] for c in calls]
    assert "database" in stages and stages[-1] == "archive"
    assert calls[-1][1] == calls[-1][2] > 0

    calls.clear()
    restore_backup(tmp_path / "p.tbk", progress=lambda stage, done, total: calls.append((stage, done, total)))
    assert {"verify", "database"} <= {c[0] for c in calls}
    verify = [c for c in calls if c[0] == "verify"]
    assert verify[-1][1] == verify[-1][2] == (tmp_path / "p.tbk").stat().st_size


def test_files_being_written_links_and_odd_names_are_left_out(seeded, tmp_path, var):
    (var / "files" / "ab").mkdir(parents=True)
    (var / "files" / "ab" / "good.bin").write_bytes(b"x")
    (var / "files" / "ab" / ".tmp123.part").write_bytes(b"half")  # core.files writes beside, then renames
    (var / "files" / "ab" / "link.bin").symlink_to(var / "files" / "ab" / "good.bin")
    (var / "files" / "ab" / "空格 名字.bin").write_bytes(b"odd")
    (var / "insight").mkdir()
    (var / "insight" / "facts.parquet").write_bytes(b"a cache, not state")
    contents = create_backup(tmp_path / "odd.tbk")
    names = [m.name for m, _d in members(tmp_path / "odd.tbk")]
    assert names[2:-1] == ["var/files/ab/good.bin"]
    assert sorted(contents.skipped) == ["var/files/ab/link.bin", "var/files/ab/空格 名字.bin"]


# --- restoring ----------------------------------------------------------------------------------


def test_restore_brings_back_the_database_and_the_files_as_at_backup_time(made, var):
    path, contents, at_backup, files_at_backup = made
    clerk_window = Staff.objects.get(user__username="clerk").window_id
    change_data()
    (var / "files" / "00" / f"{0:064x}.bin").unlink()  # a file lost
    (var / "files" / "ff").mkdir()
    (var / "files" / "ff" / ("f" * 64 + ".bin")).write_bytes(b"uploaded after the backup")
    (var / "insight" / "facts.parquet").write_bytes(b"cache of the database being replaced")
    assert database_state() != at_backup and var_state(var) != files_at_backup

    restored = restore_backup(path)

    assert restored.contents.manifest == contents.manifest and restored.contents.seal == contents.seal
    assert database_state() == at_backup
    assert var_state(var) == files_at_backup
    assert not (var / "insight" / "facts.parquet").exists()
    assert not list(var.glob(".restore-*"))
    assert Staff.objects.get(user__username="clerk").window_id == clerk_window
    result = audit.verify()
    assert result.ok, result.message
    assert (
        sum(AuditHead.objects.values_list("seq", flat=True)) == AuditEntry.objects.count() == result.checked
    )


def test_a_material_comes_back_on_a_fresh_var_and_an_empty_database(seeded, tmp_path, var):
    """The issue's case: back up, lose var/ and the database, restore, download the same bytes."""
    from tests.cases.test_lifecycle import _data, _item
    from tongban.cases import services as cases
    from tongban.insight import services as insight

    item = _item()
    case = cases.apply_online(
        actor("zhangsan"),
        item_code=item,
        data=_data(),
        files={"营业执照": samples.upload("licence.pdf", "L")},
    )
    material = case.materials.get(name="营业执照")
    logs = shared_data_dir()
    log = (
        insight.import_log(actor("supervisor"), Path(logs) / "eventlogs" / "running-example.xes")
        if logs
        else None
    )
    path = tmp_path / "city.tbk"
    create_backup(path)

    shutil.rmtree(var)
    call_command("flush", interactive=False, verbosity=0)
    assert not User.objects.exists()

    restore_backup(path)

    name, content_type, content = cases.material_file(actor("reviewer"), case.number, material.pk)
    assert (name, content_type, content) == ("licence.pdf", "application/pdf", samples.pdf("L"))
    if log is not None:
        analysis = insight.analyse(actor("supervisor"), log.public_id)
        assert analysis.overview.events == 42
    assert audit.verify().ok


def test_database_stays_usable_after_restore(made):
    path, _contents, _at_backup, _files = made
    change_data()
    restore_backup(path)
    assert Window.objects.filter(centre__code="gaq-zwzx", number="01").exists()
    entries = AuditEntry.objects.count()
    accounts.create_region(SYSTEM, code="511602098", name="恢复后街道")
    assert AuditEntry.objects.count() == entries + 1
    result = audit.verify()
    assert result.ok, result.message
    assert result.checked == entries + 1


def test_restore_twice_is_the_same(made, var):
    path, _contents, at_backup, files = made
    restore_backup(path)
    restore_backup(path)
    assert database_state() == at_backup
    assert var_state(var) == files


def test_a_restore_is_recorded_in_the_anchor_log(made, settings):
    path, contents, _at_backup, _files = made
    restored = restore_backup(path)
    (line,) = list(anchors.read_lines())
    record = line.record
    assert record["kind"] == "restore" and record["trigger"] == "restore"
    assert record["backup"] == {"created_at": contents.manifest.created_at, "seal": contents.seal}
    heads = dict(AuditHead.objects.values_list("id", "seq"))
    assert {int(c): seq for c, (seq, _mac) in record["heads"].items()} == heads
    assert restored.anchor_log.startswith(str(settings.TONGBAN_ANCHOR_DIR))
    report = anchors.check()
    assert (report.anchors, report.valid, report.broken) == (1, 1, 0)


# --- refusing damaged, altered or foreign files -------------------------------------------------


def test_an_edited_database_with_recomputed_digests_is_refused(seeded, tmp_path, var):
    """Issue 9, defect 3: make lisi a superuser inside a backup and fix up every unkeyed digest."""
    path = tmp_path / "city.tbk"
    create_backup(path)
    # The attacker's edited database: the same city with lisi a superuser, dumped by the same tool.
    User.objects.filter(username="lisi").update(is_superuser=True, is_staff=True)
    create_backup(tmp_path / "evil.tbk")
    User.objects.filter(username="lisi").update(is_superuser=False, is_staff=False)
    (_manifest, _), (database, edited), *_rest = members(tmp_path / "evil.tbk")
    name = database.name

    def attacker(parts):
        parts = [(n, edited if n == name else d) for n, d in parts]
        content = [(n, d) for n, d in parts if n not in ("manifest.json", "seal.json")]
        out = []
        for n, d in parts:
            if n in ("manifest.json", "seal.json"):
                fields = json.loads(d)
                if "payload_sm3" in fields:  # a format with a plain digest: just recompute it
                    fields.update(payload_sm3=sm3.sm3_hash(list(edited)), payload_bytes=len(edited))
                if "content_mac" in fields:  # without the key, the best one can do is a plain SM3
                    stream = b"".join(backup._member_header(cn, len(cd)) + cd for cn, cd in content)
                    fields.update(
                        members=len(content),
                        bytes=sum(len(cd) for _cn, cd in content),
                        content_mac=crypto.sm3_hex(backup.CONTENT_PREFIX + stream),
                    )
                    fields["mac"] = crypto.sm3_hex(json.dumps(fields).encode())
                d = json.dumps(fields).encode()
            out.append((n, d))
        return out

    forged = rebuilt(path, tmp_path / "forged.tbk", attacker)
    assert_refused_without_change(forged, r"^checksum mismatch", var)
    assert not User.objects.get(username="lisi").is_superuser

    # The edit itself was real: sealed with the key, the same archive restores and lisi is a superuser.
    sealed = rebuilt(forged, tmp_path / "sealed.tbk", seal_with_the_key)
    restore_backup(sealed)
    assert User.objects.get(username="lisi").is_superuser


def test_a_backup_in_the_old_unkeyed_format_is_refused(db, sealed, tmp_path, var):
    path, contents, _files = sealed
    payload = dict((m.name, d) for m, d in members(path))[contents.manifest.database]
    old = {
        "engine": connection.vendor,
        "created_at": contents.manifest.created_at,
        "payload": contents.manifest.database,
        "payload_sm3": sm3.sm3_hash(list(payload)),
        "payload_bytes": len(payload),
        "migrations": contents.manifest.migrations,
        "tongban_version": contents.manifest.tongban_version,
        "format": "tongban-backup",
        "format_version": 1,
    }
    forged = write_archive(
        tmp_path / "v1.tbk",
        [("manifest.json", json.dumps(old).encode()), (contents.manifest.database, payload)],
    )
    change_data()
    assert_refused_without_change(forged, "older tongban .format 1. whose checksum has no key", var)


@pytest.mark.parametrize(
    "edit",
    ["version", "migrations", "engine_and_back", "truncated_manifest", "rewritten_seal", "truncated_seal"],
)
def test_a_rewritten_or_truncated_manifest_or_seal_is_refused(db, sealed, tmp_path, var, edit):
    path, _contents, _files = sealed

    def change(parts):
        out = []
        for n, d in parts:
            if n == "manifest.json":
                m = json.loads(d)
                if edit == "version":
                    m["tongban_version"] = "0.0.1"
                elif edit == "migrations":
                    m["migrations"] = {k: v for k, v in m["migrations"].items() if k != "cases"}
                elif edit == "engine_and_back":
                    d = d.replace(b'"engine"', b'"engine" ')  # same meaning, other bytes
                elif edit == "truncated_manifest":
                    d = d[: len(d) // 2]
                if edit in ("version", "migrations"):
                    d = json.dumps(m, indent=2, sort_keys=True).encode()
            if n == "seal.json":
                s = json.loads(d)
                if edit == "rewritten_seal":
                    s["members"] -= 1
                elif edit == "truncated_seal":
                    d = d[:20]
                if edit == "rewritten_seal":
                    d = json.dumps(s).encode()
            out.append((n, d))
        return out

    forged = rebuilt(path, tmp_path / "forged.tbk", change)
    change_data()
    expected = "damaged manifest" if edit == "truncated_manifest" else "^checksum mismatch"
    assert_refused_without_change(forged, expected, var)


@pytest.mark.parametrize(
    "edit", ["drop_file", "add_file", "swap_files", "edit_file", "rename_file", "drop_seal"]
)
def test_files_dropped_added_reordered_or_changed_are_refused(db, sealed, tmp_path, var, edit):
    path, _contents, _files = sealed

    def change(parts):
        files = [i for i, (n, _d) in enumerate(parts) if n.startswith("var/")]
        a, b = files[0], files[1]
        if edit == "drop_file":
            del parts[a]
        elif edit == "add_file":
            parts.insert(-1, ("var/files/00/extra.bin", b"planted"))
        elif edit == "swap_files":
            parts[a], parts[b] = parts[b], parts[a]
        elif edit == "edit_file":
            parts[a] = (parts[a][0], b"\x00" + parts[a][1][1:])
        elif edit == "rename_file":
            parts[a] = ("var/files/00/" + "e" * 64 + ".bin", parts[a][1])
        elif edit == "drop_seal":
            parts = parts[:-1]
        return parts

    forged = rebuilt(path, tmp_path / "forged.tbk", change)
    change_data()
    expected = "seal at the end is missing" if edit == "drop_seal" else "^checksum mismatch"
    assert_refused_without_change(forged, expected, var)
    assert Region.objects.filter(code=NEW_REGION).exists()


@pytest.mark.parametrize("where", [0.0, 0.5, 0.999])
def test_flipped_database_byte_is_refused_and_changes_nothing(db, sealed, tmp_path, var, where):
    path, contents, _files = sealed
    with tarfile.open(path) as archive:
        member = archive.getmember(contents.manifest.database)
    data = bytearray(path.read_bytes())
    data[member.offset_data + int(member.size * where)] ^= 0x01
    corrupt = tmp_path / "corrupt.tbk"
    corrupt.write_bytes(bytes(data))
    change_data()
    assert_refused_without_change(corrupt, r"^checksum mismatch", var)
    assert Region.objects.filter(code=NEW_REGION).exists()


@pytest.mark.parametrize(
    "cut", ["empty", "in_header", "in_manifest", "in_database", "in_files", "before_seal"]
)
def test_truncated_file_is_refused(db, sealed, tmp_path, var, cut):
    path, contents, _files = sealed
    with tarfile.open(path) as archive:
        database = archive.getmember(contents.manifest.database)
        seal = archive.getmember("seal.json")
        last_file = archive.getmembers()[-2]
    length = {
        "empty": 0,
        "in_header": 300,
        "in_manifest": 600,
        "in_database": database.offset_data + database.size // 2,
        "in_files": last_file.offset_data + last_file.size // 2,
        "before_seal": seal.offset,
    }[cut]
    truncated = tmp_path / "truncated.tbk"
    truncated.write_bytes(path.read_bytes()[:length])
    change_data()
    assert_refused_without_change(
        truncated, "^(not a readable tongban backup|damaged archive|damaged manifest)", var
    )
    assert Region.objects.filter(code=NEW_REGION).exists()


def test_random_file_is_refused(db, tmp_path, var):
    junk = tmp_path / "junk.tbk"
    junk.write_bytes(random.Random(20261122).randbytes(64 * 1024))
    with pytest.raises(BackupError, match="not a readable tongban backup"):
        read_manifest(junk)
    assert_refused_without_change(junk, "not a readable tongban backup", var)
    assert_refused_without_change(tmp_path / "absent.tbk", "not a readable tongban backup", var)


def test_backup_of_another_engine_is_refused(db, sealed, tmp_path, var):
    path, contents, _files = sealed
    other = "postgresql" if contents.manifest.engine == "sqlite" else "sqlite"

    def to_other(parts):
        return [
            (
                n,
                d.replace(
                    f'"engine": "{contents.manifest.engine}"'.encode(), f'"engine": "{other}"'.encode()
                ),
            )
            if n == "manifest.json"
            else (n, d)
            for n, d in parts
        ]

    # Sealed with the key, so only the engine is wrong.
    foreign = rebuilt(path, tmp_path / "foreign.tbk", lambda parts: seal_with_the_key(to_other(parts)))
    change_data()
    assert_refused_without_change(foreign, f"this backup is of a {other} database", var)


def test_a_backup_sealed_under_another_master_key(made, tmp_path, var, settings):
    """A backup verifies after a master-key rotation while the old key is listed as retired, and is
    refused, naming the key, where that master key is unknown."""
    path, _contents, at_backup, _files = made
    current = settings.TONGBAN_MASTER_KEY
    settings.TONGBAN_MASTER_KEY, settings.TONGBAN_MASTER_KEYS_OLD = OTHER_MASTER, [current]
    change_data()
    restore_backup(path)  # sealed under what is now a retired key
    assert database_state() == at_backup
    rotated = tmp_path / "rotated.tbk"
    made_after = create_backup(rotated)
    assert made_after.manifest.key_id == crypto.key_id(
        crypto.derived_key("backup-mac-v1", master=OTHER_MASTER)
    )

    settings.TONGBAN_MASTER_KEY, settings.TONGBAN_MASTER_KEYS_OLD = current, []
    assert_refused_without_change(
        rotated, f"sealed with key {made_after.manifest.key_id}, derived from a master", var
    )


def test_archive_that_is_not_a_tongban_backup_is_refused(db, sealed, tmp_path, var):
    path, contents, _files = sealed

    def manifest_edit(**changes):
        def edit(parts):
            return seal_with_the_key(
                [
                    (n, json.dumps({**json.loads(d), **changes}).encode()) if n == "manifest.json" else (n, d)
                    for n, d in parts
                ]
            )

        return edit

    wrong_format = rebuilt(path, tmp_path / "format.tbk", manifest_edit(format="something-else"))
    assert_refused_without_change(wrong_format, "not a tongban backup of a supported format", var)
    escaping = rebuilt(path, tmp_path / "escaping.tbk", manifest_edit(var_trees=["files", "../etc"]))
    assert_refused_without_change(escaping, "unknown folders under var/", var)

    def escape_member(parts):
        return seal_with_the_key(
            [("var/files/../../x.bin" if n.startswith("var/files/") else n, d) for n, d in parts]
        )

    sneaky = rebuilt(path, tmp_path / "sneaky.tbk", escape_member)
    assert_refused_without_change(sneaky, "unexpected member", var)
    assert not (tmp_path / "x.bin").exists()

    no_manifest = rebuilt(path, tmp_path / "no-manifest.tbk", lambda parts: parts[1:])
    assert_refused_without_change(no_manifest, "not a readable tongban backup", var)

    with_link = tmp_path / "link.tbk"
    with tarfile.open(with_link, "w") as archive:
        for m, d in members(path)[:2]:
            archive.addfile(m, io.BytesIO(d))
        link = tarfile.TarInfo("var/files/00/evil.bin")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    assert_refused_without_change(with_link, "not a regular file", var)
    assert contents.files  # (the fixture did have files to misplace)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("list", "not a tongban backup of a supported format"),
        ("string", "not a tongban backup of a supported format"),
        ("missing_field", "damaged manifest"),
        ("unknown_field", "damaged manifest"),
        ("database_number", "damaged manifest"),
        ("database_name", "bad database payload name"),
        ("migrations_list", "damaged manifest"),
        ("trees_text", "damaged manifest"),
    ],
)
def test_malformed_manifest_is_refused_not_crashed(db, sealed, tmp_path, var, damage, message):
    path, contents, _files = sealed
    good = json.loads(contents.manifest.to_json())
    bad = {
        "list": [good],
        "string": "tongban-backup",
        "missing_field": {k: v for k, v in good.items() if k != "key_id"},
        "unknown_field": {**good, "extra": 1},
        "database_number": {**good, "database": 5},
        "database_name": {**good, "database": "../database.pgdump"},
        "migrations_list": {**good, "migrations": list(good["migrations"])},
        "trees_text": {**good, "var_trees": "files"},
    }[damage]

    def edit(parts):
        return seal_with_the_key(
            [(n, json.dumps(bad).encode()) if n == "manifest.json" else (n, d) for n, d in parts]
        )

    broken = rebuilt(path, tmp_path / "broken.tbk", edit)
    with pytest.raises(BackupError, match=message):
        read_manifest(broken)
    assert_refused_without_change(broken, message, var)


def test_a_sealed_payload_that_is_no_database_is_refused_and_the_files_go_back(made, tmp_path, var):
    """Even with a valid seal (an insider with the key), garbage never replaces the database, and
    the var/ trees already moved into place are put back."""
    path, contents, _state, _files = made
    garbage = random.Random(7).randbytes(8192)
    if contents.manifest.engine == "sqlite":
        garbage = gzip.compress(garbage)  # valid gzip, but not an SQLite database inside

    def edit(parts):
        return seal_with_the_key(
            [
                (n, garbage if n == contents.manifest.database else d)
                for n, d in parts
                if n != "var/files/00/" + "0" * 64 + ".bin"
            ]
        )

    forged = rebuilt(path, tmp_path / "forged.tbk", edit)
    change_data()
    assert_refused_without_change(forged, r".", var)
    assert Region.objects.filter(code=NEW_REGION).exists()


def test_a_newer_schema_is_refused(db, sealed, tmp_path, var):
    path, _contents, _files = sealed

    def edit(parts):
        def newer(d):
            m = json.loads(d)
            m["migrations"]["core"] = "9999_from_the_future"
            return json.dumps(m).encode()

        return seal_with_the_key([(n, newer(d)) if n == "manifest.json" else (n, d) for n, d in parts])

    forged = rebuilt(path, tmp_path / "newer.tbk", edit)
    assert_refused_without_change(
        forged, re.escape("made by a newer tongban (unknown migrations: core.9999"), var
    )


def test_big_files_are_streamed_not_held_in_memory(seeded, tmp_path, var):
    import tracemalloc

    big = var / "insight" / "logs" / "big.parquet"
    big.parent.mkdir(parents=True)
    with open(big, "wb") as fh:
        for i in range(48):
            fh.write(random.Random(i).randbytes(1 << 20))
    tracemalloc.start()
    try:
        create_backup(tmp_path / "big.tbk")
        _size, made_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with verified(tmp_path / "big.tbk") as staged:
            assert staged.contents.files_bytes == 48 << 20
        _size, verify_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert made_peak < 12 << 20 and verify_peak < 12 << 20, (made_peak, verify_peak)
