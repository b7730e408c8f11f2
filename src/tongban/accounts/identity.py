"""Identity assurance (实名认证): how sure we are that an account is the person it is bound to.

Levels, as Chinese government portals grade them:

- L1 实名: name and ID number belong together in the population register (公安人口库). Asked
  through a verify-only call (可用不可见) that the exchange answers and logs; accounts only knows the
  `RegisterCheck` protocol, named by `TONGBAN_POPULATION_REGISTER`. With none configured, L1 cannot
  be reached online — it is never granted by default.
- L2: L1 plus a mobile number proved by a one-time SMS code (`core.sms`).
- L3: the ID card checked in person by a window clerk, or a face check by an external service
  (`FaceCheck`, named by `TONGBAN_FACE_CHECK`).

A self-registered account gets no Person at first, only an `IdentityClaim`. L1 binds it to the
person (made, or found unbound). A claim on an ID number that another account is bound to is
settled at a window only; the registrant hears exactly what a registrant whose name did not match
hears, and registration does the same work either way, so neither the answer nor its timing tells a
stranger which numbers are registered.

`require_assurance(actor, purpose)` is the gate the licence wallet, 免提交 and shared data about a
person call in their services (`TONGBAN_ASSURANCE_REQUIRED`, L2 by default).
"""

import datetime as dt
import logging
import secrets
import unicodedata
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from tongban.core import audit, crypto, sms
from tongban.core.authz import require
from tongban.core.errors import (
    Conflict,
    DomainError,
    FieldErrors,
    Formatted,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from tongban.core.i18n import Later
from tongban.core.identifiers import normalize_id_number, normalize_mobile
from tongban.core.masking import mask_id_number, mask_phone
from tongban.core.models import AuditOutcome

from . import roles as perms
from .models import (
    ID_NUMBER_CONTEXT,
    AssuranceLevel,
    ClaimStatus,
    IdentityClaim,
    IdentityVerification,
    NotificationKind,
    Person,
    PhoneChallenge,
    User,
    UserKind,
    VerificationMethod,
)

log = logging.getLogger(__name__)

NAME_MAX = 50
SMS_CODE_TEMPLATE = sms.register_template(
    "identity.code",
    "【通办】您的实名认证验证码为{code}，{minutes}分钟内有效。请勿告诉他人；如非本人操作，请忽略本短信。",
    ("code", "minutes"),
)


def clean_name(raw: str | None) -> str:
    """A name as the register compares it: NFKC (full-width letters, compatibility forms), no outer
    space, inner runs of space as one, the middle dots of minority names as one dot."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    text = " ".join(text.split())
    for dot in ("•", "・", "‧", "∙", "⋅", "．"):
        text = text.replace(dot, "·")
    return text


# --- the gate ---------------------------------------------------------------------------------------

PURPOSES = {
    "licences": _("your licence wallet"),
    "reuse": _("licences and shared data standing in for materials (免提交)"),
    "shared_data": _("data other departments hold about you"),
    "apply": _("applying online"),
    "phone": _("verifying your mobile number"),
    "face_check": _("the face check"),
}


class AssuranceRequired(NotPermitted):
    """The citizen's identity is not verified well enough for this. Says how to raise it."""

    code = "assurance_required"

    def __init__(self, required: int, current: int, purpose: str):
        super().__init__(
            Formatted(
                _(
                    "%(what)s needs identity verification at level L%(required)d; your account is at "
                    "L%(current)d. Raise it under My account → Identity verification (实名认证)."
                ),
                {"what": PURPOSES.get(purpose, purpose), "required": required, "current": current},
            )
        )
        self.required, self.current, self.purpose = required, current, purpose

    @property
    def link(self) -> str:
        return reverse("accounts:identity")

    def as_dict(self) -> dict:
        data = super().as_dict()
        data.update(required_level=self.required, current_level=self.current, link=self.link)
        return data


def required_level(purpose: str) -> int:
    return int(settings.TONGBAN_ASSURANCE_REQUIRED.get(purpose, settings.TONGBAN_ASSURANCE_MIN_LEVEL))


def level_of(actor) -> int:
    """The assurance of the actor's own binding to their person (0 without one)."""
    person = getattr(actor, "person", None)
    user = getattr(actor, "user", None)
    if person is None or user is None or person.user_id != user.pk:
        return AssuranceLevel.NONE
    return person.assurance_level


def meets(actor, purpose: str) -> bool:
    return level_of(actor) >= required_level(purpose)


def require_assurance(actor, purpose: str) -> None:
    """For citizens: refuse unless their identity is verified at the level `purpose` needs. Staff and
    systems are governed by their roles instead, so this is called on the person's path only."""
    needed = required_level(purpose)
    current = level_of(actor)
    if current < needed:
        raise AssuranceRequired(needed, current, purpose)


# --- who answers: the population register and a face-check service ---------------------------------


@dataclass(frozen=True)
class RegisterAnswer:
    """The population register's verdict on a name and an ID number. `matched` is None when it could
    not answer (none configured, no grant, provider down); `reference` is the call's log reference."""

    matched: bool | None
    reference: str = ""
    reason: str = ""


def population_register():
    """The configured `check(*, name, id_number) -> RegisterAnswer`, or None."""
    path = settings.TONGBAN_POPULATION_REGISTER
    return import_string(path) if path else None


def ask_register(name: str, id_number: str) -> RegisterAnswer:
    check = population_register()
    if check is None:
        return RegisterAnswer(None, reason="not_configured")
    try:
        answer = check(name=name, id_number=id_number)
    except Exception as exc:  # a broken provider must not break the page; the citizen may retry
        log.warning("population register check failed: %s", type(exc).__name__)
        return RegisterAnswer(None, reason="failed")
    return answer if isinstance(answer, RegisterAnswer) else RegisterAnswer(None, reason="bad_answer")


@dataclass(frozen=True)
class FaceCheckResult:
    matched: bool
    reference: str = ""  # the service's own reference for the check, kept as evidence


class FaceCheck:
    """An external face-check service (e.g. the 公安 CTID platform or a licensed vendor): the citizen
    takes the live check in the vendor's client, which yields `evidence` (a token); the service then
    says whether that face belongs to the ID number. Subclasses live in the deployment's package."""

    name = "abstract"

    def verify(self, *, name: str, id_number: str, evidence: str) -> FaceCheckResult:
        raise NotImplementedError


def face_check() -> FaceCheck | None:
    path = settings.TONGBAN_FACE_CHECK
    return import_string(path)() if path else None


class Unavailable(DomainError):
    status = 503
    code = "unavailable"


class NotOffered(Unavailable):
    """A way of verifying this install does not offer (no face-check service is configured): not a
    fault of the server that retrying could get past, so a 409 that says where to go instead."""

    status = 409


class NotVerified(DomainError):
    """Online verification did not succeed. One message for every reason that concerns the identity
    (no such person, another name, the number held by another account), so it reveals none."""

    status = 422
    code = "not_verified"
    default_message = _(
        "The name and ID number could not be verified online. Check them and try again, or verify in "
        "person at a service window with your ID card."
    )


# --- registration -----------------------------------------------------------------------------------


def open_claim(user: User) -> IdentityClaim | None:
    return IdentityClaim.objects.filter(
        user=user, status__in=[ClaimStatus.PENDING, ClaimStatus.WINDOW]
    ).first()


def _bound_elsewhere(id_number: str, user: User | None = None) -> bool:
    bound = Person.objects.with_id_number(id_number).filter(user__isnull=False)
    if user is not None:
        bound = bound.exclude(user=user)
    return bound.exists()


def start_claim(user: User, *, name: str, id_number: str, phone: str) -> IdentityClaim:
    """The registrant's identity as they state it (inside registration's transaction). The same
    query and insert run whether or not the number is bound to someone else: only the status differs,
    and the registrant never sees it."""
    status = ClaimStatus.WINDOW if _bound_elsewhere(id_number) else ClaimStatus.PENDING
    return IdentityClaim.objects.create(user=user, name=name, id_number=id_number, phone=phone, status=status)


# --- what the citizen sees --------------------------------------------------------------------------


@dataclass
class IdentityStatus:
    level: int
    required: int  # for the licence wallet
    name: str
    id_number_masked: str
    phone: str
    phone_masked: str
    bound: bool
    register_available: bool
    face_check_available: bool
    attempts_left: int
    resend_in: int  # seconds before another SMS code may be asked for
    code_pending: bool
    verifications: list = field(default_factory=list)

    @property
    def level_label(self) -> str:
        return str(AssuranceLevel(self.level).label)


def _own_user(actor) -> User:
    user = getattr(actor, "user", None)
    if user is None or not getattr(actor, "is_authenticated", False) or user.kind != UserKind.CITIZEN:
        raise NotPermitted(_("Identity verification is for citizen accounts."))
    return user


def _attempts_left(claim: IdentityClaim | None, now) -> int:
    limit = settings.TONGBAN_IDENTITY_DAILY_ATTEMPTS
    if claim is None or claim.attempts_since is None or now - claim.attempts_since >= dt.timedelta(days=1):
        return limit
    return max(0, limit - claim.online_attempts)


def identity_status(actor, now=None) -> IdentityStatus:
    """The citizen's own level and what they may do next. A pending claim and one held for the
    window look the same here."""
    user = _own_user(actor)
    now = now or timezone.now()
    person = getattr(actor, "person", None)
    claim = open_claim(user)
    source = person or claim
    last = (
        PhoneChallenge.objects.filter(person=person).order_by("-sent_at").first()
        if person is not None
        else None
    )
    resend_in = 0
    if last is not None:
        resend_in = max(0, int((last.sent_at + _resend_gap() - now).total_seconds()))
    return IdentityStatus(
        level=level_of(actor),
        required=required_level("licences"),
        name=source.name if source else "",
        id_number_masked=mask_id_number(source.id_number) if source else "",
        phone=(source.phone or "") if source else "",
        phone_masked=mask_phone(source.phone) if source else "",
        bound=person is not None,
        register_available=population_register() is not None,
        face_check_available=face_check() is not None,
        attempts_left=_attempts_left(claim, now),
        resend_in=resend_in,
        code_pending=last is not None and last.used_at is None and last.expires_at > now,
        verifications=list(person.verifications.all()[:10]) if person is not None else [],
    )


# --- L1: the population register ----------------------------------------------------------------------


def _record(person: Person, user: User | None, level: int, method: str, evidence: str, by: User | None, now):
    IdentityVerification.objects.create(
        person=person,
        user=user,
        level=level,
        method=method,
        evidence=evidence[:120],
        verified_by=by,
        verified_at=now,
    )


def _bind_online(claim: IdentityClaim, user: User, reference: str, now) -> Person | None:
    """Bind the account to the person the register confirmed; None if another account holds the
    number (the claim then waits for a window). Inside the caller's transaction."""
    person = Person.objects.with_id_number(claim.id_number).select_for_update().first()
    if person is not None and person.user_id not in (None, user.pk):
        claim.status = ClaimStatus.WINDOW
        return None
    try:
        with transaction.atomic():
            if person is None:
                person = Person(id_number=claim.id_number)
            # A level belongs to a binding: a person found unbound starts again at L1.
            kept = person.assurance_level if person.user_id == user.pk else AssuranceLevel.NONE
            person.user, person.name = user, claim.name
            if claim.phone:
                person.phone = claim.phone
            person.assurance_level = max(AssuranceLevel.REAL_NAME, kept)
            person.save()
    except IntegrityError:  # someone bound the number a moment ago
        claim.status = ClaimStatus.WINDOW
        return None
    _record(
        person, user, AssuranceLevel.REAL_NAME, VerificationMethod.POPULATION_REGISTER, reference, None, now
    )
    claim.status, claim.person, claim.resolved_at = ClaimStatus.VERIFIED, person, now
    return person


def verify_real_name(actor, *, name: str | None = None, id_number: str | None = None, now=None) -> Person:
    """L1: ask the population register whether the name and ID number belong together; on a match,
    bind the account to that person. Citizens without a bound person may correct what they typed at
    registration. A few attempts a day per account: each one asks the register about a name."""
    user = _own_user(actor)
    now = now or timezone.now()
    person = getattr(actor, "person", None)
    if person is not None and person.assurance_level >= AssuranceLevel.REAL_NAME:
        return person
    claim = open_claim(user)
    errors = FieldErrors()
    if person is not None:
        # Bound before assurance existed (or by the seed): check the person as recorded.
        if claim is None:
            claim = IdentityClaim(user=user, name=person.name, id_number=person.id_number, phone=person.phone)
    else:
        typed_name = clean_name(name) if name is not None else (claim.name if claim else "")
        typed_number = id_number if id_number is not None else (claim.id_number if claim else "")
        typed_name = errors.require_text("name", typed_name, max_length=NAME_MAX)
        typed_number = errors.check("id_number", normalize_id_number, typed_number)
        errors.raise_if_any()
        if claim is None:
            claim = IdentityClaim(user=user, phone="")
        claim.name, claim.id_number = typed_name, typed_number
        claim.status = ClaimStatus.WINDOW if _bound_elsewhere(typed_number, user) else ClaimStatus.PENDING
    if _attempts_left(claim, now) <= 0:
        audit.record(
            "accounts.identity.real_name",
            actor=actor,
            outcome=AuditOutcome.DENIED,
            object_type="identity_claim",
            object_ref=str(claim.public_id),
            detail={"error": "too_many_attempts"},
        )
        raise InvalidInput.single(
            "id_number",
            "too_many_attempts",
            _("Too many verification attempts today. Try again tomorrow, or verify at a service window."),
        )
    if claim.attempts_since is None or now - claim.attempts_since >= dt.timedelta(days=1):
        claim.attempts_since, claim.online_attempts = now, 0
    claim.online_attempts += 1
    # The same call whatever the claim's status, so the time it takes tells nothing.
    answer = ask_register(claim.name, claim.id_number)
    claim.register_match, claim.register_reference = answer.matched, answer.reference[:40]
    bound = None
    with audit.audited(
        "accounts.identity.real_name",
        actor=actor,
        object_type="identity_claim",
        detail={"register": answer.reference, "answer": answer.reason or answer.matched},
    ) as entry:
        claim.save()
        entry.object_ref = str(claim.public_id)
        if answer.matched and claim.status == ClaimStatus.PENDING:
            bound = _bind_online(claim, user, answer.reference, now)
            claim.save()
        if bound is None:
            entry.outcome = AuditOutcome.FAILED
        else:
            entry.detail["person"] = str(bound.public_id)
    if bound is not None:
        _forget_person(actor)
        return bound
    if answer.matched is None:
        raise Unavailable(
            _(
                "Online identity verification is not available at the moment. "
                "Try later, or verify at a window."
            )
        )
    raise NotVerified()


def _forget_person(actor) -> None:
    actor.__dict__.pop("person", None)  # Actor.person is a cached property


# --- L2: a mobile number proved by an SMS code -----------------------------------------------------


def _resend_gap() -> dt.timedelta:
    return dt.timedelta(seconds=settings.TONGBAN_SMS_RESEND_SECONDS)


def _code_digest(person: Person, phone: str, code: str) -> str:
    key = crypto.derived_key("sms-code-v1")
    return crypto.hmac_sm3(key, f"{person.public_id}\x00{phone}\x00{code}".encode()).hex()


def _own_person(actor, purpose: str, least: int) -> Person:
    _own_user(actor)
    person = getattr(actor, "person", None)
    current = level_of(actor)
    if person is None or current < least:
        raise AssuranceRequired(least, current, purpose)
    return person


@dataclass(frozen=True)
class CodeSent:
    phone_masked: str
    expires_at: dt.datetime
    resend_at: dt.datetime
    delivered: bool  # False with the console sender: the code is in the outbox, not on a phone


def send_phone_code(actor, *, phone: str | None = None, now=None) -> CodeSent:
    """Send a one-time code to the given (or recorded) mobile number. Codes are kept only as a keyed
    hash; one per cool-down, a few per day."""
    person = _own_person(actor, "phone", AssuranceLevel.REAL_NAME)
    now = now or timezone.now()
    errors = FieldErrors()
    number = errors.check("phone", normalize_mobile, phone if phone not in (None, "") else person.phone)
    errors.raise_if_any()
    recent = PhoneChallenge.objects.filter(person=person, sent_at__gt=now - dt.timedelta(days=1))
    last = recent.order_by("-sent_at").first()
    if last is not None and last.sent_at + _resend_gap() > now:
        wait = int((last.sent_at + _resend_gap() - now).total_seconds()) + 1
        raise InvalidInput.single(
            "phone",
            "too_soon",
            Formatted(_("Wait %(s)d seconds before asking for another code."), {"s": wait}),
        )
    if recent.count() >= settings.TONGBAN_SMS_DAILY_LIMIT:
        raise InvalidInput.single(
            "phone", "daily_limit", _("No more codes today for this account. Try again tomorrow.")
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    minutes = settings.TONGBAN_SMS_CODE_MINUTES
    with audit.audited(
        "accounts.identity.sms_code",
        actor=actor,
        object_type="person",
        object_ref=str(person.public_id),
        detail={"phone": mask_phone(number)},
    ):
        PhoneChallenge.objects.filter(person=person, used_at__isnull=True).update(expires_at=now)
        challenge = PhoneChallenge.objects.create(
            person=person,
            phone=number,
            code_digest=_code_digest(person, number, code),
            sent_at=now,
            expires_at=now + dt.timedelta(minutes=minutes),
        )
    sender = sms.sender()
    try:
        message_id = sms.send(number, SMS_CODE_TEMPLATE.key, {"code": code, "minutes": str(minutes)})
    except sms.SmsFailure as exc:
        PhoneChallenge.objects.filter(pk=challenge.pk).update(expires_at=now)
        audit.record(
            "accounts.identity.sms_code",
            actor=actor,
            outcome=AuditOutcome.FAILED,
            object_type="person",
            object_ref=str(person.public_id),
            detail={"error": str(exc)[:80], "sender": sender.name},
        )
        raise DomainError(
            _("The text message could not be sent. Try again in a moment."), code="sms_failed"
        ) from None
    PhoneChallenge.objects.filter(pk=challenge.pk).update(message_id=message_id[:80])
    return CodeSent(mask_phone(number), challenge.expires_at, now + _resend_gap(), sender.delivers)


def confirm_phone_code(actor, *, code: str, now=None) -> Person:
    """L2: the code sent last, typed back within its time and tries, proves the number."""
    person = _own_person(actor, "phone", AssuranceLevel.REAL_NAME)
    now = now or timezone.now()
    typed = "".join((code or "").split())
    with transaction.atomic():
        challenge = (
            PhoneChallenge.objects.select_for_update()
            .filter(person=person, used_at__isnull=True)
            .order_by("-sent_at")
            .first()
        )
        if challenge is None or challenge.expires_at <= now:
            raise InvalidInput.single(
                "code", "expired", _("The code has expired or was not sent. Ask for a new one.")
            )
        if challenge.attempts >= settings.TONGBAN_SMS_CODE_ATTEMPTS:
            raise InvalidInput.single("code", "too_many", _("Too many wrong codes. Ask for a new one."))
        ok = typed.isdigit() and crypto.constant_time_equal(
            _code_digest(person, challenge.phone, typed), challenge.code_digest
        )
        with audit.audited(
            "accounts.identity.phone",
            actor=actor,
            object_type="person",
            object_ref=str(person.public_id),
            detail={"phone": mask_phone(challenge.phone)},
        ) as entry:
            challenge.attempts += 1
            if ok:
                challenge.used_at = now
                person.phone = challenge.phone
                person.assurance_level = max(person.assurance_level, AssuranceLevel.PHONE)
                person.save()
                _record(
                    person,
                    actor.user,
                    AssuranceLevel.PHONE,
                    VerificationMethod.SMS,
                    mask_phone(challenge.phone),
                    None,
                    now,
                )
            else:
                entry.outcome = AuditOutcome.FAILED
            challenge.save(update_fields=["attempts", "used_at"])
    if not ok:
        left = max(0, settings.TONGBAN_SMS_CODE_ATTEMPTS - challenge.attempts)
        raise InvalidInput.single(
            "code", "wrong", Formatted(_("The code is wrong. %(n)d tries left for this code."), {"n": left})
        )
    return person


def phone_changed(person: Person) -> None:
    """A new, unproved number: L2 rested on the old one (L3 on the ID card, so it stays)."""
    if person.assurance_level == AssuranceLevel.PHONE:
        person.assurance_level = AssuranceLevel.REAL_NAME


# --- L3: in person at a window, or a face check ------------------------------------------------------


def verify_by_face(actor, *, evidence: str, now=None) -> Person:
    """L3 online: the configured face-check service confirms the person behind the account."""
    checker = face_check()
    if checker is None:
        raise NotOffered(_("Face check is not available here. Verify in person at a service window."))
    person = _own_person(actor, "face_check", AssuranceLevel.REAL_NAME)
    now = now or timezone.now()
    evidence = (evidence or "").strip()
    if not evidence or len(evidence) > 4000:
        raise InvalidInput.single("evidence", "invalid", _("The face check's result is missing or too long."))
    result = checker.verify(name=person.name, id_number=person.id_number, evidence=evidence)
    with audit.audited(
        "accounts.identity.face_check",
        actor=actor,
        object_type="person",
        object_ref=str(person.public_id),
        detail={"service": checker.name, "reference": result.reference[:80]},
    ) as entry:
        if result.matched:
            person.assurance_level = AssuranceLevel.IN_PERSON
            person.save(update_fields=["assurance_level", "updated_at"])
            _record(
                person,
                actor.user,
                AssuranceLevel.IN_PERSON,
                VerificationMethod.FACE_CHECK,
                f"{checker.name}:{result.reference}",
                None,
                now,
            )
        else:
            entry.outcome = AuditOutcome.FAILED
    if not result.matched:
        raise InvalidInput.single(
            "evidence",
            "not_matched",
            _("The face check did not confirm your identity. Try again, or verify at a window."),
        )
    return person


def _claims_for_number(id_number: str) -> QuerySet:
    return IdentityClaim.objects.filter(
        id_number_index__in=crypto.blind_indexes(id_number, ID_NUMBER_CONTEXT)
    )


def list_claims(actor, *, id_number: str = "", status: str = ClaimStatus.WINDOW) -> QuerySet:
    """Claims for the window: those waiting for it, or every open claim on one exact ID number (for
    the applicant at the desk). Looking a number up is journalled like any applicant lookup."""
    require(actor, perms.IDENTITY_VERIFY)
    claims = IdentityClaim.objects.select_related("user").order_by("created_at", "id")
    if id_number:
        errors = FieldErrors()
        number = errors.check("id_number", normalize_id_number, id_number)
        errors.raise_if_any()
        audit.record(
            "accounts.identity.claim_lookup",
            actor=actor,
            object_type="identity_claim",
            detail={"query": mask_id_number(number)},
        )
        return (
            _claims_for_number(number)
            .filter(status__in=[ClaimStatus.PENDING, ClaimStatus.WINDOW])
            .order_by("created_at", "id")
        )
    return claims.filter(status=status) if status else claims


def access_claim(actor, public_id) -> IdentityClaim:
    require(actor, perms.IDENTITY_VERIFY)
    from .services import _uuid_or_none

    claim = (
        IdentityClaim.objects.select_related("user", "person")
        .filter(public_id=_uuid_or_none(public_id))
        .first()
    )
    if claim is None:
        raise NotFound()
    return claim


def number_is_bound_elsewhere(claim: IdentityClaim) -> bool:
    """For the clerk: is the claimed number bound to another account (a re-binding)?"""
    return _bound_elsewhere(claim.id_number, claim.user)


def resolve_claim(
    actor,
    public_id,
    *,
    approve: bool,
    id_number: str = "",
    name: str = "",
    note: str = "",
    now=None,
) -> IdentityClaim:
    """A clerk settles a claim with the registrant in front of them. To approve, the clerk types the
    ID number and name from the card they hold: the number must be the claimed one; the name on the
    card is what the person is recorded under. The account is bound to that person at L3 — taken
    from any other account that held it, whose owner is told — or the claim is rejected."""
    claim = access_claim(actor, public_id)
    now = now or timezone.now()
    clerk = getattr(actor, "user", None)
    errors = FieldErrors()
    note = (note or "").strip()
    if len(note) > 200:
        errors.add("note", "max_length", Formatted(_("At most %(n)d characters."), {"n": 200}))
    if not claim.is_open:
        raise Conflict(_("This claim has already been settled."))
    if approve:
        number = errors.check("id_number", normalize_id_number, id_number)
        card_name = errors.require_text("name", clean_name(name), max_length=NAME_MAX)
        if number and number != claim.id_number:
            errors.add("id_number", "mismatch", _("The number on the ID card is not the one claimed."))
    else:
        if not note:
            errors.add("note", "required", _("Say why the claim is rejected."))
    claimant = claim.user
    own = Person.objects.filter(user=claimant).first()
    if approve and own is not None and own.id_number != claim.id_number:
        errors.add("id_number", "bound", _("This account is already bound to another person."))
    errors.raise_if_any()
    previous = None
    with audit.audited(
        "accounts.identity.claim_approve" if approve else "accounts.identity.claim_reject",
        actor=actor,
        object_type="identity_claim",
        object_ref=str(claim.public_id),
        detail={"account": claimant.username},
    ) as entry:
        claim = IdentityClaim.objects.select_for_update().get(pk=claim.pk)
        if not claim.is_open:
            raise Conflict(_("This claim has already been settled."))
        if approve:
            person = Person.objects.with_id_number(claim.id_number).select_for_update().first()
            if person is not None and person.user_id not in (None, claimant.pk):
                previous = person.user
                person.user = None
                person.save(update_fields=["user", "updated_at"])  # free the one-to-one before rebinding
            if person is None:
                person = Person(id_number=claim.id_number)
            person.user, person.name = claimant, card_name
            if claim.phone:
                person.phone = claim.phone
            person.assurance_level = AssuranceLevel.IN_PERSON
            person.save()
            _record(
                person,
                claimant,
                AssuranceLevel.IN_PERSON,
                VerificationMethod.WINDOW,
                clerk.username if clerk else "",
                clerk,
                now,
            )
            claim.status, claim.person = ClaimStatus.VERIFIED, person
            # Others claiming this number can now only be settled at a window too.
            _claims_for_number(claim.id_number).filter(status=ClaimStatus.PENDING).exclude(
                pk=claim.pk
            ).update(status=ClaimStatus.WINDOW)
            entry.detail.update(
                person=str(person.public_id), previous_account=previous.username if previous else ""
            )
        else:
            claim.status = ClaimStatus.REJECTED
        claim.resolved_at, claim.resolved_by, claim.resolution_note = now, clerk, note
        claim.save()
        _tell_after_resolution(claim, previous, approve, now)
    return claim


def _tell_after_resolution(claim: IdentityClaim, previous: User | None, approved: bool, now) -> None:
    from .services import notify

    if approved:
        notify(
            [claim.user],
            kind=NotificationKind.ALERT,
            title=Later(gettext_noop("Your identity was verified at the window")),
            body=Later(
                gettext_noop(
                    "Your account is verified at level L3; your licences and applications are available."
                )
            ),
            link=reverse("accounts:identity"),
            now=now,
        )
        if previous is not None:
            notify(
                [previous],
                kind=NotificationKind.ALERT,
                title=Later(gettext_noop("Your account is no longer bound to an ID number")),
                body=Later(
                    gettext_noop(
                        "The holder of the ID number your account was bound to proved their identity in "
                        "person at a service window. If that was you, bring your ID card to a window."
                    )
                ),
                link=reverse("accounts:identity"),
                now=now,
            )
    else:
        notify(
            [claim.user],
            kind=NotificationKind.ALERT,
            title=Later(gettext_noop("Your identity could not be verified at the window")),
            body=claim.resolution_note,
            link=reverse("accounts:identity"),
            now=now,
        )


def verify_in_person(actor, public_id, *, id_number: str, now=None) -> Person:
    """A clerk checked the ID card of a person whose account is already bound to them: L3. The clerk
    types the number from the card, which must be the person's."""
    require(actor, perms.IDENTITY_VERIFY)
    from .services import access_person

    person = access_person(actor, public_id)
    now = now or timezone.now()
    errors = FieldErrors()
    number = errors.check("id_number", normalize_id_number, id_number)
    if number and number != person.id_number:
        errors.add("id_number", "mismatch", _("The number on the ID card is not this person's."))
    if person.user_id is None:
        errors.add("id_number", "no_account", _("This person has no account to verify."))
    errors.raise_if_any()
    clerk = getattr(actor, "user", None)
    with audit.audited(
        "accounts.identity.in_person", actor=actor, object_type="person", object_ref=str(person.public_id)
    ):
        person.assurance_level = AssuranceLevel.IN_PERSON
        person.save(update_fields=["assurance_level", "updated_at"])
        _record(
            person,
            person.user,
            AssuranceLevel.IN_PERSON,
            VerificationMethod.WINDOW,
            clerk.username if clerk else "",
            clerk,
            now,
        )
    return person


# --- the demo seed -------------------------------------------------------------------------------------


def verify_for_seed(actor, user: User, *, level: int, now=None) -> Person:
    """The demo seed binds its citizens and records the level it gives them, marked as the seed's
    doing. Only an operator's system actor may call it."""
    label = actor.audit_identity()[1] if hasattr(actor, "audit_identity") else ""
    if not (getattr(actor, "is_system", False) and label.startswith("operator:")):
        raise NotPermitted()
    now = now or timezone.now()
    with audit.audited(
        "accounts.identity.seed", actor=actor, object_type="user", object_ref=user.username
    ) as entry:
        person = Person.objects.filter(user=user).first()
        if person is None:
            claim = open_claim(user)
            if claim is None:
                raise NotFound()
            person = Person.objects.with_id_number(claim.id_number).first() or Person(
                id_number=claim.id_number
            )
            person.user, person.name, person.phone = user, claim.name, claim.phone
            claim.status, claim.resolved_at = ClaimStatus.VERIFIED, now
        else:
            claim = None
        person.assurance_level = level
        person.save()
        if claim is not None:
            claim.person = person
            claim.save()
        _record(person, user, level, VerificationMethod.SEED, label, None, now)
        entry.detail = {"level": level, "person": str(person.public_id)}
    return person
