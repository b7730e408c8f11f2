"""The use cases of data sharing: the resource catalogue, imports with a quality check, grants
(requested by a consumer, approved by the provider and then the data authority), the negative list,
and the calls — full-record queries and verify-only (可用不可见) checks — each logged.

Who may do what: a provider department's staff with exchange.provide run its resources and make
the first approval; staff with exchange.request ask for grants for their department; staff with
exchange.query call under their department's grants; exchange.authority (the data officer) makes
the second approval, keeps the negative list and sees every call. An object the caller may not see
is NotFound, so its existence does not leak.
"""

import datetime as dt
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.accounts.models import Department
from tongban.core import audit, crypto
from tongban.core.authz import require
from tongban.core.errors import (
    DomainError,
    FieldErrors,
    FieldProblem,
    Formatted,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from tongban.core.masking import mask_id_number
from tongban.core.models import AuditOutcome

from . import predicates, store
from .adapters import AdapterFailure, FileAdapter, adapter_for, key_index
from .models import (
    AdapterKind,
    Call,
    CallKind,
    CallOutcome,
    Frequency,
    Grant,
    GrantStatus,
    KeyKind,
    NegativeEntry,
    Record,
    Resource,
    levels,
)
from .normalise import halfwidth, id_number_form, key_check, kind_of, normalise_row, uscc_form

EXCHANGE_PERMISSIONS = (
    perms.EXCHANGE_QUERY,
    perms.EXCHANGE_REQUEST,
    perms.EXCHANGE_PROVIDE,
    perms.EXCHANGE_AUTHORITY,
)
PREDICATE_OPS = {"eq", "ne", "in", "startswith", "gte", "lte", "contains", "not_empty"}
BATCH = 2000


class Refused(InvalidInput):
    """A call no grant covers. Field-level, so a consumer learns exactly which field or rule refused it."""

    status = 403
    code = "refused"
    default_message = _("The call was refused. Nothing was disclosed.")


class ImportRejected(InvalidInput):
    """A provider file with malformed rows: nothing of it was imported; `report` lists every row."""

    default_message = _("The file has malformed rows. Nothing was imported.")

    def __init__(self, report: "ImportReport"):
        fields: dict[str, list[FieldProblem]] = {}
        for row, name, message in report.errors:
            fields.setdefault(f"row {row}.{name}", []).append(FieldProblem("malformed", message))
        super().__init__(fields)
        self.report = report


# --- access -----------------------------------------------------------------------------------------


def _staff_department(actor) -> Department | None:
    staff = getattr(actor, "staff", None)
    return staff.department if staff is not None else None


def _may_see_catalogue(actor) -> bool:
    return getattr(actor, "is_system", False) or any(actor.can(p) for p in EXCHANGE_PERMISSIONS)


def is_authority(actor) -> bool:
    return actor.can(perms.EXCHANGE_AUTHORITY)


def resources(actor) -> QuerySet:
    """The catalogue: every staff member working with shared data sees what exists (not the data)."""
    require(actor, perms.ORG_VIEW)
    if not _may_see_catalogue(actor):
        raise NotPermitted()
    return Resource.objects.select_related("provider").filter(is_active=True)


def get_resource(actor, code: str) -> Resource:
    resource = resources(actor).filter(code=code).first()
    if resource is None:
        raise NotFound()
    return resource


def may_manage(actor, resource: Resource) -> bool:
    """Provider staff and the data authority see the records' quality; nobody else does."""
    return is_authority(actor) or actor.can(perms.EXCHANGE_PROVIDE, resource.provider)


def _managed_resource(actor, code: str) -> Resource:
    resource = Resource.objects.select_related("provider").filter(code=code).first()
    if resource is None or not may_manage(actor, resource):
        raise NotFound()
    return resource


# --- the catalogue ----------------------------------------------------------------------------------


def _clean_fields(values, errors: FieldErrors) -> list[dict]:
    level_codes = {code for code, _label in levels()}
    cleaned, seen = [], set()
    if not isinstance(values, list) or not values:
        errors.add("fields", "required", _("A resource needs at least one field."))
        return []
    for n, spec in enumerate(values):
        spec = spec if isinstance(spec, dict) else {}
        key = str(spec.get("key", "")).strip()
        if not key or key in seen:
            errors.add(f"fields.{n}.key", "invalid", _("Each field needs a key of its own."))
            continue
        seen.add(key)
        level = spec.get("level", "internal")
        if level not in level_codes:
            errors.add(f"fields.{n}.level", "level", _("Unknown classification level."))
        cleaned.append(
            {
                "key": key,
                "label": str(spec.get("label") or key)[:60],
                "level": level,
                "personal": bool(spec.get("personal")),
                "required": bool(spec.get("required")),
            }
        )
    return cleaned


def _clean_predicates(values, field_keys: set[str], errors: FieldErrors) -> dict:
    values = values if isinstance(values, dict) else {}
    for code, spec in values.items():
        conditions = spec.get("all") if isinstance(spec, dict) else None
        if not conditions:
            errors.add(f"predicates.{code}", "invalid", _("A predicate needs at least one condition."))
            continue
        well_formed = True
        for condition in conditions:
            if (
                not isinstance(condition, list)
                or len(condition) != 3
                or condition[0] not in field_keys
                or condition[1] not in PREDICATE_OPS
            ):
                errors.add(
                    f"predicates.{code}",
                    "condition",
                    Formatted(
                        _("Condition %(c)s: use [field, operator, value]."), {"c": json.dumps(condition)}
                    ),
                )
                well_formed = False
        if well_formed:
            # The rule that is evaluated: the conditions in FEEL (tongban.rules), kept beside them.
            spec["feel"] = predicates.to_feel(conditions)
    return values


def save_resource(
    actor,
    *,
    code: str,
    name: str,
    subject: str,
    provider_code: str,
    key_kind: str,
    key_field: str,
    fields: list[dict],
    frequency: str = Frequency.DAILY,
    adapter: str = AdapterKind.TABLE,
    adapter_config: dict | None = None,
    mapping: dict | None = None,
    predicates: dict | None = None,
    description: str = "",
    stale_after_days: int = 365,
) -> Resource:
    """Create or update a catalogue entry. Needs exchange.provide in the providing department."""
    provider = Department.objects.filter(code=provider_code).first()
    errors = FieldErrors()
    if provider is None:
        errors.add("provider_code", "unknown", _("There is no such department."))
    else:
        require(actor, perms.EXCHANGE_PROVIDE, provider)
    name = errors.require_text("name", name, max_length=100)
    subject = errors.require_text("subject", subject, max_length=100)
    cleaned = _clean_fields(fields, errors)
    keys = {f["key"] for f in cleaned}
    if key_kind not in KeyKind.values:
        errors.add("key_kind", "choice", _("Choose person, enterprise or any."))
    if key_field not in keys:
        errors.add("key_field", "unknown", _("The key must be one of the resource's fields."))
    if frequency not in Frequency.values:
        errors.add("frequency", "choice", _("Unknown update frequency."))
    if adapter not in AdapterKind.values:
        errors.add("adapter", "choice", _("Unknown adapter."))
    predicates = _clean_predicates(predicates or {}, keys, errors)
    existing = Resource.objects.filter(code=code).first()
    if existing is not None and provider is not None and existing.provider_id != provider.pk:
        require(actor, perms.EXCHANGE_PROVIDE, existing.provider)
    clash = Resource.objects.filter(subject=subject).exclude(code=code).first()
    if clash is not None:
        errors.add(
            "subject",
            "one_source",
            Formatted(_("一数一源: %(name)s is already the source of this data."), {"name": clash.name}),
        )
    errors.raise_if_any()
    values = {
        "name": name,
        "subject": subject,
        "provider": provider,
        "key_kind": key_kind,
        "key_field": key_field,
        "fields": cleaned,
        "frequency": frequency,
        "adapter": adapter,
        "adapter_config": adapter_config or {},
        "mapping": mapping or {},
        "predicates": predicates,
        "description": description,
        "stale_after_days": stale_after_days,
    }
    with audit.audited(
        "exchange.resource.save",
        actor=actor,
        object_type="data_resource",
        object_ref=code,
        department_code=provider.code,
    ):
        resource, _created = Resource.objects.update_or_create(code=code, defaults=values)
    return resource


# --- imports and the quality check ------------------------------------------------------------------


@dataclass
class ImportReport:
    resource: str
    source: str = ""
    rows: int = 0
    imported: int = 0
    dirty: int = 0
    errors: list[tuple[int, str, object]] = field(default_factory=list)  # (row, field, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def _normalise_key(resource: Resource, value) -> str:
    text = str(value or "")[:40]
    if resource.key_kind == KeyKind.ENTERPRISE:
        return uscc_form(text)
    if resource.key_kind == KeyKind.ANY:
        number, code = id_number_form(text), uscc_form(text)
        return code if kind_of(KeyKind.ANY, number) == KeyKind.ENTERPRISE else number
    return id_number_form(text)


def kind_of_key(resource: Resource, key: str) -> str:
    return kind_of(resource.key_kind, key)


def _mask_key(resource: Resource, key: str) -> str:
    if kind_of_key(resource, key) == KeyKind.ENTERPRISE:
        return key[:24]  # credit codes are public
    return mask_id_number(key)[:24]


# (row number, key index, masked key, record JSON, updated on, key problem, missing fields)
_Staged = tuple[int, str, str, str, dt.date | None, str, str]


def _stage(resource: Resource, rows: list[dict], report: ImportReport) -> list[_Staged]:
    """Normalise every row; collect malformed values per row; find each record's quality problems.
    Plain tuples, not model instances: a million-row snapshot must fit in memory."""
    keys = set(resource.field_map())
    required = [f["key"] for f in resource.fields if f.get("required")]
    date_field = resource.mapping.get("updated_on", "")
    staged: list[_Staged] = []
    for n, raw in enumerate(rows, start=1):
        report.rows += 1
        if "__cells__" in raw:
            report.errors.append(
                (n, "__row__", _("The row has a different number of cells than the header."))
            )
            continue
        data, problems = normalise_row(raw, resource.mapping, keys)
        for problem in problems:
            report.errors.append((n, problem.field, problem.message))
        if problems:
            continue
        key = _normalise_key(resource, data.get(resource.key_field))
        if not key:
            report.errors.append((n, resource.key_field, _("The key field is empty.")))
            continue
        data[resource.key_field] = key
        updated = data.get(date_field) if date_field else None
        try:
            updated_on = dt.date.fromisoformat(updated) if updated else None
        except (TypeError, ValueError):
            report.errors.append((n, date_field, _("The update date is not a date.")))
            continue
        missing = ",".join(f for f in required if data.get(f) in (None, ""))[:200]
        staged.append(
            (
                n,
                key_index(key),
                _mask_key(resource, key),
                json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                updated_on,
                key_check(kind_of_key(resource, key), key) or "",
                missing,
            )
        )
    return staged


def _write_records(resource: Resource, staged: list[_Staged]) -> int:
    """Insert the staged records in batches (executemany): the ORM's per-field compilation of a
    bulk_create costs more than the encryption. Returns how many rows are dirty."""
    from django.db import connection

    seen: dict[str, int] = {}
    for row in staged:
        seen[row[1]] = seen.get(row[1], 0) + 1
    table = connection.ops.quote_name(Record._meta.db_table)
    columns = (
        "resource_id",
        "key_index",
        "key_masked",
        "data",
        "row_number",
        "updated_on",
        "key_problem",
        "duplicate",
        "missing",
        "is_dirty",
    )
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608  (fixed identifiers, values are parameters)
        table, ", ".join(connection.ops.quote_name(c) for c in columns), ", ".join(["%s"] * len(columns))
    )
    adapt = connection.ops.adapt_datefield_value
    context = Record._meta.get_field("data")._context  # as EncryptedTextField would encrypt it
    dirty = 0
    with connection.cursor() as cursor:
        for start in range(0, len(staged), BATCH):
            params = []
            for n, index, masked, data, updated_on, problem, missing in staged[start : start + BATCH]:
                duplicate = seen[index] > 1
                is_dirty = bool(problem or duplicate or missing)
                dirty += is_dirty
                params.append(
                    (
                        resource.pk,
                        index,
                        masked,
                        crypto.encrypt(data, context),
                        n,
                        adapt(updated_on),
                        problem,
                        duplicate,
                        missing,
                        is_dirty,
                    )
                )
            cursor.executemany(sql, params)
    return dirty


