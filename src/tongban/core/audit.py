"""The audit journal: append-only, tamper-evident with HMAC-SM3 chains.

Services wrap each state change in `audited(...)`. The entry is written in the same
transaction as the change, so the journal never claims something that was rolled back and
never misses something that was committed. A refused or failed attempt is journalled too, in
its own transaction after the rollback.

Chains: entry_mac(n) = HMAC-SM3(K, entry_mac(n-1) ‖ canonical(entry n)) within one chain. K
derives from the master key, which is not in the database, so someone who can write to the
database but does not hold the key cannot forge or re-chain entries. A writer locks the head
row of one chain until it commits; that keeps the chain gap-free and in commit order. With one
chain every audited transaction would queue behind that lock through its commit, so there are
TONGBAN_AUDIT_CHAINS chains and a writer takes a free one (SELECT … FOR UPDATE SKIP LOCKED).
Entries are buffered and written at the end of the outermost `audited` block, so the head lock
is the last lock a transaction takes and cannot be part of a deadlock cycle. docs/security.md
has the details and measured throughput.
"""

import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import context, crypto, journal_store
from .authz import actor_identity
from .errors import DomainError, InvalidInput, NotFound, NotPermitted
from .models import AuditEntry, AuditHead, AuditOutcome

GENESIS_MAC = "0" * 64
KEY_PURPOSE = "audit-journal-v1"


@dataclass
class PendingEntry:
    """An entry being prepared; services fill in `object_ref` and `detail` as they learn them."""

    action: str
    actor_id: int | None
    actor_label: str
    object_type: str = ""
    object_ref: str = ""
    department_code: str = ""
    detail: dict = field(default_factory=dict)
    outcome: str = AuditOutcome.SUCCESS
    occurred_at: datetime = field(default_factory=timezone.now)
    request_id: str = field(default_factory=context.request_id)
    client_ip: str = field(default_factory=context.client_ip)


class _Buffer(threading.local):
    pending: list[PendingEntry] | None = None


_buffer = _Buffer()


def _classify(exc: BaseException) -> tuple[str, dict]:
    if isinstance(exc, InvalidInput | ValidationError):
        fields = sorted(exc.fields) if isinstance(exc, InvalidInput) else []
        return AuditOutcome.INVALID, {"error": "invalid_input", "fields": fields}
    if isinstance(exc, NotPermitted | NotFound | PermissionDenied):
        return AuditOutcome.DENIED, {"error": getattr(exc, "code", "not_permitted")}
    if isinstance(exc, DomainError):
        return AuditOutcome.FAILED, {"error": exc.code}
    # Never the message: exception texts can carry personal data.
    return AuditOutcome.FAILED, {"error": type(exc).__name__}


@contextmanager
def audited(
    action: str,
    *,
    actor=None,
    object_type: str = "",
    object_ref: str = "",
    department_code: str = "",
    detail: dict | None = None,
) -> Iterator[PendingEntry]:
    """Run a state change in one transaction and journal its outcome (success, refused, failed)."""
    actor_id, actor_label = actor_identity(actor)
    entry = PendingEntry(
        action=action,
        actor_id=actor_id,
        actor_label=actor_label,
        object_type=object_type,
        object_ref=str(object_ref or ""),
        department_code=department_code or "",
        detail=dict(detail or {}),
    )
    outermost = _buffer.pending is None
    if outermost:
        _buffer.pending = []
    mark = len(_buffer.pending)
    try:
        try:
            with transaction.atomic():
                yield entry
                _buffer.pending.append(entry)
                if outermost:
                    _write(_buffer.pending)
                    # Work run once this transaction commits (an inline job queue runs jobs right
                    # there) is not part of the block: its own use cases must not see it as open.
                    _buffer.pending = None
        except BaseException as exc:
            if _buffer.pending is None:
                _buffer.pending = []  # the commit itself failed after the entries were written
            # Entries of inner blocks were rolled back with this block's savepoint.
            del _buffer.pending[mark:]
            outcome, info = _classify(exc)
            entry.outcome = outcome
            entry.detail = {**entry.detail, **info}
            if outermost:
                with transaction.atomic():
                    _write([entry])
            else:
                _buffer.pending.append(entry)
            raise
    finally:
        if outermost:
            _buffer.pending = None


def in_audited_block() -> bool:
    return _buffer.pending is not None


def open_buffer() -> list[PendingEntry]:
    """Start collecting the entries of one transaction (core.uow opens it for a use case)."""
    _buffer.pending = []
    return _buffer.pending


def close_buffer() -> None:
    _buffer.pending = None


def write_entries(entries: list[PendingEntry]) -> None:
    """Chain and store the collected entries, in the caller's transaction, as its last writes."""
    _write(entries)


