"""Backups of the database and the files beside it that prove they are unaltered, and restores that
check everything before they change anything.

This module owns the engine differences: SQLite is copied with SQLite's online backup API (a
consistent snapshot while the site runs); PostgreSQL with pg_dump, whose single snapshot is
consistent too, and restored with pg_restore in one transaction.

A backup is an uncompressed tar archive, written and read in one streaming pass:

    manifest.json          format, engine, schema state, tongban version, MAC key id, the var/ trees
    database.sqlite3.gz    (or database.pgdump)
    var/files/…            uploaded materials, as core.files stores them (SM4-encrypted)
    var/insight/logs/…     imported event logs
    var/insight/reports/…  monthly reports
    seal.json              how many members and bytes came between, their MAC, and the seal's MAC

Both MACs are HMAC-SM3 under a key derived from the master key (MAC_PURPOSE), which is not in the
backup. The content MAC runs over every member between manifest and seal — name, size and bytes,
in archive order — and the seal MAC over the manifest's exact bytes and the seal. So whoever edits
the database in a backup (and recomputes any digest they like), drops, adds or reorders a file, or
rewrites the manifest, cannot produce a seal that verifies without the master key.

A restore stages every member under var/ while computing the MACs, checks the seal, the engine and
the schema, and only then moves the staged trees into place and loads the database; if loading the
database fails, the trees go back. The site should be stopped meanwhile (docs/deploy.md).
"""

import contextlib
import datetime as dt
import gzip
import io
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder

import tongban

from . import anchors, crypto

log = logging.getLogger(__name__)

FORMAT = "tongban-backup"
FORMAT_VERSION = 2
CHUNK = 1 << 20
MAC_PURPOSE = "backup-mac-v1"
CONTENT_PREFIX = b"tongban-backup-v2 content\x00"
SEAL_PREFIX = b"tongban-backup-v2 seal\x00"
MANIFEST_NAME = "manifest.json"
SEAL_NAME = "seal.json"
SMALL_MEMBER = 1 << 20  # manifest and seal are a few KB
DATABASE_NAMES = {"sqlite": "database.sqlite3.gz", "postgresql": "database.pgdump"}
# What under var/ is state rather than cache: the facts snapshot, the job queue, static files and the
# anchor log (which must outlive any restore, or a rollback could not be seen) stay out.
VAR_TREES = ("files", "insight/logs", "insight/reports")
_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,200}")
MAX_DEPTH = 8

# progress(stage, done, total): stage names what is under way; total 0 when unknown.
Progress = Callable[[str, int, int], None]


class BackupError(Exception):
    """The backup could not be made or the file cannot be restored; nothing was changed."""


@dataclass
class Manifest:
    engine: str
    created_at: str
    database: str
    migrations: dict[str, str]
    tongban_version: str
    key_id: str
    var_trees: list[str]
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True).encode()


@dataclass
class Contents:
    """What a backup holds, as written or as verified."""

    manifest: Manifest
    database_bytes: int
    files: int  # under var/
    files_bytes: int
    seal: str  # the seal MAC: names this backup in the anchor log's restore record
    skipped: list[str] = field(default_factory=list)  # var/ entries left out (links, odd names)


@dataclass
class Restored:
    contents: Contents
    anchor_log: str = ""  # where the signed restore record went
    anchor_error: str = ""  # or why it could not be written


def _seal_mac(key: bytes, manifest_bytes: bytes, seal: dict) -> str:
    unsigned = {k: v for k, v in seal.items() if k != "mac"}
    body = json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()
    return crypto.hmac_sm3(key, SEAL_PREFIX + manifest_bytes + b"\x00" + body).hex()


def _member_header(name: str, size: int) -> bytes:
    return name.encode() + b"\x00" + size.to_bytes(8, "big")


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


def _var() -> Path:
    return Path(settings.VAR_DIR)


def _safe_relative(parts: list[str]) -> bool:
    return 0 < len(parts) <= MAX_DEPTH and all(_PART.fullmatch(p) for p in parts)


# --- backup -------------------------------------------------------------------------------------


class _MacReader:
    """A file object that feeds the MAC (and the progress bar) with what tarfile copies out of it."""

    def __init__(self, fh, mac, counted: Callable[[int], None]):
        self.fh, self.mac, self.counted = fh, mac, counted

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.mac.update(data)
        self.counted(len(data))
        return data