def import_rows(actor, code: str, rows: list[dict], *, source: str = "", now=None) -> ImportReport:
    """Replace a held resource's records with these provider rows, all or nothing: one malformed
    value anywhere rejects the whole batch (ImportRejected, with a per-row report)."""
    resource = _managed_resource(actor, code)
    require(actor, perms.EXCHANGE_PROVIDE, resource.provider)
    if resource.adapter not in (AdapterKind.TABLE, AdapterKind.FILE):
        raise InvalidInput.single("code", "not_held", _("This resource is not held here; nothing to import."))
    report = ImportReport(resource=code, source=source)
    staged = _stage(resource, rows, report)
    with audit.audited(
        "exchange.resource.import",
        actor=actor,
        object_type="data_resource",
        object_ref=code,
        department_code=resource.provider.code,
        detail={"source": Path(source).name if source else "", "rows": report.rows},
    ) as entry:
        if not report.ok:
            raise ImportRejected(report)
        Record.objects.filter(resource=resource).delete()
        report.dirty = _write_records(resource, staged)
        report.imported = len(staged)
        Resource.objects.filter(pk=resource.pk).update(
            record_count=len(staged), imported_at=now or timezone.now()
        )
        entry.detail.update(imported=report.imported, dirty=report.dirty)
    return report