def journal_failure(entry: PendingEntry, exc: BaseException) -> None:
    """Journal a refused or failed state change in its own transaction, after the rollback."""
    outcome, info = _classify(exc)
    entry.outcome = outcome
    entry.detail = {**entry.detail, **info}
    with transaction.atomic():
        _write([entry])


def record(
    action: str,
    *,
    actor=None,
    outcome: str = AuditOutcome.SUCCESS,
    object_type: str = "",
    object_ref: str = "",
    department_code: str = "",
    detail: dict | None = None,
) -> None:
    """Journal something that is not a state change of ours: a login, a read of personal data."""
    actor_id, actor_label = actor_identity(actor)
    entry = PendingEntry(
        action=action,
        actor_id=actor_id,
        actor_label=actor_label,
        object_type=object_type,
        object_ref=str(object_ref or ""),
        department_code=department_code or "",
        detail=dict(detail or {}),
        outcome=outcome,
    )
    if _buffer.pending is not None:
        _buffer.pending.append(entry)
        return
    with transaction.atomic():
        _write([entry])


# The columns the MAC covers, in the order they are serialised.
CHAINED_FIELDS = (
    "chain",
    "seq",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_ref",
    "department_code",
    "outcome",
    "request_id",
    "client_ip",
    "detail",
)


def canonical_bytes(values: dict) -> bytes:
    fields = [values[name] for name in CHAINED_FIELDS]
    fields[2] = values["occurred_at"].astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _mac(key: bytes, prev_mac: str, payload: bytes) -> str:
    return crypto.hmac_sm3(key, prev_mac.encode() + b"\n" + payload).hex()


def chain_count() -> int:
    return max(1, int(getattr(settings, "TONGBAN_AUDIT_CHAINS", 1)))


def _ensure_heads(chains: int) -> None:
    existing = set(AuditHead.objects.filter(id__lt=chains).values_list("id", flat=True))
    for chain in range(chains):
        if chain in existing:
            continue
        # A head lost after its chain was written (or a test flush) restarts from the chain's last
        # entry, so numbering never restarts; verification still checks every entry.
        last = AuditEntry.objects.filter(chain=chain).order_by("-seq").values_list("seq", "entry_mac").first()
        seq, mac = last if last else (0, GENESIS_MAC)
        try:
            with transaction.atomic():
                AuditHead.objects.create(id=chain, seq=seq, entry_mac=mac)
        except IntegrityError:
            pass  # a concurrent writer created it first


def _claim_head() -> tuple[int, int, str]:
    """Lock the head of a free chain (see journal_store); create missing heads on first use."""
    chains = chain_count()
    claimed = journal_store.claim_head(chains)
    if claimed is not None:
        return claimed
    _ensure_heads(chains)
    return _claim_head()


def _write(entries: list[PendingEntry]) -> None:
    if not entries:
        return
    key = crypto.derived_key(KEY_PURPOSE)
    kid = crypto.key_id(key)
    chain, seq, prev = _claim_head()
    rows = []
    for e in entries:
        seq += 1
        values = {
            "chain": chain,
            "seq": seq,
            "occurred_at": e.occurred_at,
            "actor_id": e.actor_id,
            "actor_label": e.actor_label,
            "action": e.action,
            "object_type": e.object_type,
            "object_ref": e.object_ref,
            "department_code": e.department_code,
            "outcome": str(e.outcome),
            "request_id": e.request_id,
            "client_ip": e.client_ip,
            "detail": e.detail,
        }
        mac = _mac(key, prev, canonical_bytes(values))
        rows.append({**values, "key_id": kid, "prev_mac": prev, "entry_mac": mac})
        prev = mac
    journal_store.append(rows, chain, seq, prev)


# --- verification -------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    ok: bool
    checked: int  # entries verified (before the first problem, if there is one)
    anchor: str  # SM3 over every chain's head when intact, for keeping outside the database
    bad_seq: int | None = None
    bad_chain: int | None = None
    problem: str = ""  # missing | out_of_order | modified | unknown_key | truncated | head_ahead | no_head
    message: str = ""
    # chain -> (last seq, its entry MAC) as verified; what a signed anchor records (core.anchors)
    heads: dict[int, tuple[int, str]] = field(default_factory=dict)
    # Filled in by core.services.verify_journal: where the signed anchor went (or why it did not),
    # and the check of earlier anchors when it was asked for (a core.anchors.AnchorReport).
    anchor_log: str = ""
    anchor_error: str = ""
    anchor_report: object | None = None