def _var_files(skipped: list[str]) -> Iterator[tuple[str, Path]]:
    """(archive name, path) of every regular file in the backed-up trees, in a stable order.

    Names starting with a dot are files being written (core.files writes beside the target and
    renames); links and names a restore would refuse are left out and reported.
    """
    var = _var()
    for tree in VAR_TREES:
        root = var / tree
        if not root.is_dir():
            continue
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            base = Path(folder)
            for name in sorted(names):
                if name.startswith("."):
                    continue
                path = base / name
                relative = path.relative_to(root).parts
                shown = f"var/{tree}/{'/'.join(relative)}"
                if path.is_symlink() or not path.is_file() or not _safe_relative(list(relative)):
                    skipped.append(shown)
                    continue
                yield shown, path
            for d in list(dirs):
                if (base / d).is_symlink():
                    skipped.append(f"var/{tree}/{(base / d).relative_to(root).as_posix()}")
                    dirs.remove(d)


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def create_backup(target: Path, progress: Progress | None = None) -> Contents:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    engine = _engine()
    if engine not in DATABASE_NAMES:
        raise BackupError(f"backups of {engine} databases are not supported")
    key = crypto.derived_key(MAC_PURPOSE)
    with tempfile.TemporaryDirectory(prefix="tongban-backup-") as tmp:
        payload = Path(tmp) / DATABASE_NAMES[engine]
        _snapshot_database(engine, payload, Path(tmp), progress)
        manifest = Manifest(
            engine=engine,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            database=payload.name,
            migrations=_schema_state(),
            tongban_version=tongban.__version__,
            key_id=crypto.key_id(key),
            var_trees=list(VAR_TREES),
        )
        # Files are walked after the snapshot: every file the snapshot refers to is there by now.
        # One walk sizes the work for the progress bar, the next writes; neither holds the list.
        total = payload.stat().st_size + sum(_size_of(path) for _name, path in _var_files([]))
        skipped: list[str] = []
        partial = target.with_name(target.name + ".partial")
        try:
            contents = _write_archive(partial, manifest, key, payload, _var_files(skipped), total, progress)
            os.replace(partial, target)  # never leave a half-written file under the real name
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise
    contents.skipped = skipped
    return contents