def import_file(actor, code: str, path) -> ImportReport:
    """Import a CSV or XLSX snapshot (the drop-folder adapter, or an operator's `tongban exchange import`)."""
    path = Path(path)
    try:
        rows = FileAdapter.read(path)
    except (OSError, UnicodeDecodeError, ValueError, KeyError) as exc:
        raise InvalidInput.single(
            "file",
            "unreadable",
            Formatted(_("The file cannot be read (%(why)s)."), {"why": type(exc).__name__}),
        ) from None
    return import_rows(actor, code, rows, source=str(path))


def scan_drop_folder(actor, code: str) -> ImportReport | None:
    """Import the newest snapshot in the resource's drop folder (files named so that they sort by
    time, e.g. scjg_20261101.csv). Older snapshots that were never imported move to superseded/:
    importing one after a newer one would turn the data back. The imported file goes to done/, a
    rejected one to rejected/ with its per-row report, so a file is never half taken."""
    resource = _managed_resource(actor, code)
    require(actor, perms.EXCHANGE_PROVIDE, resource.provider)
    files = FileAdapter().pending_files(resource)
    if not files:
        return None
    *older, newest = files
    if older:
        superseded = newest.parent / "superseded"
        superseded.mkdir(exist_ok=True)
        for path in older:
            path.rename(superseded / path.name)
    try:
        report = import_file(actor, code, newest)
    except ImportRejected as exc:
        target = newest.parent / "rejected"
        target.mkdir(exist_ok=True)
        newest.rename(target / newest.name)
        lines = [f"row {row}\t{name}\t{message}" for row, name, message in exc.report.errors]
        (target / f"{newest.name}.report.txt").write_text("\n".join(lines), encoding="utf-8")
        raise
    done = newest.parent / "done"
    done.mkdir(exist_ok=True)
    newest.rename(done / newest.name)
    return report


@dataclass
class QualityReport:
    resource: Resource
    total: int
    bad_key: int
    duplicates: int
    missing: int
    stale: int
    dirty: int  # rows with at least one problem, stale included

    @property
    def clean_share(self) -> float:
        return 1 - self.dirty / self.total if self.total else 1.0


def _stale_q(resource: Resource, today: dt.date) -> Q:
    return Q(updated_on__lt=today - dt.timedelta(days=resource.stale_after_days))


def quality_report(actor, code: str, today: dt.date | None = None) -> QualityReport:
    """Counts of checksum failures (GB 11643 / GB 32100), duplicates, missing required fields and
    stale records, counted in the database."""
    resource = _managed_resource(actor, code)
    today = today or timezone.localdate()
    stale = _stale_q(resource, today)
    counts = Record.objects.filter(resource=resource).aggregate(
        total=Count("id"),
        bad_key=Count("id", filter=~Q(key_problem="")),
        duplicates=Count("id", filter=Q(duplicate=True)),
        missing=Count("id", filter=~Q(missing="")),
        stale=Count("id", filter=stale),
        dirty=Count("id", filter=Q(is_dirty=True) | stale),
    )
    return QualityReport(resource=resource, **counts)