def anchor_of(heads: dict[int, tuple[int, str]]) -> str:
    """SM3 over every chain's head MAC: one value that changes whenever any chain moves."""
    return crypto.sm3_hex("|".join(f"{c}:{heads[c][1]}" for c in sorted(heads)).encode())


def verify(progress: Callable[[int, int], None] | None = None, chunk_size: int = 5000) -> VerifyResult:
    """Walk every chain; report the first entry that was modified, removed or moved."""
    with journal_store.consistent_snapshot():
        return _verify(progress, chunk_size)


def _verify(progress, chunk_size: int) -> VerifyResult:
    keys = crypto.derived_keys(KEY_PURPOSE)
    total = AuditEntry.objects.count()
    heads = dict(AuditHead.objects.values_list("id", "seq"))
    head_macs = dict(AuditHead.objects.values_list("id", "entry_mac"))
    tips: dict[int, tuple[int, str]] = {}  # chain -> (last seq, last mac) verified
    checked = 0
    chain, expected_seq, prev = None, 1, GENESIS_MAC

    def bad(bad_chain, seq, problem, message):
        return VerifyResult(False, checked, "", seq, bad_chain, problem, message)

    columns = (*CHAINED_FIELDS, "key_id", "prev_mac", "entry_mac")
    rows = AuditEntry.objects.order_by("chain", "seq").values_list(*columns).iterator(chunk_size=chunk_size)
    for row in rows:
        values = dict(zip(columns, row, strict=True))
        row_chain, seq, kid = values["chain"], values["seq"], values["key_id"]
        prev_mac, entry_mac = values["prev_mac"], values["entry_mac"]
        if row_chain != chain:
            chain, expected_seq, prev = row_chain, 1, GENESIS_MAC
        where = f"entry {seq} of chain {chain}"
        if seq != expected_seq:
            return bad(
                chain,
                expected_seq,
                "missing",
                f"entry {expected_seq} of chain {chain} is missing (the next entry is {seq})",
            )
        if prev_mac != prev:
            return bad(
                chain, seq, "out_of_order", f"{where} does not follow entry {seq - 1}: inserted or reordered"
            )
        key = keys.get(kid)
        if key is None:
            return bad(chain, seq, "unknown_key", f"{where} is signed with an unknown key {kid}")
        payload = canonical_bytes(values)
        if not crypto.constant_time_equal(_mac(key, prev_mac, payload), entry_mac):
            return bad(chain, seq, "modified", f"{where} was modified")
        prev = entry_mac
        tips[chain] = (seq, entry_mac)
        expected_seq += 1
        checked += 1
        if progress and checked % chunk_size == 0:
            progress(checked, total)
    if progress:
        progress(checked, total)
    # Each chain must end exactly where its head says: this catches entries cut off the end.
    for c in sorted(set(heads) | set(tips)):
        last_seq, last_mac = tips.get(c, (0, GENESIS_MAC))
        if c not in heads:
            return bad(c, last_seq, "no_head", f"chain {c} has entries but its head row is gone")
        if heads[c] > last_seq:
            return bad(
                c, last_seq + 1, "truncated", f"entries {last_seq + 1}–{heads[c]} of chain {c} were removed"
            )
        if heads[c] < last_seq:
            return bad(
                c,
                heads[c] + 1,
                "head_ahead",
                f"entries of chain {c} after {heads[c]} were added outside the journal",
            )
        if head_macs[c] != last_mac:
            return bad(c, last_seq, "modified", f"entry {last_seq} of chain {c} does not match its head")
    verified = {c: (heads[c], head_macs[c]) for c in heads}
    return VerifyResult(True, checked, anchor_of(verified), heads=verified)


# Journal object types that name no model of their own.
_OTHER_OBJECT_TYPES = {
    "audit_journal": _("audit journal"),
    "calendar_day": _("calendar day"),
    "catalogue": _("service catalogue"),
    "data_resource": _("data resource"),
    "report": _("report"),
}


@functools.cache
def _object_type_models() -> dict[str, object]:
    from django.apps import apps

    found = {}
    for model in apps.get_models():
        found.setdefault(model._meta.model_name, model)
        found.setdefault(f"{model._meta.app_label}{model._meta.model_name}", model)
    return found


def object_type_label(code: str):
    """What a journal entry's object type is called on screen: the verbose name of the model it
    names ("work_item" → WorkItem, "hotline_category" → hotline's Category), so the journal shows
    办件 and 待办事项 rather than codes; a type that names no model has its own label here."""
    model = _object_type_models().get(code.replace("_", ""))
    if model is None and "_" in code:
        model = _object_type_models().get(code.split("_", 1)[1].replace("_", ""))
    if model is not None:
        return model._meta.verbose_name
    return _OTHER_OBJECT_TYPES.get(code, code)