def _write_archive(partial, manifest, key, payload, listed, total, progress) -> Contents:
    mac = crypto.hmac_sm3_stream(key)
    mac.update(CONTENT_PREFIX)
    done = 0

    def counted(n: int) -> None:
        nonlocal done
        done += n
        if progress and (n == 0 or done == total or done % (8 * CHUNK) < n):
            progress("archive", done, total)

    def add(archive, name: str, fh) -> int:
        size = os.fstat(fh.fileno()).st_size
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, int(dt.datetime.now().timestamp())
        mac.update(_member_header(name, size))
        archive.addfile(info, _MacReader(fh, mac, counted))
        return size

    def add_bytes(archive, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o600, int(dt.datetime.now().timestamp())
        archive.addfile(info, io.BytesIO(data))

    manifest_bytes = manifest.to_json()
    files = files_bytes = 0
    # The backup holds the journal and personal data (encrypted): readable by the service user only.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
            add_bytes(archive, MANIFEST_NAME, manifest_bytes)
            with open(payload, "rb") as fh:
                database_bytes = add(archive, manifest.database, fh)
            for name, path in listed:
                try:
                    fh = open(path, "rb")  # noqa: SIM115  (closed below; a vanished file is skipped)
                except FileNotFoundError:
                    continue
                with fh:
                    files_bytes += add(archive, name, fh)
                files += 1
            seal = {
                "members": 1 + files,
                "bytes": database_bytes + files_bytes,
                "content_mac": mac.finalize().hex(),
            }
            seal["mac"] = _seal_mac(key, manifest_bytes, seal)
            add_bytes(archive, SEAL_NAME, json.dumps(seal, indent=2, sort_keys=True).encode())
        out.flush()
        os.fsync(out.fileno())
    if progress:
        progress("archive", total, total)
    return Contents(manifest, database_bytes, files, files_bytes, seal["mac"])


def _snapshot_database(engine: str, payload: Path, tmp: Path, progress: Progress | None) -> None:
    if engine == "sqlite":
        snapshot = tmp / "snapshot.sqlite3"
        _sqlite_snapshot(snapshot, progress)
        with open(snapshot, "rb") as src, gzip.open(payload, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        snapshot.unlink()
        return
    if progress:
        progress("database", 0, 0)
    args, env = _pg_env()
    result = subprocess.run(  # noqa: S603  (fixed argument list, no shell)
        [_need("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(payload), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    if progress:
        progress("database", 1, 1)


def _sqlite_snapshot(dest: Path, progress: Progress | None) -> None:
    connection.ensure_connection()
    source: sqlite3.Connection = connection.connection
    with sqlite3.connect(dest) as target:

        def report(status, remaining, total):
            if progress:
                progress("database", total - remaining, total)

        source.backup(target, pages=256, progress=report)
    # The snapshot becomes a self-contained file rather than a WAL-mode database with side files.
    with sqlite3.connect(dest) as db:
        db.execute("PRAGMA journal_mode=DELETE")


# --- reading and verifying -----------------------------------------------------------------------


def _parse_manifest(data: bytes) -> Manifest:
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise BackupError(f"damaged manifest: {exc}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise BackupError("not a tongban backup of a supported format")
    if raw.get("format_version") == 1:
        raise BackupError(
            "this backup was made by an older tongban (format 1) whose checksum has no key: it cannot be "
            "proven unaltered and is refused. Make a new backup with this version."
        )
    if raw.get("format_version") != FORMAT_VERSION:
        raise BackupError("not a tongban backup of a supported format")
    try:
        manifest = Manifest(**raw)
    except TypeError as exc:
        raise BackupError(f"damaged manifest: {exc}") from None
    texts = (
        manifest.engine,
        manifest.created_at,
        manifest.database,
        manifest.tongban_version,
        manifest.key_id,
    )
    if not (
        all(isinstance(t, str) for t in texts)
        and isinstance(manifest.migrations, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in manifest.migrations.items())
        and isinstance(manifest.var_trees, list)
        and all(isinstance(t, str) for t in manifest.var_trees)
    ):
        raise BackupError("damaged manifest: a field has the wrong type")
    if manifest.database not in DATABASE_NAMES.values():
        raise BackupError("damaged manifest: bad database payload name")
    if not set(manifest.var_trees) <= set(VAR_TREES) or len(set(manifest.var_trees)) != len(
        manifest.var_trees
    ):
        raise BackupError("damaged manifest: unknown folders under var/")
    return manifest


def _read_member(archive: tarfile.TarFile, member: tarfile.TarInfo | None, name: str) -> bytes:
    if member is None or member.name != name or not member.isfile() or member.size > SMALL_MEMBER:
        raise BackupError(f"damaged archive: {name} is missing or not where it belongs")
    return archive.extractfile(member).read()


def read_manifest(path: Path) -> Manifest:
    """The manifest, read from the head of the file. Unauthenticated: `verified` checks the seal."""
    try:
        with tarfile.open(path, "r|") as archive:
            data = _read_member(archive, next(iter(archive), None), MANIFEST_NAME)
    except (tarfile.TarError, OSError, EOFError, BackupError) as exc:
        raise BackupError(f"not a readable tongban backup: {exc}") from None
    return _parse_manifest(data)


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


@dataclass
class Staged:
    """A backup checked in full and unpacked beside var/, ready to be put in place."""

    contents: Contents
    database: Path
    var_root: Path  # the staged trees, var_root / tree
    workdir: Path

    @property
    def manifest(self) -> Manifest:
        return self.contents.manifest


class _CountingReader:
    def __init__(self, fh, total: int, progress: Progress | None):
        self.fh, self.total, self.progress, self.done = fh, total, progress, 0

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.done += len(data)
        if self.progress and (self.done % (8 * CHUNK) < len(data) or not data):
            self.progress("verify", min(self.done, self.total), self.total)
        return data


@contextlib.contextmanager
def verified(path: Path, progress: Progress | None = None) -> Iterator[Staged]:
    """Check a backup in full and unpack it under var/ (so trees move in with a rename); removed on exit.

    Raises BackupError, having changed nothing, for a file that is damaged, altered, foreign, of the
    other engine, made under a master key this installation does not hold, or by a newer tongban.
    """
    var = _var()
    var.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=var) as tmp:
        yield _verify_into(Path(path), Path(tmp), progress)


def _verify_into(path: Path, work: Path, progress: Progress | None) -> Staged:
    try:
        total = path.stat().st_size
        raw = open(path, "rb")  # noqa: SIM115  (closed below)
    except OSError as exc:
        raise BackupError(f"not a readable tongban backup: {exc}") from None
    with raw:
        try:
            reader = _CountingReader(raw, total, progress)
            archive = tarfile.open(fileobj=reader, mode="r|")  # noqa: SIM115  (closed below)
            members = iter(archive)
            manifest_bytes = _read_member(archive, next(members, None), MANIFEST_NAME)
        except (tarfile.TarError, OSError, EOFError, BackupError) as exc:
            raise BackupError(f"not a readable tongban backup: {exc}") from None
        with archive:
            manifest, key, staged, seal_bytes = _stage(archive, members, manifest_bytes, work)
    contents = _check_seal(manifest, manifest_bytes, seal_bytes, key, staged)
    if progress:
        progress("verify", total, total)
    return Staged(contents, work / "database" / manifest.database, work / "var", work)


def _stage(archive, members, manifest_bytes: bytes, work: Path) -> tuple[Manifest, bytes, dict, bytes]:
    manifest = _parse_manifest(manifest_bytes)
    # Quick refusals before reading the payload; acceptance waits for the seal.
    engine = _engine()
    if manifest.engine != engine:
        raise BackupError(f"this backup is of a {manifest.engine} database; the configured one is {engine}")
    key = crypto.derived_keys(MAC_PURPOSE).get(manifest.key_id)
    if key is None:
        raise BackupError(
            f"this backup was sealed with key {manifest.key_id}, derived from a master key this installation "
            "does not hold: set that key as TONGBAN_MASTER_KEY or list it in TONGBAN_MASTER_KEYS_OLD"
        )
    _check_schema(manifest)
    try:
        staged, seal_bytes = _unpack(archive, members, manifest, key, work)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"damaged archive: {exc}") from None
    return manifest, key, staged, seal_bytes


def _unpack(archive, members, manifest: Manifest, key: bytes, work: Path) -> tuple[dict, bytes]:
    mac = crypto.hmac_sm3_stream(key)
    mac.update(CONTENT_PREFIX)
    (work / "database").mkdir(mode=0o700)
    for tree in manifest.var_trees:
        (work / "var" / tree).mkdir(parents=True, exist_ok=True, mode=0o700)
    seen: set[str] = set()
    counted = {"members": 0, "bytes": 0, "files": 0, "files_bytes": 0, "database_bytes": 0}
    for member in members:
        if member.name == SEAL_NAME:
            seal_bytes = _read_member(archive, member, SEAL_NAME)
            if next(members, None) is not None:
                raise BackupError("damaged archive: members follow the seal")
            counted["content_mac"] = mac.finalize().hex()
            return counted, seal_bytes
        target = _staging_path(member, manifest, counted["members"] == 0, seen, work)
        mac.update(_member_header(member.name, member.size))
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with archive.extractfile(member) as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(CHUNK):
                mac.update(chunk)
                dst.write(chunk)
        counted["members"] += 1
        counted["bytes"] += member.size
        if counted["members"] == 1:
            counted["database_bytes"] = member.size
        else:
            counted["files"] += 1
            counted["files_bytes"] += member.size
    raise BackupError("damaged archive: the seal at the end is missing (the file was cut short?)")


def _staging_path(member, manifest: Manifest, first: bool, seen: set[str], work: Path) -> Path:
    name = member.name
    if not member.isfile():
        raise BackupError(f"damaged archive: {name} is not a regular file")
    if name in seen:
        raise BackupError(f"damaged archive: {name} appears twice")
    seen.add(name)
    if first:
        if name != manifest.database:
            raise BackupError("damaged archive: the database is not where the manifest says")
        return work / "database" / name
    for tree in sorted(manifest.var_trees, key=len, reverse=True):
        prefix = f"var/{tree}/"
        if name.startswith(prefix):
            parts = name[len(prefix) :].split("/")
            if not _safe_relative(parts):
                break
            target = work / "var" / tree / Path(*parts)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            return target
    raise BackupError(f"damaged archive: unexpected member {name[:200]}")


def _check_seal(
    manifest: Manifest, manifest_bytes: bytes, seal_bytes: bytes, key: bytes, counted
) -> Contents:
    try:
        seal = json.loads(seal_bytes)
    except ValueError:
        seal = None
    fields = ("members", "bytes", "content_mac", "mac")
    if (
        not isinstance(seal, dict)
        or set(seal) != set(fields)
        or not all(isinstance(seal[f], int if f in ("members", "bytes") else str) for f in fields)
    ):
        raise BackupError("checksum mismatch: the seal is damaged; nothing was restored")
    if not crypto.constant_time_equal(_seal_mac(key, manifest_bytes, seal), seal["mac"]):
        raise BackupError(
            "checksum mismatch: the manifest or seal was altered (or sealed with another key); "
            "nothing was restored"
        )
    if (
        seal["members"] != counted["members"]
        or seal["bytes"] != counted["bytes"]
        or not crypto.constant_time_equal(counted["content_mac"], seal["content_mac"])
    ):
        raise BackupError(
            "checksum mismatch: the backup's content was altered or damaged; nothing was restored"
        )
    return Contents(
        manifest, counted["database_bytes"], counted["files"], counted["files_bytes"], seal["mac"]
    )


# --- restoring ----------------------------------------------------------------------------------


def restore_backup(path: Path, progress: Progress | None = None) -> Restored:
    with verified(path, progress) as staged:
        return apply(staged, progress)


def apply(staged: Staged, progress: Progress | None = None) -> Restored:
    """Put a verified backup in place: var/ trees first (renames), then the database; if the database
    cannot be loaded, the trees go back and the error is raised."""
    moved = _swap_trees(staged)
    try:
        _restore_database(staged.database, staged.workdir, progress)
    except BaseException:
        _swap_back(moved)
        raise
    with contextlib.suppress(FileNotFoundError):
        (_var() / "insight" / "facts.parquet").unlink()  # a cache of the database that was replaced
    restored = Restored(staged.contents)
    heads, entries = anchors.current_heads()
    try:
        _record, where = anchors.write(
            "restore",
            heads=heads,
            entries=entries,
            trigger="restore",
            extra={"backup": {"created_at": staged.manifest.created_at, "seal": staged.contents.seal}},
        )
        restored.anchor_log = str(where)
    except OSError as exc:
        restored.anchor_error = (
            f"the signed restore record could not be written to {anchors.anchor_dir()}: {exc}"
        )
        log.error("AUDIT ANCHOR NOT WRITTEN: %s", restored.anchor_error)
    return restored


def _swap_trees(staged: Staged) -> list[tuple[Path, Path, Path | None]]:
    var, aside = _var(), staged.workdir / "replaced"
    moved: list[tuple[Path, Path, Path | None]] = []
    try:
        for tree in staged.manifest.var_trees:
            live, new, old = var / tree, staged.var_root / tree, None
            if live.exists() or live.is_symlink():
                old = aside / tree
                old.parent.mkdir(parents=True, exist_ok=True)
                os.replace(live, old)
            live.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(new, live)
            except OSError:
                if old is not None:
                    os.replace(old, live)
                raise
            moved.append((live, new, old))
    except OSError as exc:
        _swap_back(moved)
        raise BackupError(
            f"could not put the files under {var} in place: {exc}; nothing was restored"
        ) from None
    return moved


def _swap_back(moved: list[tuple[Path, Path, Path | None]]) -> None:
    for live, new, old in reversed(moved):
        os.replace(live, new)
        if old is not None:
            os.replace(old, live)


def _restore_database(payload: Path, workdir: Path, progress: Progress | None) -> None:
    if _engine() == "sqlite":
        _restore_sqlite(payload, workdir, progress)
    else:
        _restore_postgresql(payload, progress)


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
                progress("database", total - remaining, total)

        # The backup API replaces the live database's pages in one step, under its write lock.
        source.backup(target, pages=256, progress=report)


def _restore_postgresql(payload: Path, progress: Progress | None) -> None:
    if progress:
        progress("database", 0, 0)
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
        progress("database", 1, 1)