def dirty_rows(actor, code: str, *, problem: str = "", today: dt.date | None = None) -> QuerySet:
    """The rows the quality report counts, in file order, for the provider to fix at the source."""
    resource = _managed_resource(actor, code)
    today = today or timezone.localdate()
    rows = Record.objects.filter(resource=resource)
    filters = {
        "bad_key": ~Q(key_problem=""),
        "duplicate": Q(duplicate=True),
        "missing": ~Q(missing=""),
        "stale": _stale_q(resource, today),
    }
    rows = rows.filter(filters.get(problem) or (Q(is_dirty=True) | filters["stale"]))
    return rows.order_by("row_number").only(
        "row_number", "key_masked", "key_problem", "duplicate", "missing", "updated_on"
    )


# --- grants -----------------------------------------------------------------------------------------


def _new_reference(prefix: str, random_bytes: int = 4) -> str:
    return f"{prefix}{timezone.localdate():%Y%m%d}{secrets.token_hex(random_bytes).upper()}"


def _negative_fields(resource_id: int) -> set[str]:
    # No ordering: the model's default would join the resource table on this hot path.
    return set(
        NegativeEntry.objects.filter(resource_id=resource_id).order_by().values_list("field", flat=True)
    )


def request_grant(
    actor,
    *,
    consumer_code: str,
    resource_code: str,
    fields: list[str],
    purpose: str,
    legal_basis: str,
    valid_until: dt.date,
    now=None,
) -> Grant:
    """A consuming department asks for fields of a resource, for a purpose, on a legal basis."""
    consumer = Department.objects.filter(code=consumer_code).first()
    errors = FieldErrors()
    if consumer is None:
        errors.add("consumer_code", "unknown", _("There is no such department."))
    else:
        require(actor, perms.EXCHANGE_REQUEST, consumer)
    resource = Resource.objects.filter(code=resource_code, is_active=True).first()
    if resource is None:
        errors.add("resource_code", "unknown", _("There is no such data resource."))
    purpose = errors.require_text("purpose", purpose, max_length=200)
    legal_basis = errors.require_text("legal_basis", legal_basis, max_length=300)
    now = now or timezone.now()
    if not isinstance(valid_until, dt.date) or valid_until <= timezone.localdate(now):
        errors.add("valid_until", "past", _("A grant must run until a date in the future."))
    elif valid_until > timezone.localdate(now) + dt.timedelta(days=3 * 366):
        errors.add("valid_until", "too_long", _("A grant runs for three years at most; ask again then."))
    fields = list(dict.fromkeys(fields or []))
    if not fields:
        errors.add("fields", "required", _("Choose at least one field."))
    if resource is not None:
        known = resource.field_map()
        banned = _negative_fields(resource.pk)
        for name in fields:
            if name not in known:
                errors.add(f"fields.{name}", "unknown", _("The resource has no such field."))
            elif name in banned:
                errors.add(
                    f"fields.{name}", "negative_list", _("This field is on the negative list: never shared.")
                )
    errors.raise_if_any()
    with audit.audited(
        "exchange.grant.request",
        actor=actor,
        object_type="grant",
        department_code=consumer.code,
        detail={"resource": resource.code, "fields": fields, "purpose": purpose},
    ) as entry:
        grant = Grant.objects.create(
            reference=_new_reference("G"),
            consumer=consumer,
            resource=resource,
            fields=fields,
            purpose=purpose,
            legal_basis=legal_basis,
            valid_until=valid_until,
            requested_by=getattr(actor, "user", None),
            requested_at=now,
        )
        entry.object_ref = grant.reference
    return grant


def _may_see_grant(actor, grant: Grant) -> bool:
    return (
        is_authority(actor)
        or actor.can(perms.EXCHANGE_REQUEST, grant.consumer)
        or actor.can(perms.EXCHANGE_QUERY, grant.consumer)
        or actor.can(perms.EXCHANGE_PROVIDE, grant.resource.provider)
    )


def grants(actor, *, status: str = "", resource: str = "", consumer: str = "") -> QuerySet:
    """Grants the caller is party to (as consumer or provider), or all of them for the authority."""
    qs = Grant.objects.select_related("consumer", "resource__provider").order_by("-requested_at")
    if not is_authority(actor):
        if not _may_see_catalogue(actor):
            raise NotPermitted()
        qs = qs.filter(
            actor.scope_q(perms.EXCHANGE_REQUEST, "consumer__path")
            | actor.scope_q(perms.EXCHANGE_QUERY, "consumer__path")
            | actor.scope_q(perms.EXCHANGE_PROVIDE, "resource__provider__path")
        )
    if status:
        qs = qs.filter(status=status)
    if resource:
        qs = qs.filter(resource__code=resource)
    if consumer:
        qs = qs.filter(consumer__code=consumer)
    return qs


def get_grant(actor, reference: str, *, lock: bool = False) -> Grant:
    qs = Grant.objects.select_related("consumer", "resource__provider")
    if lock:
        qs = qs.select_for_update()
    grant = qs.filter(reference=reference).first()
    if grant is None or not _may_see_grant(actor, grant):
        raise NotFound()
    return grant


def may_decide(actor, grant: Grant) -> str:
    """Which decision the caller may make now: "provider", "authority" or ""."""
    if grant.status == GrantStatus.PENDING and actor.can(perms.EXCHANGE_PROVIDE, grant.resource.provider):
        return "provider"
    if grant.status == GrantStatus.PROVIDER_APPROVED and is_authority(actor):
        return "authority"
    return ""


