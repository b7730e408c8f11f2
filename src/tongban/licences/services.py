"""Issuing, verifying and revoking e-licences, and the departments' signing keys.

What a verifier checks is the signature over the canonical payload: sorted keys, UTF-8, no
spaces. The payload names the key (`key_id`) and the issuer, so a licence checks out with the
issuing department's published public key alone, even after that key has been retired — a retired
key signs nothing new, but what it signed stays valid.
"""

import base64
import datetime as dt
import json
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import identity
from tongban.accounts import roles as perms
from tongban.accounts.models import ID_NUMBER_CONTEXT, Department, Person
from tongban.core import audit, crypto, sm2
from tongban.core.authz import SYSTEM, require
from tongban.core.errors import FieldErrors, InvalidInput, NotFound
from tongban.core.identifiers import normalize_id_number, normalize_uscc
from tongban.core.masking import mask_id_number, mask_name
from tongban.core.models import AuditOutcome

from . import render
from .models import HolderKind, KeyStatus, Licence, LicenceStatus, LicenceType, LicenceUse, SigningKey

PAYLOAD_VERSION = 1


def canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


# --- keys ------------------------------------------------------------------------------------------


def active_key(department: Department, now=None) -> SigningKey:
    """The department's signing key, made the first time it signs something."""
    key = SigningKey.objects.filter(department=department, status=KeyStatus.ACTIVE).first()
    if key is None:
        pair = sm2.generate()
        key = SigningKey.objects.create(
            department=department,
            key_id=pair.key_id,
            public_key=pair.public_key,
            private_key_ciphertext=pair.private_key_ciphertext,
            created_at=now or timezone.now(),
        )
    return key


def rotate_key(actor, department_code: str, now=None) -> SigningKey:
    """Retire the department's key and make a new one; what the old one signed still verifies."""
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        raise NotFound()
    require(actor, perms.ORG_MANAGE, department)
    now = now or timezone.now()
    with audit.audited(
        "licences.key.rotate", actor=actor, object_type="department", object_ref=department.code
    ) as entry:
        old = SigningKey.objects.select_for_update().filter(department=department, status=KeyStatus.ACTIVE)
        retired = [k.key_id for k in old]
        old.update(status=KeyStatus.RETIRED, retired_at=now)
        key = active_key(department, now)
        entry.detail.update(retired=retired, key_id=key.key_id)
    return key


def public_keys(department_code: str | None = None) -> list[dict]:
    """Every department's public keys, active and retired: what offline verifiers download."""
    keys = SigningKey.objects.select_related("department").order_by("department__code", "created_at")
    if department_code:
        keys = keys.filter(department__code=department_code)
    return [
        {
            "department": k.department.code,
            "key_id": k.key_id,
            "public_key": k.public_key,
            "status": k.status,
            "created_at": k.created_at,
            "retired_at": k.retired_at,
        }
        for k in keys
    ]


# --- issuing -----------------------------------------------------------------------------------------


def holder_index(kind: str, holder_id: str) -> str:
    """How a holder's licences are found: the USCC itself, or the blind index of the ID number."""
    if kind == HolderKind.ENTERPRISE:
        return normalize_uscc(holder_id)
    return Person.index_id_number(normalize_id_number(holder_id))


def _holder(kind: str, holder_id: str, errors: FieldErrors) -> tuple[str, str]:
    """(normalised id, index): the USCC itself, or an ID number and its blind index."""
    if kind == HolderKind.ENTERPRISE:
        uscc = errors.check("holder_id", normalize_uscc, holder_id)
        return (uscc, uscc) if uscc else ("", "")
    number = errors.check("holder_id", normalize_id_number, holder_id)
    return (number, Person.index_id_number(number)) if number else ("", "")


