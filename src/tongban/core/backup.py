"""Consistent database backups with an SM3 checksum, and restores that refuse damaged files.

This module owns the engine differences: SQLite is copied with SQLite's online backup API (a
consistent snapshot while the site runs); PostgreSQL with pg_dump, whose single snapshot is
consistent too, and restored with pg_restore in one transaction.

A backup file is a tar archive of `manifest.json` and the payload. The manifest names the engine,
the schema state and the payload's SM3 digest; restore checks all of it before touching the
database, so a truncated or altered file changes nothing.
"""

import datetime as dt
import gzip
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder

import tongban

FORMAT = "tongban-backup"
FORMAT_VERSION = 1
CHUNK = 1 << 20

Progress = Callable[[int, int], None]


class BackupError(Exception):
    """The backup could not be made or the file cannot be restored; nothing was changed."""


@dataclass
class Manifest:
    engine: str
    created_at: str
    payload: str
    payload_sm3: str
    payload_bytes: int
    migrations: dict[str, str]
    tongban_version: str
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=2, sort_keys=True).encode()


def _sm3_file(path: Path) -> tuple[str, int]:
    digest = hashes.Hash(hashes.SM3())
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.finalize().hex(), size


def _engine() -> str:
    return connection.vendor  # "sqlite" or "postgresql"


def _schema_state() -> dict[str, str]:
    state: dict[str, str] = {}
    for app, name in (
        MigrationRecorder(connection).migration_qs.order_by("app", "name").values_list("app", "name")
    ):
        state[app] = max(state.get(app, ""), name)
    return state


def _pg_env() -> tuple[list[str], dict[str, str]]:
    s = connection.settings_dict
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    args = ["--dbname", s["NAME"]]
    if s.get("HOST"):
        args += ["--host", str(s["HOST"])]
    if s.get("PORT"):
        args += ["--port", str(s["PORT"])]
    if s.get("USER"):
        args += ["--username", str(s["USER"])]
    return args, env


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise BackupError(f"{tool} is not installed (Debian package postgresql-client)")
    return path


# --- backup -------------------------------------------------------------------------------------