def decide(actor, reference: str, *, approve: bool, note: str = "", now=None) -> Grant:
    """The provider's decision on a pending grant, then the data authority's on one the provider
    approved. A rejection by either ends it; a note is required to reject."""
    now = now or timezone.now()
    with audit.audited(
        "exchange.grant.approve" if approve else "exchange.grant.reject",
        actor=actor,
        object_type="grant",
        object_ref=reference,
    ) as entry:
        grant = get_grant(actor, reference, lock=True)
        step = may_decide(actor, grant)
        if not step:
            if grant.status in (GrantStatus.PENDING, GrantStatus.PROVIDER_APPROVED):
                raise NotPermitted(_("This grant waits for someone else's decision."))
            raise InvalidInput.single("status", "decided", _("This grant has already been decided."))
        errors = FieldErrors()
        note = (note or "").strip()
        if not approve:
            note = errors.require_text("note", note, max_length=200)
        elif len(note) > 200:
            errors.add("note", "max_length", Formatted(_("At most %(n)d characters."), {"n": 200}))
        if approve and grant.valid_until < timezone.localdate(now):
            errors.add("valid_until", "expired", _("The grant's end date has passed; ask for a new one."))
        errors.raise_if_any()
        user = getattr(actor, "user", None)
        if step == "provider":
            grant.provider_decided_by, grant.provider_decided_at = user, now
            grant.status = GrantStatus.PROVIDER_APPROVED if approve else GrantStatus.REJECTED
        else:
            grant.authority_decided_by, grant.authority_decided_at = user, now
            grant.status = GrantStatus.APPROVED if approve else GrantStatus.REJECTED
        if note:  # the authority's plain approval keeps the provider's note
            grant.decision_note = note
        grant.save()
        entry.department_code = grant.consumer.code
        entry.detail.update(step=step, status=grant.status)
    return grant


def may_revoke(actor, grant: Grant) -> bool:
    return grant.status == GrantStatus.APPROVED and (
        is_authority(actor) or actor.can(perms.EXCHANGE_PROVIDE, grant.resource.provider)
    )


def revoke_grant(actor, reference: str, *, reason: str, now=None) -> Grant:
    """The provider or the authority withdraws an approved grant; calls under it stop at once."""
    with audit.audited("exchange.grant.revoke", actor=actor, object_type="grant", object_ref=reference):
        grant = get_grant(actor, reference, lock=True)
        if not (is_authority(actor) or actor.can(perms.EXCHANGE_PROVIDE, grant.resource.provider)):
            raise NotPermitted()
        errors = FieldErrors()
        reason = errors.require_text("reason", reason, max_length=200)
        if grant.status != GrantStatus.APPROVED:
            errors.add("status", "not_approved", _("Only an approved grant can be revoked."))
        errors.raise_if_any()
        grant.status, grant.decision_note = GrantStatus.REVOKED, reason
        grant.save(update_fields=["status", "decision_note"])
    return grant


# --- the negative list ------------------------------------------------------------------------------


def negative_list(actor) -> QuerySet:
    if not _may_see_catalogue(actor):
        raise NotPermitted()
    return NegativeEntry.objects.select_related("resource", "created_by")


def add_negative(actor, *, resource_code: str, field_key: str, reason: str, now=None) -> NegativeEntry:
    """Put a field on the negative list: from now on no call returns it and no grant may name it."""
    require(actor, perms.EXCHANGE_AUTHORITY)
    resource = Resource.objects.filter(code=resource_code).first()
    errors = FieldErrors()
    if resource is None:
        errors.add("resource_code", "unknown", _("There is no such data resource."))
    elif field_key not in resource.field_map():
        errors.add("field", "unknown", _("The resource has no such field."))
    elif NegativeEntry.objects.filter(resource=resource, field=field_key).exists():
        errors.add("field", "duplicate", _("This field is already on the negative list."))
    reason = errors.require_text("reason", reason, max_length=200)
    errors.raise_if_any()
    with audit.audited(
        "exchange.negative.add",
        actor=actor,
        object_type="data_resource",
        object_ref=resource.code,
        detail={"field": field_key, "reason": reason},
    ):
        return NegativeEntry.objects.create(
            resource=resource,
            field=field_key,
            reason=reason,
            created_by=getattr(actor, "user", None),
            created_at=now or timezone.now(),
        )


def remove_negative(actor, *, resource_code: str, field_key: str) -> None:
    require(actor, perms.EXCHANGE_AUTHORITY)
    with audit.audited(
        "exchange.negative.remove",
        actor=actor,
        object_type="data_resource",
        object_ref=resource_code,
        detail={"field": field_key},
    ):
        deleted, _rows = NegativeEntry.objects.filter(resource__code=resource_code, field=field_key).delete()
        if not deleted:
            raise NotFound()


# --- calls ------------------------------------------------------------------------------------------


@dataclass
class Answer:
    """What a caller learns. For a verify-only call `record` stays empty and `answer` is the predicate's
    truth (None when the subject is unknown to the provider)."""

    reference: str
    found: bool
    answer: bool | None = None
    record: dict = field(default_factory=dict)
    resource: str = ""
    provider: str = ""


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


class _Refusal(Exception):
    def __init__(self, reason: str, field_name: str, message):
        super().__init__(reason)
        self.reason, self.field_name, self.message = reason, field_name, message