def _clean_fields(licence_type: LicenceType, values: dict, errors: FieldErrors) -> dict:
    values = values if isinstance(values, dict) else {}
    known = {f["key"]: f for f in licence_type.fields}
    for key in values:
        if key not in known:
            errors.add(f"fields.{key}", "unknown", _("This licence type has no such field."))
    cleaned = {}
    for key, spec in known.items():
        value = values.get(key)
        if value in (None, ""):
            if spec.get("required"):
                errors.add(f"fields.{key}", "required", _("This field is required."))
            continue
        kind = spec.get("type", "text")
        if kind == "date":
            try:
                value = dt.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                errors.add(f"fields.{key}", "date", _("Give a date as YYYY-MM-DD."))
                continue
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                errors.add(f"fields.{key}", "number", _("Give a number."))
                continue
        else:
            value = str(value).strip()
            if len(value) > 500:
                errors.add(f"fields.{key}", "max_length", _("At most 500 characters."))
                continue
        cleaned[key] = value
    return cleaned


def _new_code() -> str:
    """16 characters of base32 (80 random bits), grouped for reading aloud over a phone."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def issue(
    actor,
    type_code: str,
    *,
    holder_id: str,
    holder_name: str,
    fields: dict,
    valid_from: dt.date | None = None,
    case_number: str = "",
    now=None,
) -> Licence:
    """Issue a licence of `type_code` to a person (ID number) or enterprise (USCC), signed by the
    type's issuing department. Needs licence.issue in that department (or the system, handing
    over a case's result)."""
    licence_type = LicenceType.objects.select_related("department").filter(code=type_code).first()
    if licence_type is None:
        raise InvalidInput.single("type", "unknown", _("There is no such licence type."))
    require(actor, perms.LICENCE_ISSUE, licence_type.department)
    errors = FieldErrors()
    holder, index = _holder(licence_type.holder_kind, holder_id, errors)
    name = errors.require_text("holder_name", holder_name, max_length=200)
    cleaned = _clean_fields(licence_type, fields, errors)
    errors.raise_if_any()
    now = now or timezone.now()
    start = valid_from or timezone.localdate(now)
    until = (
        start.replace(year=start.year + licence_type.validity_years) - dt.timedelta(days=1)
        if licence_type.validity_years
        else None
    )
    with audit.audited(
        "licences.licence.issue",
        actor=actor,
        object_type="licence",
        department_code=licence_type.department.code,
        detail={"type": licence_type.code, "case": case_number},
    ) as entry:
        key = active_key(licence_type.department, now)
        code = _new_code()
        payload = {
            "v": PAYLOAD_VERSION,
            "code": code,
            "type": licence_type.code,
            "type_name": licence_type.name,
            "holder": {"kind": licence_type.holder_kind, "id": holder, "name": name},
            "fields": cleaned,
            "issuer": licence_type.department.code,
            "issuer_name": licence_type.department.name,
            "issued_at": now.isoformat(timespec="seconds"),
            "valid_from": start.isoformat(),
            "valid_until": until.isoformat() if until else None,
            "key_id": key.key_id,
        }
        signed = canonical(payload)
        signature = sm2.sign(sm2.KeyPair(key.key_id, key.public_key, key.private_key_ciphertext), signed)
        licence = Licence.objects.create(
            code=code,
            licence_type=licence_type,
            holder_index=index,
            payload=signed.decode(),
            signature=signature.hex(),
            key=key,
            issued_at=now,
            valid_until=until,
            case_number=case_number,
        )
        entry.object_ref = code
    return licence


def revoke(actor, code: str, *, reason: str, now=None) -> Licence:
    licence = Licence.objects.select_related("licence_type__department").filter(code=code).first()
    if licence is None:
        raise NotFound()
    require(actor, perms.LICENCE_ISSUE, licence.licence_type.department)
    errors = FieldErrors()
    reason = errors.require_text("reason", reason, max_length=200)
    errors.raise_if_any()
    now = now or timezone.now()
    with audit.audited(
        "licences.licence.revoke",
        actor=actor,
        object_type="licence",
        object_ref=code,
        detail={"reason": reason},
    ):
        updated = Licence.objects.filter(pk=licence.pk, status=LicenceStatus.VALID).update(
            status=LicenceStatus.REVOKED, revoked_at=now, revoke_reason=reason
        )
        if not updated:
            raise InvalidInput.single("code", "revoked", _("This licence is already revoked."))
    licence.refresh_from_db()
    return licence


