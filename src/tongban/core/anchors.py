"""Signed anchors of the audit journal, kept outside the database.

The journal's chains (core.audit) prove that no entry was changed, removed or moved *within* the
database. They cannot show that the whole database was put back to an older copy, or that
someone cut the newest entries off and moved the heads back to match: every chain still verifies.
So each verification appends an *anchor* — the time, the entries checked and every chain's head
(sequence number and MAC) — to a log outside the database, signed with the journal's SM2 key.
Checking the log later (`tongban audit verify --anchors`, and every night) asks of each anchor:
is the signature good, and does today's journal still extend what it saw — each chain at or past
the anchored entry, and that entry still carrying the anchored MAC?

The signing key is derived from the master key (core.sm2.derived), like every other key: someone
who holds the database but not the master key can neither forge an anchor nor slip in a key of
their own. Anchors made under a retired master key verify while that key is listed in
TONGBAN_MASTER_KEYS_OLD.

The log is one JSON object per line, in monthly files `anchors-YYYY-MM.jsonl` under
TONGBAN_ANCHOR_DIR, opened for appending only; each line also goes to the `tongban.anchors`
logger, which settings can point at syslog. A copy read back from syslog or WORM storage checks
the same way (text before the first `{` on a line, such as a syslog prefix, is ignored).

A `tongban restore` appends a signed *restore* record: anchors older than it that the restored
journal no longer extends are reported as superseded by that restore, not as broken.
"""

import datetime as dt
import gzip
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from . import audit, sm2
from .models import AuditEntry, AuditHead

log = logging.getLogger("tongban.anchors")

KEY_PURPOSE = "audit-anchor-v1"
RECORD_VERSION = 1
SIGNED_PREFIX = b"tongban-audit-anchor-v1\n"
KINDS = ("anchor", "restore")
FILE_GLOBS = ("anchors-*.jsonl", "anchors-*.jsonl.gz")
MAX_LINE = 1 << 20  # an anchor with a thousand chains is ~100 KB; anything far larger is not ours
LOOKUP_BATCH = 500
_CHAIN = re.compile(r"[0-9]{1,6}")
_MAC = re.compile(r"[0-9a-f]{64}")


def signing_key() -> sm2.DerivedKey:
    return sm2.derived(KEY_PURPOSE, settings.TONGBAN_MASTER_KEY)


def trusted_keys() -> dict[str, str]:
    """Public keys by key id: the current master key's, then those of retired master keys."""
    keys: dict[str, str] = {}
    for master in (settings.TONGBAN_MASTER_KEY, *settings.TONGBAN_MASTER_KEYS_OLD):
        key = sm2.derived(KEY_PURPOSE, master)
        keys.setdefault(key.key_id, key.public_key)
    return keys


def anchor_dir() -> Path:
    return Path(settings.TONGBAN_ANCHOR_DIR)