def _check_grant(resource: Resource, consumer: Department, fields: list[str], today: dt.date) -> Grant | None:
    """The approved, unexpired grant covering every field, or a _Refusal saying precisely why not.
    The negative list wins over any grant. A provider reading its own resource needs no grant."""
    banned = store.negative_fields(resource.pk) & set(fields)
    if banned:
        name = sorted(banned)[0]
        raise _Refusal(
            "negative_list", f"fields.{name}", _("This field is on the negative list: it is never shared.")
        )
    if consumer.path.startswith(resource.provider.path):
        return None
    candidates = store.grants_for(resource.pk, _ancestor_paths(consumer.path))
    if not candidates:
        raise _Refusal(
            "no_grant", "resource", _("Your department has no grant for this resource. Request one first.")
        )
    approved = [g for g in candidates if g.status == GrantStatus.APPROVED]
    current = [g for g in approved if g.valid_until >= today]
    if not approved:
        if all(g.status == GrantStatus.REVOKED for g in candidates):
            raise _Refusal("revoked", "resource", _("Your department's grant for this resource was revoked."))
        raise _Refusal("not_approved", "resource", _("Your department's grant is not approved yet."))
    if not current:
        raise _Refusal("expired", "resource", _("Your department's grant for this resource has expired."))
    for grant in current:
        if set(fields) <= set(grant.fields):
            return grant
    granted = set().union(*(g.fields for g in current))
    outside = sorted(set(fields) - granted) or sorted(fields)
    raise _Refusal(
        "outside_grant", f"fields.{outside[0]}", _("This field is outside your department's grant.")
    )


def _consumer(actor, department_code: str | None, resource_code: str) -> Department:
    """The consuming department. Someone who may not query for it at all makes no call, but the
    attempt is journalled (there is no department to count it against in the statistics)."""
    try:
        if department_code:
            department = Department.objects.filter(code=department_code).first()
            if department is None:
                raise InvalidInput.single("department", "unknown", _("There is no such department."))
        else:
            department = _staff_department(actor)
            if department is None:
                raise InvalidInput.single("department", "required", _("Say for which department you ask."))
        require(actor, perms.EXCHANGE_QUERY, department)
    except (InvalidInput, NotPermitted) as exc:
        audit.record(
            "exchange.call",
            actor=actor,
            outcome=AuditOutcome.DENIED if isinstance(exc, NotPermitted) else AuditOutcome.INVALID,
            object_type="data_resource",
            object_ref=str(resource_code)[:40],
            department_code=str(department_code or "")[:40],
            detail={"outcome": "refused", "reason": exc.code},
        )
        raise
    return department


def _log_call(actor, *, call: Call, grant_reference: str, subject_masked: str) -> None:
    """One Call row for the statistics and one journal entry, in one transaction (one BEGIN and one
    COMMIT: the journal entry is written at the end of the audited block, no savepoint)."""
    outcome = {
        CallOutcome.ANSWERED: AuditOutcome.SUCCESS,
        CallOutcome.NOT_FOUND: AuditOutcome.SUCCESS,
        CallOutcome.REFUSED: AuditOutcome.DENIED,
        CallOutcome.FAILED: AuditOutcome.FAILED,
    }[call.outcome]
    with audit.audited(
        "exchange.call",
        actor=actor,
        object_type="data_resource",
        object_ref=call.resource.code if call.resource else "",
        department_code=call.consumer.code,
        detail={
            "reference": call.reference,
            "kind": call.kind,
            "purpose": call.purpose,
            "fields": call.fields,
            "predicate": call.predicate,
            "subject": subject_masked,
            "grant": grant_reference,
            "outcome": call.outcome,
            "reason": call.reason,
            "result_size": call.result_size,
            "latency_ms": round(call.latency_ms, 3),
        },
    ) as entry:
        entry.outcome = outcome
        store.insert_call(call)