# --- verifying ---------------------------------------------------------------------------------------


@dataclass
class Verification:
    """What a verifier learns: the outcome, why, and the masked face of the licence."""

    status: str  # valid | revoked | expired | tampered | unknown
    reason: str
    code: str = ""
    type_name: str = ""
    holder: str = ""  # masked
    issuer: str = ""
    issued_at: str = ""
    valid_until: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "valid"


# key_id → (department code, loaded public key). A key id is the SM3 of its public key, so an entry
# can never go stale: retiring a key changes its status, not what it verifies.
_loaded_keys: dict[str, tuple[str, object]] = {}


def _public_key(key_id: str, issuer: str):
    hit = _loaded_keys.get(key_id)
    if hit is None:
        key = SigningKey.objects.select_related("department").filter(key_id=key_id).first()
        if key is None:
            return None
        hit = _loaded_keys[key_id] = (key.department.code, sm2.public_key_object(key.public_key))
    return hit[1] if hit[0] == issuer else None


def check_signature(payload: bytes, signature_hex: str) -> bool:
    """Does the signature over these payload bytes come from the key the payload names?"""
    try:
        data = json.loads(payload)
        key = _public_key(str(data["key_id"]), str(data["issuer"]))
        signature = bytes.fromhex(signature_hex)
    except (ValueError, KeyError, TypeError):
        return False
    return key is not None and sm2.verify(key, payload, signature)


def verify(code: str, now=None) -> Verification:
    """A licence by its code, as the public verification page and API report it."""
    code = (code or "").strip().upper()
    licence = Licence.objects.filter(code=code).first() if len(code) <= 24 else None
    if licence is None:
        return Verification("unknown", str(_("No licence has this code.")), code=code)
    payload = licence.payload.encode()
    data = json.loads(payload)
    holder = data.get("holder", {})
    face = Verification(
        "valid",
        str(_("The signature is intact and the licence is in force.")),
        code=licence.code,
        type_name=data.get("type_name", ""),
        holder=(
            holder.get("name", "")
            if holder.get("kind") == HolderKind.ENTERPRISE
            else f"{mask_name(holder.get('name', ''))} {mask_id_number(holder.get('id', ''))}"
        ),
        issuer=data.get("issuer_name", ""),
        issued_at=data.get("issued_at", ""),
        valid_until=data.get("valid_until"),
    )
    if data.get("code") != licence.code or not check_signature(payload, licence.signature):
        face.status, face.reason = "tampered", str(_("The signature does not match the licence's content."))
    elif licence.status == LicenceStatus.REVOKED:
        face.status = "revoked"
        face.reason = str(_("Revoked on %(day)s: %(reason)s")) % {
            "day": timezone.localdate(licence.revoked_at).isoformat(),
            "reason": licence.revoke_reason,
        }
    elif face.valid_until and dt.date.fromisoformat(face.valid_until) < timezone.localdate(
        now or timezone.now()
    ):
        face.status, face.reason = "expired", str(_("Expired on %(day)s.")) % {"day": face.valid_until}
    return face


# --- holders: the wallet, and licences standing in for materials ------------------------------------


def status_of(licence: Licence, today: dt.date | None = None) -> str:
    """valid, revoked or expired, as the holder and a relying clerk see it (no signature check)."""
    if licence.status == LicenceStatus.REVOKED:
        return "revoked"
    if licence.valid_until and licence.valid_until < (today or timezone.localdate()):
        return "expired"
    return "valid"


