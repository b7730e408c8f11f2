"""Backups and restores on the configured engine (SQLite online backup API or pg_dump/pg_restore).

Both tools see committed data only, so every test here is transactional and reloads the demo city.
"""

import datetime as dt
import gzip
import io
import json
import random
import re
import tarfile
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from gmssl import sm3

from tongban.accounts import services as accounts
from tongban.accounts.models import Region, Staff, Window
from tongban.core import audit
from tongban.core.authz import SYSTEM
from tongban.core.backup import BackupError, create_backup, read_manifest, restore_backup
from tongban.core.models import AuditEntry, AuditHead

pytestmark = pytest.mark.usefixtures("seeded")

NEW_REGION = "511602099"


def database_state() -> dict:
    """Every row of every model, so "exactly as at backup time" means exactly."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values_list())
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def change_data() -> None:
    """Committed changes in several tables: a new region (and its journal entry), a deleted window."""
    accounts.create_region(SYSTEM, code=NEW_REGION, name="测试街道")
    Window.objects.get(centre__code="gaq-zwzx", number="01").delete()  # the clerk's window: SET_NULL on Staff


def payload_member(path: Path, name: str) -> tarfile.TarInfo:
    with tarfile.open(path) as archive:
        return archive.getmember(name)


def payload_bytes(path: Path, name: str) -> bytes:
    with tarfile.open(path) as archive:
        return archive.extractfile(name).read()


def build_archive(path: Path, manifest: dict, payload_name: str, payload: bytes) -> None:
    with tarfile.open(path, "w") as archive:
        for name, data in (("manifest.json", json.dumps(manifest).encode()), (payload_name, payload)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.fixture
def backup(tmp_path):
    """A backup of the demo city, and the exact database state it holds."""
    path = tmp_path / "city.tbk"
    state = database_state()
    manifest = create_backup(path)
    return path, manifest, state


def assert_refused_without_change(path: Path, message: str) -> None:
    before = database_state()
    with pytest.raises(BackupError, match=message):
        restore_backup(path)
    assert database_state() == before
    assert audit.verify().ok


# --- creating -----------------------------------------------------------------------------------


def test_manifest_describes_engine_schema_and_payload(tmp_path):
    calls = []
    path = tmp_path / "nested" / "dir" / "city.tbk"
    manifest = create_backup(path, progress=lambda done, total: calls.append((done, total)))

    assert path.is_file()
    assert not path.with_name(path.name + ".partial").exists()
    assert manifest.engine == connection.vendor
    assert manifest.format == "tongban-backup" and manifest.format_version == 1
    assert re.fullmatch(r"[0-9a-f]{64}", manifest.payload_sm3)
    created = dt.datetime.fromisoformat(manifest.created_at)
    assert abs((dt.datetime.now(dt.UTC) - created).total_seconds()) < 120

    leaves = dict(MigrationLoader(connection).graph.leaf_nodes())
    assert {"core", "accounts"} <= set(manifest.migrations)
    assert manifest.migrations["core"] == leaves["core"]
    assert manifest.migrations["accounts"] == leaves["accounts"]

    # The archive holds what the manifest says; the digest is checked with an independent SM3.
    assert read_manifest(path) == manifest
    data = payload_bytes(path, manifest.payload)
    assert len(data) == manifest.payload_bytes > 0
    assert sm3.sm3_hash(list(data)) == manifest.payload_sm3
    assert calls and calls[-1][0] == calls[-1][1]


# --- restoring ----------------------------------------------------------------------------------


def test_restore_brings_back_the_state_at_backup_time(backup):
    path, manifest, at_backup = backup
    clerk_window = Staff.objects.get(user__username="clerk").window_id
    assert clerk_window is not None
    change_data()
    assert Region.objects.filter(code=NEW_REGION).exists()
    assert Staff.objects.get(user__username="clerk").window_id is None
    assert database_state() != at_backup

    calls = []
    restored = restore_backup(path, progress=lambda done, total: calls.append((done, total)))

    assert restored == manifest
    assert calls and calls[-1][0] == calls[-1][1]
    assert database_state() == at_backup
    assert not Region.objects.filter(code=NEW_REGION).exists()
    assert Staff.objects.get(user__username="clerk").window_id == clerk_window
    result = audit.verify()
    assert result.ok, result.message
    heads = sum(AuditHead.objects.values_list("seq", flat=True))
    assert heads == AuditEntry.objects.count() == result.checked


def test_database_stays_usable_after_restore(backup):
    path, _manifest, _at_backup = backup
    change_data()
    restore_backup(path)

    # Reads and audited writes through the same Django connection; the journal continues the chain.
    assert Window.objects.filter(centre__code="gaq-zwzx", number="01").exists()
    entries = AuditEntry.objects.count()
    accounts.create_region(SYSTEM, code="511602098", name="恢复后街道")
    assert Region.objects.filter(code="511602098").exists()
    assert AuditEntry.objects.count() == entries + 1
    result = audit.verify()
    assert result.ok, result.message
    assert result.checked == entries + 1


def test_restore_twice_is_the_same(backup):
    path, _manifest, at_backup = backup
    restore_backup(path)
    restore_backup(path)
    assert database_state() == at_backup


# --- refusing damaged or foreign files ----------------------------------------------------------


@pytest.mark.parametrize("where", [0.0, 0.5, 0.999])
def test_flipped_payload_byte_is_refused_and_changes_nothing(backup, tmp_path, where):
    path, manifest, _at_backup = backup
    member = payload_member(path, manifest.payload)
    data = bytearray(path.read_bytes())
    data[member.offset_data + int(member.size * where)] ^= 0x01
    corrupt = tmp_path / "corrupt.tbk"
    corrupt.write_bytes(bytes(data))
    change_data()  # the live database now differs from the backup: a restore would be visible

    assert_refused_without_change(corrupt, r"^checksum mismatch")
    assert Region.objects.filter(code=NEW_REGION).exists()


@pytest.mark.parametrize("cut", ["empty", "in_header", "in_manifest", "in_payload", "last_payload_byte"])
def test_truncated_file_is_refused(backup, tmp_path, cut):
    path, manifest, _at_backup = backup
    member = payload_member(path, manifest.payload)
    length = {
        "empty": 0,
        "in_header": 300,
        "in_manifest": 600,
        "in_payload": member.offset_data + member.size // 2,
        "last_payload_byte": member.offset_data + member.size - 1,
    }[cut]
    truncated = tmp_path / "truncated.tbk"
    truncated.write_bytes(path.read_bytes()[:length])
    change_data()

    with pytest.raises(BackupError):
        read_manifest(truncated)  # `tongban restore` refuses before asking for confirmation
    assert_refused_without_change(truncated, "^(not a readable tongban backup|damaged archive)")
    assert Region.objects.filter(code=NEW_REGION).exists()


def test_random_file_is_refused(tmp_path):
    junk = tmp_path / "junk.tbk"
    junk.write_bytes(random.Random(20261122).randbytes(64 * 1024))
    with pytest.raises(BackupError, match="not a readable tongban backup"):
        read_manifest(junk)
    assert_refused_without_change(junk, "not a readable tongban backup")


def test_backup_of_another_engine_is_refused(backup, tmp_path):
    path, manifest, _at_backup = backup
    other = "postgresql" if manifest.engine == "sqlite" else "sqlite"
    foreign = tmp_path / "foreign.tbk"
    # The payload and its checksum are intact: only the engine is wrong.
    build_archive(
        foreign,
        {**manifest.__dict__, "engine": other},
        manifest.payload,
        payload_bytes(path, manifest.payload),
    )
    change_data()
    assert_refused_without_change(foreign, f"this backup is of a {other} database")
    assert Region.objects.filter(code=NEW_REGION).exists()


def test_archive_that_is_not_a_tongban_backup_is_refused(backup, tmp_path):
    path, manifest, _at_backup = backup
    data = payload_bytes(path, manifest.payload)
    wrong_format = tmp_path / "format.tbk"
    build_archive(wrong_format, {**manifest.__dict__, "format": "something-else"}, manifest.payload, data)
    assert_refused_without_change(wrong_format, "not a tongban backup of a supported format")

    escaping = tmp_path / "escaping.tbk"
    build_archive(
        escaping, {**manifest.__dict__, "payload": "../" + manifest.payload}, manifest.payload, data
    )
    assert_refused_without_change(escaping, "bad payload name")

    no_manifest = tmp_path / "no-manifest.tbk"
    with tarfile.open(no_manifest, "w") as archive:
        info = tarfile.TarInfo(manifest.payload)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    assert_refused_without_change(no_manifest, "not a readable tongban backup")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("list", "not a tongban backup of a supported format"),
        ("string", "not a tongban backup of a supported format"),
        ("missing_field", "damaged manifest"),
        ("unknown_field", "damaged manifest"),
        ("payload_number", "damaged manifest"),
        ("bytes_text", "damaged manifest"),
        ("migrations_list", "damaged manifest"),
    ],
)
def test_malformed_manifest_is_refused_not_crashed(backup, tmp_path, damage, message):
    path, manifest, _at_backup = backup
    good = dict(manifest.__dict__)
    bad = {
        "list": [good],
        "string": "tongban-backup",
        "missing_field": {k: v for k, v in good.items() if k != "payload_sm3"},
        "unknown_field": {**good, "extra": 1},
        "payload_number": {**good, "payload": 5},
        "bytes_text": {**good, "payload_bytes": str(manifest.payload_bytes)},
        "migrations_list": {**good, "migrations": list(manifest.migrations)},
    }[damage]
    broken = tmp_path / "broken.tbk"
    build_archive(broken, bad, manifest.payload, payload_bytes(path, manifest.payload))
    with pytest.raises(BackupError, match=message):
        read_manifest(broken)
    assert_refused_without_change(broken, message)


def test_payload_that_matches_its_checksum_but_is_no_database_is_refused(backup, tmp_path):
    """A forged file with a consistent digest still cannot replace the database with garbage."""
    _path, manifest, _at_backup = backup
    garbage = random.Random(7).randbytes(8192)
    if manifest.engine == "sqlite":
        garbage = gzip.compress(garbage)  # valid gzip, but not an SQLite database inside
    forged = tmp_path / "forged.tbk"
    build_archive(
        forged,
        {**manifest.__dict__, "payload_sm3": sm3.sm3_hash(list(garbage)), "payload_bytes": len(garbage)},
        manifest.payload,
        garbage,
    )
    change_data()
    assert_refused_without_change(forged, r".")
    assert Region.objects.filter(code=NEW_REGION).exists()