def _call(
    actor,
    kind: str,
    resource_code: str,
    *,
    subject: str,
    purpose: str,
    fields: list[str] | None = None,
    predicate: str = "",
    params: dict | None = None,
    department_code: str | None = None,
) -> Answer:
    started = time.perf_counter()
    consumer = _consumer(actor, department_code, resource_code)
    purpose = (purpose or "").strip()[:200]
    store.policy_version()  # one read; the cached resource and negative list are as of this version
    resource = store.resource(str(resource_code)[:40])
    actor_label = audit.actor_identity(actor)[1][:60]
    call = Call(
        reference=_new_reference("X", 6),  # 48 random bits: a million calls a day do not collide
        at=timezone.now(),
        consumer=consumer,
        resource=resource,
        provider=resource.provider if resource else None,
        actor_label=actor_label,
        kind=kind,
        purpose=purpose,
        predicate=predicate[:60],
        outcome=CallOutcome.ANSWERED,
    )
    grant_reference, subject_masked = "", ""
    answer = Answer(reference=call.reference, found=False)
    try:
        if not purpose:
            raise _Refusal("no_purpose", "purpose", _("Say for what purpose you ask; it is logged."))
        if resource is None:
            raise _Refusal("unknown_resource", "resource", _("There is no such data resource."))
        answer.resource, answer.provider = resource.code, resource.provider.name
        if kind == CallKind.VERIFY:
            spec = resource.predicates.get(predicate)
            if spec is None:
                raise _Refusal("unknown_predicate", "predicate", _("The resource has no such predicate."))
            params = params or {}
            for name in spec.get("params", []):
                if params.get(name) in (None, ""):
                    raise _Refusal("missing_param", f"params.{name}", _("This parameter is required."))
            fields = sorted({c[0] for c in spec["all"]})
        else:
            fields = list(dict.fromkeys(fields or []))
            if not fields:
                raise _Refusal("no_fields", "fields", _("Choose at least one field."))
            unknown = [f for f in fields if f not in resource.field_map()]
            if unknown:
                raise _Refusal("unknown_field", f"fields.{unknown[0]}", _("The resource has no such field."))
        call.fields = fields
        key = _normalise_key(resource, halfwidth(str(subject or "")[:40]))
        subject_masked = _mask_key(resource, key)
        call.subject_masked = subject_masked
        if key_check(kind_of_key(resource, key), key):
            raise _Refusal(
                "invalid_subject", "subject", _("The subject is not a valid ID number or credit code.")
            )
        grant = _check_grant(resource, consumer, fields, timezone.localdate())
        call.grant = grant
        grant_reference = grant.reference if grant else "own"
        try:
            record = adapter_for(resource).lookup(resource, key)
        except AdapterFailure:
            call.outcome, call.reason = CallOutcome.FAILED, "provider_failed"
            record = None
        if call.outcome == CallOutcome.ANSWERED:
            if record is None:
                call.outcome = CallOutcome.NOT_FOUND
            elif kind == CallKind.VERIFY:
                answer.found, answer.answer = True, predicates.holds(spec, record, params)
                call.result_size = 1
            else:
                answer.found = True
                answer.record = {f: record.get(f) for f in fields}
                call.result_size = len(fields)
    except _Refusal as refusal:
        call.outcome, call.reason = CallOutcome.REFUSED, refusal.reason
        call.latency_ms = (time.perf_counter() - started) * 1000
        _log_call(actor, call=call, grant_reference=grant_reference, subject_masked=subject_masked)
        raise Refused({refusal.field_name: [FieldProblem(refusal.reason, refusal.message)]}) from None
    call.latency_ms = (time.perf_counter() - started) * 1000
    _log_call(actor, call=call, grant_reference=grant_reference, subject_masked=subject_masked)
    if call.outcome == CallOutcome.FAILED:
        raise DomainError(_("The provider's system did not answer. Try again later."), code="provider_failed")
    return answer


def query(
    actor,
    resource_code: str,
    *,
    subject: str,
    fields: list[str],
    purpose: str,
    department_code: str | None = None,
) -> Answer:
    """The subject's values of `fields`, under the consuming department's grant; logged either way."""
    return _call(
        actor,
        CallKind.QUERY,
        resource_code,
        subject=subject,
        fields=fields,
        purpose=purpose,
        department_code=department_code,
    )


def verify(
    actor,
    resource_code: str,
    predicate: str,
    *,
    subject: str,
    purpose: str,
    params: dict | None = None,
    department_code: str | None = None,
) -> Answer:
    """可用不可见: whether the resource's predicate holds for the subject, revealing no value. One
    indexed lookup for held resources; the grant must cover the fields the predicate reads."""
    return _call(
        actor,
        CallKind.VERIFY,
        resource_code,
        subject=subject,
        predicate=predicate,
        params=params,
        purpose=purpose,
        department_code=department_code,
    )


@dataclass
class Extract:
    """A batch call's answer: each subject's granted fields, by normalised key."""

    reference: str
    records: dict[str, dict]
    resource: str = ""
    provider: str = ""


def extract(
    actor,
    resource_code: str,
    *,
    fields: list[str],
    purpose: str,
    department_code: str | None = None,
) -> Extract:
    """批量比对: the granted fields of every subject a held resource knows, in one call under the
    consuming department's grant — what a matching run over all enterprises needs, where one call
    per subject would log a hundred thousand calls for one purpose. Logged as one call (kind query,
    subject "*", result size = subjects answered), refused and logged exactly as a single query is.
    Records whose key fails its checksum are left out: they name nobody for sure."""
    started = time.perf_counter()
    consumer = _consumer(actor, department_code, resource_code)
    purpose = (purpose or "").strip()[:200]
    store.policy_version()
    resource = store.resource(str(resource_code)[:40])
    call = Call(
        reference=_new_reference("X", 6),
        at=timezone.now(),
        consumer=consumer,
        resource=resource,
        provider=resource.provider if resource else None,
        actor_label=audit.actor_identity(actor)[1][:60],
        kind=CallKind.QUERY,
        purpose=purpose,
        outcome=CallOutcome.ANSWERED,
        subject_masked="*",
    )
    grant_reference = ""
    records: dict[str, dict] = {}
    try:
        if not purpose:
            raise _Refusal("no_purpose", "purpose", _("Say for what purpose you ask; it is logged."))
        if resource is None:
            raise _Refusal("unknown_resource", "resource", _("There is no such data resource."))
        if resource.adapter not in (AdapterKind.TABLE, AdapterKind.FILE):
            raise _Refusal(
                "not_held", "resource", _("Only resources held here can be read in a batch; ask per subject.")
            )
        fields = list(dict.fromkeys(fields or []))
        if not fields:
            raise _Refusal("no_fields", "fields", _("Choose at least one field."))
        unknown = [f for f in fields if f not in resource.field_map()]
        if unknown:
            raise _Refusal("unknown_field", f"fields.{unknown[0]}", _("The resource has no such field."))
        call.fields = fields
        grant = _check_grant(resource, consumer, fields, timezone.localdate())
        call.grant = grant
        grant_reference = grant.reference if grant else "own"
        key_field = resource.key_field
        for data in store.all_record_data(resource.pk):
            key = data.get(key_field)
            if key:
                records[key] = {f: data.get(f) for f in fields}  # later (newer) duplicates win
        call.result_size = len(records)
    except _Refusal as refusal:
        call.outcome, call.reason = CallOutcome.REFUSED, refusal.reason
        call.latency_ms = (time.perf_counter() - started) * 1000
        _log_call(actor, call=call, grant_reference=grant_reference, subject_masked="*")
        raise Refused({refusal.field_name: [FieldProblem(refusal.reason, refusal.message)]}) from None
    call.latency_ms = (time.perf_counter() - started) * 1000
    _log_call(actor, call=call, grant_reference=grant_reference, subject_masked="*")
    return Extract(
        reference=call.reference, records=records, resource=resource.code, provider=resource.provider.name
    )