def _person_indexes(person: Person) -> list[str]:
    """The person's ID-number index under the current and retired keys (licences issued before a
    key rotation carry the old index)."""
    return list(crypto.blind_indexes(person.id_number, ID_NUMBER_CONTEXT))


def valid_licence(
    type_code: str, *, person: Person | None = None, uscc: str = "", today=None
) -> Licence | None:
    """The holder's licence of this type that is in force now (the newest), if any."""
    today = today or timezone.localdate()
    indexes = [uscc] if uscc else (_person_indexes(person) if person is not None else [])
    if not indexes:
        return None
    return (
        Licence.objects.select_related("licence_type")
        .filter(licence_type__code=type_code, holder_index__in=indexes, status=LicenceStatus.VALID)
        .filter(models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=today))
        .order_by("-issued_at")
        .first()
    )


@dataclass
class WalletEntry:
    licence: Licence
    data: dict
    status: str  # valid | revoked | expired
    holder_label: str  # "本人" or the enterprise's name
    uses: list


def results_of_case(actor, case_number: str) -> list[WalletEntry]:
    """The licences a case issued that are the actor's (theirs, or an enterprise's they act for):
    what the applicant's case page links to, so a result is one click from the case."""
    return [entry for entry in wallet(actor) if entry.licence.case_number == case_number]


def wallet(actor) -> list[WalletEntry]:
    """The licences of the citizen and of the enterprises they represent, newest first, with where
    each was used (免提交) — what a holder's 证照夹 shows."""
    from tongban.accounts import services as account_services

    if getattr(actor, "is_citizen", False):
        identity.require_assurance(actor, "licences")
    person = getattr(actor, "person", None)
    if person is None:
        return []
    owners = {index: str(_("myself")) for index in _person_indexes(person)}
    for enterprise, _link in account_services.my_enterprises(actor):
        owners[enterprise.uscc] = enterprise.name
    licences = list(
        Licence.objects.select_related("licence_type", "licence_type__department").filter(
            holder_index__in=list(owners)
        )
    )
    uses: dict[int, list] = {}
    for use in LicenceUse.objects.filter(licence__in=licences).order_by("-used_at"):
        uses.setdefault(use.licence_id, []).append(use)
    today = timezone.localdate()
    return [
        WalletEntry(
            licence=lic,
            data=json.loads(lic.payload),
            status=status_of(lic, today),
            holder_label=owners[lic.holder_index],
            uses=uses.get(lic.pk, []),
        )
        for lic in licences
    ]


def access_licence(actor, code: str) -> Licence:
    """A licence its holder (or one who acts for the holding enterprise), or staff who may issue
    it, may see in full; anyone else is told it does not exist. A citizen needs the assurance level
    the wallet needs, whatever the code: the refusal says nothing about the licence."""
    if getattr(actor, "is_citizen", False):
        identity.require_assurance(actor, "licences")
    licence = (
        Licence.objects.select_related("licence_type__department").filter(code=(code or "").upper()).first()
    )
    if licence is None:
        raise NotFound()
    person = getattr(actor, "person", None)
    if person is not None:
        if licence.holder_index in _person_indexes(person):
            return licence
        from tongban.accounts import services as account_services

        if any(e.uscc == licence.holder_index for e, _link in account_services.my_enterprises(actor)):
            return licence
        raise NotFound()
    if actor.can(perms.LICENCE_ISSUE, licence.licence_type.department):
        return licence
    raise NotFound()


def record_uses(case_number: str, references: dict[str, str], *, purpose: str, now=None) -> int:
    """Note that licences stood in for a case's materials (with the holder's consent), for the
    holder's wallet and the journal."""
    now = now or timezone.now()
    by_code = {lic.code: lic for lic in Licence.objects.filter(code__in=set(references.values()))}
    rows = [
        LicenceUse(
            licence=by_code[code], case_number=case_number, material=material, purpose=purpose, used_at=now
        )
        for material, code in references.items()
        if code in by_code
    ]
    LicenceUse.objects.bulk_create(rows)
    return len(rows)