def create_backup(target: Path, progress: Progress | None = None) -> Manifest:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    engine = _engine()
    with tempfile.TemporaryDirectory(prefix="tongban-backup-") as tmp:
        tmp = Path(tmp)
        if engine == "sqlite":
            payload_name = "database.sqlite3.gz"
            payload = tmp / payload_name
            _sqlite_snapshot(tmp / "snapshot.sqlite3", progress)
            with (
                open(tmp / "snapshot.sqlite3", "rb") as src,
                gzip.open(payload, "wb", compresslevel=6) as dst,
            ):
                shutil.copyfileobj(src, dst, CHUNK)
        elif engine == "postgresql":
            payload_name = "database.pgdump"
            payload = tmp / payload_name
            args, env = _pg_env()
            result = subprocess.run(  # noqa: S603  (fixed argument list, no shell)
                [
                    _need("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--file",
                    str(payload),
                    *args,
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
            if progress:
                progress(1, 1)
        else:
            raise BackupError(f"backups of {engine} databases are not supported")
        digest, size = _sm3_file(payload)
        manifest = Manifest(
            engine=engine,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            payload=payload_name,
            payload_sm3=digest,
            payload_bytes=size,
            migrations=_schema_state(),
            tongban_version=tongban.__version__,
        )
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            data = manifest.to_json()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            info.mtime = int(dt.datetime.now().timestamp())
            archive.addfile(info, io.BytesIO(data))
            archive.add(payload, arcname=payload_name)
        os.replace(partial, target)  # never leave a half-written file under the real name
    return manifest


def _sqlite_snapshot(dest: Path, progress: Progress | None) -> None:
    connection.ensure_connection()
    source: sqlite3.Connection = connection.connection
    with sqlite3.connect(dest) as target:

        def report(status, remaining, total):
            if progress:
                progress(total - remaining, total)

        source.backup(target, pages=256, progress=report)
    # The snapshot becomes a self-contained file rather than a WAL-mode database with side files.
    with sqlite3.connect(dest) as db:
        db.execute("PRAGMA journal_mode=DELETE")


# --- restore ------------------------------------------------------------------------------------


def read_manifest(path: Path) -> Manifest:
    try:
        with tarfile.open(path, "r") as archive:
            member = archive.getmember("manifest.json")
            data = json.loads(archive.extractfile(member).read())
    except (tarfile.TarError, KeyError, OSError, ValueError, AttributeError) as exc:
        raise BackupError(f"not a readable tongban backup: {exc}") from None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or data.get("format_version") != FORMAT_VERSION
    ):
        raise BackupError("not a tongban backup of a supported format")
    try:
        manifest = Manifest(**data)
    except TypeError as exc:
        raise BackupError(f"damaged manifest: {exc}") from None
    texts = (
        manifest.engine,
        manifest.created_at,
        manifest.payload,
        manifest.payload_sm3,
        manifest.tongban_version,
    )
    if not (
        all(isinstance(t, str) for t in texts)
        and isinstance(manifest.payload_bytes, int)
        and isinstance(manifest.migrations, dict)
    ):
        raise BackupError("damaged manifest: a field has the wrong type")
    return manifest


def verify_backup(path: Path, workdir: Path) -> tuple[Manifest, Path]:
    """Extract the payload and check it against the manifest; raise BackupError on any mismatch."""
    manifest = read_manifest(path)
    if "/" in manifest.payload or manifest.payload.startswith("."):
        raise BackupError("damaged manifest: bad payload name")
    try:
        with tarfile.open(path, "r") as archive:
            member = archive.getmember(manifest.payload)
            if not member.isfile():
                raise BackupError("damaged archive: payload is not a file")
            out = workdir / manifest.payload
            with archive.extractfile(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
    except (tarfile.TarError, KeyError, OSError) as exc:
        raise BackupError(f"damaged archive: {exc}") from None
    digest, size = _sm3_file(out)
    if size != manifest.payload_bytes or digest != manifest.payload_sm3:
        raise BackupError("checksum mismatch: the backup file is corrupted; nothing was restored")
    return manifest, out


def _check_schema(manifest: Manifest) -> None:
    """Refuse a backup whose schema this code does not know (made by a newer tongban).

    An older backup is fine: `tongban migrate` brings it up to date after the restore.
    """
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = sorted(f"{app}.{name}" for app, name in manifest.migrations.items() if (app, name) not in known)
    if unknown:
        raise BackupError(
            "this backup was made by a newer tongban (unknown migrations: " + ", ".join(unknown[:5]) + "); "
            "upgrade tongban before restoring it"
        )


def restore_backup(path: Path, progress: Progress | None = None) -> Manifest:
    engine = _engine()
    with tempfile.TemporaryDirectory(prefix="tongban-restore-") as tmp:
        tmp = Path(tmp)
        manifest, payload = verify_backup(Path(path), tmp)
        if manifest.engine != engine:
            raise BackupError(
                f"this backup is of a {manifest.engine} database; the configured one is {engine}"
            )
        _check_schema(manifest)
        if engine == "sqlite":
            _restore_sqlite(payload, tmp, progress)
        else:
            _restore_postgresql(payload, progress)
    return manifest


def _restore_sqlite(payload: Path, tmp: Path, progress: Progress | None) -> None:
    snapshot = tmp / "restore.sqlite3"
    try:
        with gzip.open(payload, "rb") as src, open(snapshot, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        with sqlite3.connect(snapshot) as db:
            ok = db.execute("PRAGMA integrity_check").fetchone()[0]
    except (OSError, EOFError, sqlite3.DatabaseError) as exc:
        raise BackupError(f"the database in the backup is damaged: {exc}") from None
    if ok != "ok":
        raise BackupError(f"the database in the backup fails its integrity check: {ok}")
    connection.ensure_connection()
    target: sqlite3.Connection = connection.connection
    with sqlite3.connect(snapshot) as source:

        def report(status, remaining, total):
            if progress:
                progress(total - remaining, total)

        # The backup API replaces the live database's pages in one step, under its write lock.
        source.backup(target, pages=256, progress=report)


def _restore_postgresql(payload: Path, progress: Progress | None) -> None:
    args, env = _pg_env()
    for conn in connections.all():
        conn.close()
    result = subprocess.run(  # noqa: S603
        [
            _need("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            *args,
            str(payload),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed and rolled back: {result.stderr.strip()}")
    if progress:
        progress(1, 1)