# --- call log and statistics ------------------------------------------------------------------------


def calls(
    actor,
    *,
    consumer: str = "",
    provider: str = "",
    resource: str = "",
    outcome: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet:
    """Calls the caller's department made or answered; every call for the data authority."""
    qs = Call.objects.select_related("consumer", "provider", "resource")
    if not is_authority(actor):
        if not _may_see_catalogue(actor):
            raise NotPermitted()
        qs = qs.filter(
            actor.scope_q(perms.EXCHANGE_QUERY, "consumer__path")
            | actor.scope_q(perms.EXCHANGE_REQUEST, "consumer__path")
            | actor.scope_q(perms.EXCHANGE_PROVIDE, "provider__path")
        )
    if consumer:
        qs = qs.filter(consumer__code=consumer)
    if provider:
        qs = qs.filter(provider__code=provider)
    if resource:
        qs = qs.filter(resource__code=resource)
    if outcome:
        qs = qs.filter(outcome=outcome)
    tz = timezone.get_current_timezone()
    if since:
        qs = qs.filter(at__gte=dt.datetime.combine(since, dt.time.min, tzinfo=tz))
    if until:
        qs = qs.filter(at__lt=dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs.order_by("-at")


def call_stats(actor, *, by: str = "consumer", **filters) -> list[dict]:
    """Per consumer (or provider) department: calls, answered, refused, failed, mean latency."""
    column = "provider" if by == "provider" else "consumer"
    rows = (
        calls(actor, **filters)
        .order_by()
        .values(f"{column}__code", f"{column}__name")
        .annotate(
            total=Count("id"),
            answered=Count("id", filter=Q(outcome=CallOutcome.ANSWERED)),
            not_found=Count("id", filter=Q(outcome=CallOutcome.NOT_FOUND)),
            refused=Count("id", filter=Q(outcome=CallOutcome.REFUSED)),
            failed=Count("id", filter=Q(outcome=CallOutcome.FAILED)),
            latency=Avg("latency_ms"),
        )
        .order_by("-total")
    )
    out = []
    for row in rows:
        out.append(
            {
                "code": row[f"{column}__code"] or "",
                "name": row[f"{column}__name"] or "—",
                "total": row["total"],
                "answered": row["answered"],
                "not_found": row["not_found"],
                "refused": row["refused"],
                "failed": row["failed"],
                "mean_latency_ms": round(row["latency"] or 0.0, 2),
            }
        )
    return out


@dataclass
class SharingKpis:
    start: dt.date
    end: dt.date
    requests: int
    answered: int
    share_rate: float | None  # 数据共享率: answered / requests made
    departments_providing: int
    departments: int
    provider_rate: float | None  # departments providing / departments
    success_rate: float | None  # calls completed (answered or not found) / calls
    mean_latency_ms: float | None
    p95_latency_ms: float | None


def sharing_kpis(start: dt.date, end: dt.date, *, consumer_code: str = "") -> SharingKpis:
    """KPI inputs for a period (both days included), for insight and reports. Aggregates only, no
    personal data, so no caller check: the layers that show them check their own permission.

    A "request" is a call; it is answered when the provider gave an answer (a record, or a predicate's
    truth). Departments are the active bureaus (top-level organs under the root government);
    a department provides when it has an active resource."""
    tz = timezone.get_current_timezone()
    qs = Call.objects.filter(
        at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )
    if consumer_code:
        consumer = Department.objects.filter(code=consumer_code).first()
        qs = qs.filter(consumer__path__startswith=consumer.path if consumer else "/-/")
    counts = qs.aggregate(
        requests=Count("id"),
        answered=Count("id", filter=Q(outcome=CallOutcome.ANSWERED)),
        completed=Count("id", filter=Q(outcome__in=[CallOutcome.ANSWERED, CallOutcome.NOT_FOUND])),
        latency=Avg("latency_ms", filter=~Q(outcome=CallOutcome.REFUSED)),
        timed=Count("id", filter=~Q(outcome=CallOutcome.REFUSED)),
    )
    p95 = None
    if counts["timed"]:
        position = min(counts["timed"] - 1, int(counts["timed"] * 0.95))
        p95 = (
            qs.exclude(outcome=CallOutcome.REFUSED)
            .order_by("latency_ms")
            .values_list("latency_ms", flat=True)[position : position + 1]
            .first()
        )
    bureaus = Department.objects.filter(is_active=True, kind="bureau")
    providing = bureaus.filter(
        Q(data_resources__is_active=True) | Q(children__data_resources__is_active=True)
    ).distinct()
    departments, providers = bureaus.count(), providing.count()
    requests = counts["requests"]
    return SharingKpis(
        start=start,
        end=end,
        requests=requests,
        answered=counts["answered"],
        share_rate=counts["answered"] / requests if requests else None,
        departments_providing=providers,
        departments=departments,
        provider_rate=providers / departments if departments else None,
        success_rate=counts["completed"] / requests if requests else None,
        mean_latency_ms=counts["latency"],
        p95_latency_ms=p95,
    )