# --- hand-over from a case ---------------------------------------------------------------------------


def stand_in(type_code: str, *, person: Person | None, enterprise_uscc: str = "") -> Licence | None:
    """The licence of this type in force that stands in for a material (免提交): the enterprise's
    for enterprise licences, the person's for personal ones."""
    kind = LicenceType.objects.filter(code=type_code).values_list("holder_kind", flat=True).first()
    if kind is None:
        return None
    if kind == HolderKind.ENTERPRISE:
        return valid_licence(type_code, uscc=enterprise_uscc) if enterprise_uscc else None
    return valid_licence(type_code, person=person) if person is not None else None


def issue_for_case(
    case_number: str,
    type_code: str,
    *,
    person_id_number: str,
    person_name: str,
    enterprise_uscc: str = "",
    enterprise_name: str = "",
    data: dict | None = None,
    now=None,
) -> Licence | None:
    """A decided case's result becomes a licence (cases hands it over after 出件).

    The holder is the case's enterprise (never a code typed into the form) for enterprise licences, the
    applicant for personal ones; each field is taken from the form keys its spec names under
    "from". Handing the same case over twice issues one licence. When the holder or a required
    field is missing the hand-over is refused and journalled, and nothing is issued.
    """
    existing = Licence.objects.filter(case_number=case_number, licence_type__code=type_code).first()
    if existing is not None:
        return existing
    licence_type = LicenceType.objects.filter(code=type_code).first()
    if licence_type is None:
        audit.record(
            "licences.handover.skipped",
            actor=SYSTEM,
            object_type="case",
            object_ref=case_number,
            detail={"type": type_code, "reason": "no such licence type"},
        )
        return None
    data = data or {}
    if licence_type.holder_kind == HolderKind.ENTERPRISE:
        # Only the enterprise the case was made for, whose representation cases checked: a code
        # typed into the form is no holder (it gave a stranger's licence to whoever typed it).
        holder_id, holder_name = enterprise_uscc, enterprise_name
    else:
        holder_id, holder_name = person_id_number, person_name
    fields = {}
    for spec in licence_type.fields:
        for source in spec.get("from", []):
            if data.get(source) not in (None, ""):
                fields[spec["key"]] = data[source]
                break
    try:
        return issue(
            SYSTEM,
            type_code,
            holder_id=holder_id,
            holder_name=holder_name,
            fields=fields,
            case_number=case_number,
            now=now,
        )
    except IntegrityError:
        # A second delivery of the same hand-over won the race (one_licence_per_case_and_type).
        return Licence.objects.get(case_number=case_number, licence_type__code=type_code)
    except InvalidInput as error:
        audit.record(
            "licences.handover.refused",
            actor=SYSTEM,
            outcome=audit.AuditOutcome.INVALID,
            object_type="case",
            object_ref=case_number,
            detail={"type": type_code, "fields": sorted(error.fields)},
        )
        return None


def revoke_for_case(case_number: str, *, reason: str, now=None) -> list[str]:
    """The approval behind these licences was revoked (a failed 事后核查): revoke them too."""
    valid = Licence.objects.filter(case_number=case_number, status=LicenceStatus.VALID)
    codes = list(valid.values_list("code", flat=True))
    revoked = []
    for code in codes:
        try:
            revoke(SYSTEM, code, reason=reason, now=now)
        except InvalidInput:
            continue  # revoked meanwhile by another delivery of the same job
        revoked.append(code)
    return revoked


# --- scanning: what a clerk's scanner or a photo of the QR gives ----------------------------------


@dataclass
class ScanResult:
    """The offline check of the QR (signature, key, expiry) and, where we know the licence, the
    online one (revocation): the status shown is the worse of the two."""

    status: str  # valid | revoked | expired | tampered | unknown_key | unreadable
    reason: str
    offline: object  # render.OfflineResult
    online: Verification | None