def _canonical(record: dict) -> bytes:
    unsigned = {k: v for k, v in record.items() if k != "sig"}
    return json.dumps(unsigned, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


# --- writing ------------------------------------------------------------------------------------


def write(
    kind: str,
    *,
    heads: dict[int, tuple[int, str]],
    entries: int,
    trigger: str,
    extra: dict | None = None,
    folder: Path | None = None,
) -> tuple[dict, Path]:
    """Sign a record of the journal's heads and append it to this month's anchor file.

    Raises OSError when the file cannot be written; the caller decides how loudly to say so.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown anchor kind {kind}")
    key = signing_key()
    record = {
        "v": RECORD_VERSION,
        "kind": kind,
        "at": timezone.now().astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "trigger": trigger,
        "entries": int(entries),
        "heads": {str(c): [int(seq), mac] for c, (seq, mac) in sorted(heads.items())},
        "anchor": audit.anchor_of(heads),
        "key_id": key.key_id,
        "public_key": key.public_key,
        **(extra or {}),
    }
    record["sig"] = key.sign(SIGNED_PREFIX + _canonical(record)).hex()
    line = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    path = _append(line, folder or anchor_dir())
    log.info("%s", line)
    return record, path


def _append(line: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"anchors-{timezone.localtime():%Y-%m}.jsonl"
    # O_APPEND: one write() per line lands whole at the end, whichever process writes; nothing
    # here ever opens the file to rewrite it, and past months are never opened again.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        data = (line + "\n").encode()
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(f"short write to {path}")
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def current_heads() -> tuple[dict[int, tuple[int, str]], int]:
    """The heads as they stand (after a restore, which has no verification of its own to report)."""
    heads = {c: (seq, mac) for c, seq, mac in AuditHead.objects.values_list("id", "seq", "entry_mac")}
    return heads, AuditEntry.objects.count()


# --- reading ------------------------------------------------------------------------------------


@dataclass
class Line:
    where: str  # file name and line number, for the report
    record: dict | None  # None when the line is not a JSON object
    error: str = ""


def anchor_files(source: Path | None = None) -> list[Path]:
    """The anchor files of a directory (oldest month first), or the one file given."""
    source = Path(source) if source is not None else anchor_dir()
    if source.is_file():
        return [source]
    if not source.is_dir():
        return []
    found = {p for pattern in FILE_GLOBS for p in source.glob(pattern) if p.is_file()}
    return sorted(found, key=lambda p: p.name.removesuffix(".gz"))


def read_lines(source: Path | None = None) -> Iterator[Line]:
    for path in anchor_files(source):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as fh:
            number = 0
            while raw := fh.readline(MAX_LINE + 1):
                number += 1
                where = f"{path.name}:{number}"
                if len(raw) > MAX_LINE:
                    while raw and not raw.endswith(b"\n"):  # skip the rest without holding it
                        raw = fh.readline(MAX_LINE)
                    yield Line(where, None, "the line is too long to be an anchor")
                    continue
                text = raw.decode("utf-8", errors="replace").strip()
                if not text:
                    continue
                start = text.find("{")  # a syslog export puts a date, host and tag first
                try:
                    record = json.loads(text[start:]) if start >= 0 else None
                except ValueError:
                    record = None
                if not isinstance(record, dict):
                    yield Line(where, None, "not an anchor record (no JSON object)")
                    continue
                yield Line(where, record)


# --- checking -----------------------------------------------------------------------------------

VALID, SUPERSEDED, BROKEN = "valid", "superseded", "broken"


@dataclass
class AnchorCheck:
    where: str
    status: str  # valid | superseded | broken
    kind: str = ""
    at: str = ""
    entries: int | None = None
    problem: str = ""  # malformed | unknown_key | bad_signature | rolled_back | rewritten
    message: str = ""
    heads: dict[int, tuple[int, str]] = field(default_factory=dict)


@dataclass
class AnchorReport:
    checks: list[AnchorCheck]
    source: str

    def count(self, status: str) -> int:
        return sum(1 for c in self.checks if c.status == status)

    @property
    def anchors(self) -> int:
        return len(self.checks)

    @property
    def valid(self) -> int:
        """Genuine anchors the journal accounts for: still extended, or undone by a recorded restore."""
        return self.count(VALID) + self.count(SUPERSEDED)

    @property
    def broken(self) -> int:
        return self.count(BROKEN)

    @property
    def ok(self) -> bool:
        return self.broken == 0

    def first_broken(self) -> AnchorCheck | None:
        return next((c for c in self.checks if c.status == BROKEN), None)


def _parse(line: Line, keys: dict[str, str]) -> AnchorCheck:
    """Check a record on its own: shape, key and signature."""
    if line.record is None:
        return AnchorCheck(line.where, BROKEN, problem="malformed", message=line.error)
    r = line.record
    check = AnchorCheck(line.where, BROKEN, kind=str(r.get("kind", ""))[:20], at=str(r.get("at", ""))[:40])

    def malformed(why: str) -> AnchorCheck:
        check.problem, check.message = "malformed", why
        return check

    if r.get("v") != RECORD_VERSION or r.get("kind") not in KINDS:
        return malformed("not an anchor record of a known version and kind")
    for name, kind in (("at", str), ("trigger", str), ("anchor", str), ("key_id", str), ("sig", str)):
        if not isinstance(r.get(name), kind):
            return malformed(f"the field {name} is missing or not text")
    if not isinstance(r.get("entries"), int) or isinstance(r.get("entries"), bool) or r["entries"] < 0:
        return malformed("the field entries is not a count")
    try:
        at = dt.datetime.fromisoformat(r["at"])
    except ValueError:
        return malformed("the field at is not a time")
    if at.tzinfo is None:
        return malformed("the field at has no time zone")
    heads = r.get("heads")
    if not isinstance(heads, dict):
        return malformed("the field heads is missing")
    parsed: dict[int, tuple[int, str]] = {}
    for chain, value in heads.items():
        if not (
            _CHAIN.fullmatch(chain)
            and isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], int)
            and not isinstance(value[0], bool)
            and value[0] >= 0
            and isinstance(value[1], str)
            and _MAC.fullmatch(value[1])
        ):
            return malformed(f"the head of chain {chain} is not a sequence number and a MAC")
        parsed[int(chain)] = (value[0], value[1])
    check.entries, check.heads = r["entries"], parsed
    public_key = keys.get(r["key_id"])
    if public_key is None:
        check.problem = "unknown_key"
        check.message = (
            f"signed with key {r['key_id']}, which no configured master key gives "
            "(a retired master key belongs in TONGBAN_MASTER_KEYS_OLD)"
        )
        return check
    if r.get("public_key") != public_key:
        check.problem, check.message = (
            "bad_signature",
            "the record names a public key that is not its key id's",
        )
        return check
    try:
        signature = bytes.fromhex(r["sig"])
    except ValueError:
        signature = b""
    if not sm2.verify(public_key, SIGNED_PREFIX + _canonical(r), signature):
        check.problem, check.message = (
            "bad_signature",
            "the signature does not verify: the line was forged or altered",
        )
        return check
    if r["anchor"] != audit.anchor_of(parsed):
        check.problem, check.message = "malformed", "the anchor is not the digest of the heads it lists"
        return check
    check.status = VALID
    return check


def _entry_macs(wanted: dict[int, set[int]]) -> dict[tuple[int, int], str]:
    """The current MAC of each (chain, seq) an anchor names, in a few queries."""
    found: dict[tuple[int, int], str] = {}
    for chain, seqs in wanted.items():
        ordered = sorted(seqs)
        for i in range(0, len(ordered), LOOKUP_BATCH):
            rows = AuditEntry.objects.filter(chain=chain, seq__in=ordered[i : i + LOOKUP_BATCH])
            for seq, mac in rows.values_list("seq", "entry_mac"):
                found[(chain, seq)] = mac
    return found


def _extension_problem(check: AnchorCheck, current: dict[int, int], macs: dict) -> tuple[str, str]:
    """Whether today's journal still extends what the anchor saw; ("", "") when it does."""
    for chain, (seq, mac) in sorted(check.heads.items()):
        if seq == 0:
            if mac != audit.GENESIS_MAC:
                return "malformed", f"chain {chain} is anchored empty with a MAC"
            continue
        now = current.get(chain)
        if now is None:
            return "rolled_back", f"chain {chain}, anchored at entry {seq}, no longer exists"
        if now < seq:
            return (
                "rolled_back",
                f"chain {chain} ends at entry {now}, but the anchor saw entry {seq}: "
                "entries were removed or the database was put back to an older copy",
            )
        found = macs.get((chain, seq))
        if found is None:
            return "rolled_back", f"entry {seq} of chain {chain}, which the anchor saw, is gone"
        if found != mac:
            return (
                "rewritten",
                f"entry {seq} of chain {chain} is not the one the anchor saw: the journal was rewritten",
            )
    return "", ""


def check(source: Path | None = None, progress=None) -> AnchorReport:
    """Check every record of the anchor log against the journal as it stands now."""
    keys = trusted_keys()
    checks = [_parse(line, keys) for line in read_lines(source)]
    current = dict(AuditHead.objects.values_list("id", "seq"))
    wanted: dict[int, set[int]] = {}
    for c in checks:
        if c.status == VALID:
            for chain, (seq, _mac) in c.heads.items():
                if seq and current.get(chain, 0) >= seq:
                    wanted.setdefault(chain, set()).add(seq)
    macs = _entry_macs(wanted)
    restores = sorted(
        dt.datetime.fromisoformat(c.at) for c in checks if c.status == VALID and c.kind == "restore"
    )
    for done, c in enumerate(checks, start=1):
        if c.status == VALID:
            problem, message = _extension_problem(c, current, macs)
            if problem:
                at = dt.datetime.fromisoformat(c.at)
                later = [r for r in restores if r > at]
                if later and problem != "malformed":
                    c.status = SUPERSEDED
                    c.message = (
                        f"{message} — undone by the restore of {later[0].isoformat(timespec='seconds')}"
                    )
                else:
                    c.status = BROKEN
                    c.message = message
                c.problem = problem
        if progress and (done % 200 == 0 or done == len(checks)):
            progress(done, len(checks))
    shown = str(source) if source is not None else str(anchor_dir())
    return AnchorReport(checks, shown)