def scan_text(actor, text: str) -> ScanResult:
    """扫码核验 of what a handheld scanner typed: the QR's text, never parsed as a file."""
    result = _scan((text or "")[: render.MAX_QR_TEXT + 1])
    _journal_scan(actor, result)
    return result


def scan_upload(actor, name: str, content: bytes) -> ScanResult:
    """扫码核验 of an uploaded photo, scan or PDF of a licence. A file that is not safe to decode is
    refused with InvalidInput (field "file") and journalled as such."""
    try:
        text = render.read_qr_file(name, content)
    except InvalidInput as refused:
        problems = sorted({p.code for problems in refused.fields.values() for p in problems})
        audit.record(
            "licences.licence.scan",
            actor=actor,
            outcome=AuditOutcome.INVALID,
            object_type="licence",
            detail={"problems": problems},
        )
        raise
    result = _scan(text)
    _journal_scan(actor, result)
    return result


def _scan(text: str) -> ScanResult:
    offline = render.verify_offline(text, render.key_table(public_keys()))
    online = verify(offline.code) if offline.ok and offline.code else None
    if online is not None and online.status in ("revoked", "expired"):
        return ScanResult(online.status, online.reason, offline, online)
    return ScanResult(offline.status, offline.reason, offline, online)


def _journal_scan(actor, result: ScanResult) -> None:
    audit.record(
        "licences.licence.scan",
        actor=actor,
        object_type="licence",
        object_ref=result.offline.code,
        detail={"status": result.status},
    )


# --- import: licences a department issued before (or elsewhere) -------------------------------------

MAX_IMPORT_ROWS = 50_000


def import_licences(actor, type_code: str, rows: list[dict], *, now=None) -> list[Licence]:
    """Issue a batch of licences of one type from a department's records (CSV rows: holder_id,
    holder_name, valid_from, and the type's field keys), all or nothing: every row is checked
    first and any problem is reported as rows.<n>.<field>, with nothing issued."""
    licence_type = LicenceType.objects.select_related("department").filter(code=type_code).first()
    if licence_type is None:
        raise InvalidInput.single("type", "unknown", _("There is no such licence type."))
    require(actor, perms.LICENCE_ISSUE, licence_type.department)
    if not rows:
        raise InvalidInput.single("file", "empty", _("The file holds no licences."))
    if len(rows) > MAX_IMPORT_ROWS:
        raise InvalidInput.single("file", "too_many", _("At most 50,000 licences at a time."))
    errors = FieldErrors()
    checked = []
    for n, row in enumerate(rows, start=1):
        one = FieldErrors()
        _holder(licence_type.holder_kind, str(row.get("holder_id", "")), one)
        one.require_text("holder_name", str(row.get("holder_name", "")), max_length=200)
        fields = {k: v for k, v in row.items() if k not in ("holder_id", "holder_name", "valid_from")}
        valid_from = None
        if row.get("valid_from"):
            try:
                valid_from = dt.date.fromisoformat(str(row["valid_from"]))
            except ValueError:
                one.add("valid_from", "date", _("Give a date as YYYY-MM-DD."))
        _clean_fields(licence_type, {k: v for k, v in fields.items() if v not in (None, "")}, one)
        for name, problems in one.fields.items():
            for problem in problems:
                errors.add(f"rows.{n}.{name}", problem.code, problem.message)
        checked.append((row, fields, valid_from))
    errors.raise_if_any()
    issued = []
    with audit.audited(
        "licences.licence.import",
        actor=actor,
        object_type="licence_type",
        object_ref=type_code,
        department_code=licence_type.department.code,
        detail={"rows": len(rows)},
    ):
        for row, fields, valid_from in checked:
            issued.append(
                issue(
                    actor,
                    type_code,
                    holder_id=str(row["holder_id"]),
                    holder_name=str(row["holder_name"]),
                    fields={k: v for k, v in fields.items() if v not in (None, "")},
                    valid_from=valid_from,
                    now=now,
                )
            )
    return issued
