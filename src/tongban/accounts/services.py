"""Use cases for people, enterprises, staff and the organisation.

Every function takes the acting `actor` first, checks that it may do this to this object,
validates all input (reporting every bad field at once), and changes state inside one audited
transaction. `access_*` helpers fetch an object and check the caller may see it; objects the
caller may not see are reported as not found, so their existence does not leak.
"""

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from tongban.core import audit, crypto
from tongban.core.authz import require
from tongban.core.errors import Conflict, FieldErrors, InvalidInput, NotFound, NotPermitted
from tongban.core.i18n import Later
from tongban.core.identifiers import (
    normalize_id_number,
    normalize_mobile,
    normalize_region_code,
    normalize_uscc,
    region_level,
    region_parent_code,
)
from tongban.core.masking import mask_id_number

from . import roles as perms
from .models import (
    ApiToken,
    Department,
    DepartmentKind,
    Enterprise,
    IdentityClaim,
    Notification,
    NotificationKind,
    Person,
    PhoneChallenge,
    Region,
    Representation,
    RepresentationKind,
    Role,
    RoleAssignment,
    ServiceCentre,
    Staff,
    User,
    UserKind,
    Window,
    WindowKind,
)
from .roles import SUBTREE_BY_DEFAULT
from .usernames import comparable, normalize_username

NAME_MAX = 50


class _InEachLanguage(dict):
    """A message already rendered per language (Django's password validators translate eagerly)."""

    def __str__(self) -> str:
        return self.get(translation.get_language() or "zh-hans") or next(iter(self.values()))


# Django 5.2 reworded this message and its zh-Hans catalogue has not caught up; ours carries it.
_UPSTREAM_MESSAGES = (
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        10,
    ),
)


def _check_password(errors: FieldErrors, password: str | None, user: User) -> None:
    rendered: dict[str, list[tuple[str, str]]] = {}
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            try:
                password_validation.validate_password(password or "", user)
                rendered[lang] = []
            except ValidationError as exc:
                rendered[lang] = [
                    (e.code or "invalid", str(e.message % (e.params or {}))) for e in exc.error_list
                ]
    for i, (code, _text) in enumerate(rendered["en"]):
        errors.add("password", code, _InEachLanguage({lang: msgs[i][1] for lang, msgs in rendered.items()}))


def _optional(normalizer):
    return lambda value: normalizer(value) if (value or "").strip() else ""


# --- person cards: what a viewer may see of a person --------------------------------------------


@dataclass(frozen=True)
class PersonCard:
    public_id: str
    name: str
    id_number: str
    phone: str
    masked: bool


def _card(person: Person, *, unmasked: bool) -> PersonCard:
    if unmasked:
        return PersonCard(str(person.public_id), person.name, person.id_number, person.phone or "", False)
    return PersonCard(
        str(person.public_id), person.name_masked, person.id_number_masked, person.phone_masked, True
    )


def _is_self(actor, person: Person) -> bool:
    own = getattr(actor, "person", None)
    return own is not None and own.pk == person.pk


# --- citizens and persons -----------------------------------------------------------------------


def username_taken(username: str) -> bool:
    """Whether an account already has this username, ignoring case (`ADMIN` is `admin`)."""
    return User.objects.alias(lower=Lower("username")).filter(lower=comparable(username)).exists()


def register_citizen(*, username: str, password: str, name: str, id_number: str, phone: str) -> User:
    """Self-registration on the portal: a citizen account and the identity it claims.

    No person is bound yet: the account proves it is that person afterwards (accounts.identity,
    实名认证). Whether another account already holds the ID number changes nothing the registrant
    sees, nor the work done: the claim is then settled at a window.
    """
    from . import identity

    errors = FieldErrors()
    username = errors.check("username", normalize_username, username)
    name = errors.require_text("name", identity.clean_name(name), max_length=NAME_MAX)
    id_number = errors.check("id_number", normalize_id_number, id_number)
    phone = errors.check("phone", normalize_mobile, phone)
    if username and username_taken(username):
        errors.add("username", "taken", _("This username is taken."))
    _check_password(errors, password, User(username=username or "", display_name=name or ""))
    with audit.audited("accounts.citizen.register", object_type="user") as entry:
        errors.raise_if_any()
        user = User.objects.create_user(username, password, display_name=name, kind=UserKind.CITIZEN)
        claim = identity.start_claim(user, name=name, id_number=id_number, phone=phone)
        entry.actor_id, entry.actor_label = user.pk, user.username
        entry.object_ref = user.username
        entry.detail = {"claim": str(claim.public_id), "status": claim.status}
    return user


def register_person(actor, *, name: str, id_number: str, phone: str = "") -> Person:
    """A clerk records an applicant who has no account (一窗受理 on their behalf)."""
    require(actor, perms.PERSON_REGISTER)
    errors = FieldErrors()
    name = errors.require_text("name", name, max_length=NAME_MAX)
    id_number = errors.check("id_number", normalize_id_number, id_number)
    phone = errors.check("phone", _optional(normalize_mobile), phone)
    if id_number and Person.objects.with_id_number(id_number).exists():
        errors.add("id_number", "registered", _("A person with this ID number is already registered."))
    with audit.audited("accounts.person.register", actor=actor, object_type="person") as entry:
        errors.raise_if_any()
        person = Person.objects.create(name=name, id_number=id_number, phone=phone or "")
        entry.object_ref = str(person.public_id)
    return person


def find_person_by_id_number(id_number: str) -> Person | None:
    """Internal lookup for other services; callers check permission themselves."""
    try:
        normalised = normalize_id_number(id_number)
    except ValidationError:
        return None
    return Person.objects.with_id_number(normalised).first()


def lookup_person(actor, *, id_number: str) -> PersonCard:
    """Find an applicant by exact ID number (no browsing): masked card, and the lookup is journalled."""
    require(actor, perms.PERSON_LOOKUP)
    errors = FieldErrors()
    normalised = errors.check("id_number", normalize_id_number, id_number)
    errors.raise_if_any()
    person = Person.objects.with_id_number(normalised).first()
    audit.record(
        "accounts.person.lookup",
        actor=actor,
        outcome="success" if person else "failed",
        object_type="person",
        object_ref=str(person.public_id) if person else "",
        detail={"query": mask_id_number(normalised), "found": person is not None},
    )
    if person is None:
        raise NotFound(_("No person with this ID number is registered."))
    return _card(person, unmasked=False)


def access_person(actor, public_id) -> Person:
    """The person, if the actor may see them: themselves, or staff who look up applicants."""
    person = Person.objects.filter(public_id=_uuid_or_none(public_id)).first()
    if person is None:
        raise NotFound()
    if _is_self(actor, person) or actor.can(perms.PERSON_LOOKUP) or actor.can(perms.PERSON_LIST):
        return person
    raise NotFound()


def person_card(actor, public_id) -> PersonCard:
    person = access_person(actor, public_id)
    return _card(person, unmasked=_is_self(actor, person))


def my_card(actor, *, reveal: bool = False) -> PersonCard | None:
    """The citizen's own identity as their home page shows it: numbers masked, as anyone looking
    over a shoulder or at a shared screen would otherwise read them, unless asked for (journalled)."""
    person = getattr(actor, "person", None)
    if person is None:
        return None
    if not reveal:
        return PersonCard(
            str(person.public_id), person.name, person.id_number_masked, person.phone_masked, True
        )
    audit.record(
        "accounts.person.reveal_own", actor=actor, object_type="person", object_ref=str(person.public_id)
    )
    return _card(person, unmasked=True)


def reveal_person(actor, public_id, *, reason: str) -> PersonCard:
    """Show the full ID and phone numbers to staff who need them, with the reason journalled."""
    require(actor, perms.PERSON_REVEAL)
    person = access_person(actor, public_id)
    errors = FieldErrors()
    reason = errors.require_text("reason", reason, max_length=200)
    if reason and len(reason) < 4:
        errors.add("reason", "min_length", _("Say why you need the full numbers (at least 4 characters)."))
    errors.raise_if_any()
    audit.record(
        "accounts.person.reveal",
        actor=actor,
        object_type="person",
        object_ref=str(person.public_id),
        detail={"reason": reason},
    )
    return _card(person, unmasked=True)


def list_persons(actor, *, name: str = "") -> QuerySet[Person]:
    require(actor, perms.PERSON_LIST)
    qs = Person.objects.order_by("id")
    if name:
        qs = qs.filter(name__contains=name.strip())
    return qs


def update_my_phone(actor, *, phone: str) -> Person:
    person = getattr(actor, "person", None)
    if person is None:
        raise NotPermitted()
    errors = FieldErrors()
    phone = errors.check("phone", normalize_mobile, phone)
    from . import identity

    with audit.audited(
        "accounts.person.update_phone", actor=actor, object_type="person", object_ref=str(person.public_id)
    ) as entry:
        errors.raise_if_any()
        if phone != person.phone:
            before = person.assurance_level
            person.phone = phone
            identity.phone_changed(person)
            entry.detail = {"assurance": [before, person.assurance_level]}
        person.save()
    return person


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        return None


# --- enterprises --------------------------------------------------------------------------------


def register_enterprise(
    actor, *, uscc: str, name: str, legal_representative_id_number: str, address: str = ""
) -> Enterprise:
    require(actor, perms.ENTERPRISE_REGISTER)
    errors = FieldErrors()
    uscc = errors.check("uscc", normalize_uscc, uscc)
    name = errors.require_text("name", name, max_length=120)
    representative = None
    rep_number = errors.check(
        "legal_representative_id_number", normalize_id_number, legal_representative_id_number
    )
    if rep_number:
        representative = find_person_by_id_number(rep_number)
        if representative is None:
            errors.add(
                "legal_representative_id_number",
                "unknown",
                _("Register the legal representative as a person first."),
            )
    if uscc and Enterprise.objects.filter(uscc=uscc).exists():
        errors.add("uscc", "registered", _("An enterprise with this credit code is already registered."))
    region = Region.objects.filter(code=uscc[2:8]).first() if uscc else None
    with audit.audited(
        "accounts.enterprise.register", actor=actor, object_type="enterprise", object_ref=uscc or ""
    ) as entry:
        errors.raise_if_any()
        enterprise = Enterprise.objects.create(
            uscc=uscc, name=name, region=region, address=(address or "").strip()
        )
        Representation.objects.create(
            person=representative, enterprise=enterprise, kind=RepresentationKind.LEGAL_REPRESENTATIVE
        )
        entry.object_ref = uscc
    return enterprise


def _current_representation(person: Person | None, enterprise: Enterprise) -> Representation | None:
    if person is None:
        return None
    today = timezone.localdate()
    return (
        Representation.objects.filter(person=person, enterprise=enterprise)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .first()
    )


def can_act_for(actor, enterprise: Enterprise) -> bool:
    """Whether a citizen may act for the enterprise (as its legal representative or an agent)."""
    represented = getattr(actor, "represented", None)
    if represented is not None:
        return enterprise.pk in represented  # the actor's own per-request view
    return _current_representation(getattr(actor, "person", None), enterprise) is not None


def access_enterprise(actor, uscc: str) -> Enterprise:
    enterprise = Enterprise.objects.filter(uscc=(uscc or "").strip().upper()).first()
    if enterprise is None:
        raise NotFound()
    if can_act_for(actor, enterprise) or actor.can(perms.ENTERPRISE_LOOKUP):
        return enterprise
    raise NotFound()


def my_enterprises(actor) -> list[tuple[Enterprise, Representation]]:
    person = getattr(actor, "person", None)
    if person is None:
        return []
    today = timezone.localdate()
    links = (
        Representation.objects.filter(person=person)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("enterprise")
        .order_by("enterprise__name")
    )
    return [(link.enterprise, link) for link in links]


def authorise_agent(
    actor, *, uscc: str, agent_id_number: str, valid_until: dt.date | None = None
) -> Representation:
    """The legal representative (or a registering clerk) lets another person act for the enterprise."""
    enterprise = access_enterprise(actor, uscc)
    link = _current_representation(getattr(actor, "person", None), enterprise)
    is_legal_rep = link is not None and link.kind == RepresentationKind.LEGAL_REPRESENTATIVE
    if not (is_legal_rep or actor.can(perms.ENTERPRISE_REGISTER)):
        raise NotPermitted(_("Only the legal representative may authorise agents."))
    errors = FieldErrors()
    agent = None
    number = errors.check("agent_id_number", normalize_id_number, agent_id_number)
    if number:
        agent = find_person_by_id_number(number)
        if agent is None:
            errors.add("agent_id_number", "unknown", _("No person with this ID number is registered."))
        elif Representation.objects.filter(person=agent, enterprise=enterprise).exists():
            errors.add("agent_id_number", "exists", _("This person already acts for the enterprise."))
    if valid_until is not None and valid_until < timezone.localdate():
        errors.add("valid_until", "past", _("The end date is in the past."))
    with audit.audited(
        "accounts.enterprise.authorise_agent",
        actor=actor,
        object_type="enterprise",
        object_ref=enterprise.uscc,
    ) as entry:
        errors.raise_if_any()
        representation = Representation.objects.create(
            person=agent, enterprise=enterprise, kind=RepresentationKind.AGENT, valid_until=valid_until
        )
        entry.detail = {
            "agent": str(agent.public_id),
            "valid_until": valid_until.isoformat() if valid_until else None,
        }
    return representation


# --- organisation -------------------------------------------------------------------------------


def access_department(actor, code: str) -> Department:
    require(actor, perms.ORG_VIEW)
    department = Department.objects.select_related("region", "parent").filter(code=code).first()
    if department is None:
        raise NotFound()
    return department


def list_departments(actor) -> QuerySet[Department]:
    require(actor, perms.ORG_VIEW)
    return Department.objects.filter(is_active=True).select_related("region").order_by("path")


def create_region(actor, *, code: str, name: str) -> Region:
    require(actor, perms.ORG_MANAGE)
    errors = FieldErrors()
    code = errors.check("code", normalize_region_code, code)
    name = errors.require_text("name", name, max_length=60)
    parent = None
    if code:
        parent_code = region_parent_code(code)
        if Region.objects.filter(code=code).exists():
            errors.add("code", "exists", _("This region already exists."))
        if parent_code:
            parent = Region.objects.filter(code=parent_code).first()
            if parent is None:
                errors.add(
                    "code",
                    "no_parent",
                    _("Create the enclosing region %(code)s first.") % {"code": parent_code},
                )
    with audit.audited("accounts.region.create", actor=actor, object_type="region", object_ref=code or ""):
        errors.raise_if_any()
        return Region.objects.create(code=code, name=name, level=region_level(code), parent=parent)


def create_department(
    actor,
    *,
    code: str,
    name: str,
    kind: str,
    region_code: str,
    parent_code: str = "",
    short_name: str = "",
    uscc: str = "",
) -> Department:
    errors = FieldErrors()
    code = (code or "").strip().lower()
    if not code:
        errors.add("code", "required", _("This field is required."))
    elif not all(c.isascii() and (c.isalnum() or c in "-_") for c in code) or len(code) > 40:
        errors.add("code", "format", _("Use up to 40 lower-case letters, digits, - and _."))
    elif Department.objects.filter(code=code).exists():
        errors.add("code", "exists", _("This department code is taken."))
    name = errors.require_text("name", name, max_length=100)
    if kind not in DepartmentKind.values:
        errors.add("kind", "choice", _("Choose a valid kind."))
    region = Region.objects.filter(code=(region_code or "").strip()).first()
    if region is None:
        errors.add("region_code", "unknown", _("Unknown region code."))
    parent = None
    if parent_code:
        parent = Department.objects.filter(code=parent_code).first()
        if parent is None:
            errors.add("parent_code", "unknown", _("Unknown department."))
    uscc = errors.check("uscc", _optional(normalize_uscc), uscc)
    # Creating under a parent needs org.manage over the parent. A new top-level government is an
    # installation decision, taken by the operator at the CLI or by the seed.
    if parent is not None:
        require(actor, perms.ORG_MANAGE, parent)
    elif not getattr(actor, "is_system", False):
        raise NotPermitted(_("Top-level departments are created by the operator."))
    with audit.audited(
        "accounts.department.create",
        actor=actor,
        object_type="department",
        object_ref=code,
        department_code=parent.code if parent else code,
    ):
        errors.raise_if_any()
        department = Department(
            code=code,
            name=name,
            kind=kind,
            region=region,
            parent=parent,
            short_name=(short_name or "").strip(),
            uscc=uscc or "",
        )
        department.path = department.build_path()
        department.save()
    return department


def create_service_centre(
    actor, *, code: str, name: str, region_code: str, department_code: str, address: str = ""
) -> ServiceCentre:
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        raise InvalidInput.single("department_code", "unknown", _("Unknown department."))
    require(actor, perms.ORG_MANAGE, department)
    errors = FieldErrors()
    code = errors.require_text("code", code, max_length=40)
    name = errors.require_text("name", name, max_length=100)
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        errors.add("region_code", "unknown", _("Unknown region code."))
    if code and ServiceCentre.objects.filter(code=code).exists():
        errors.add("code", "exists", _("This centre code is taken."))
    with audit.audited(
        "accounts.centre.create",
        actor=actor,
        object_type="service_centre",
        object_ref=code,
        department_code=department.code,
    ):
        errors.raise_if_any()
        return ServiceCentre.objects.create(
            code=code, name=name, region=region, department=department, address=(address or "").strip()
        )


def create_window(
    actor, *, centre_code: str, number: str, name: str, kind: str, department_code: str = ""
) -> Window:
    centre = ServiceCentre.objects.select_related("department").filter(code=centre_code).first()
    if centre is None:
        raise InvalidInput.single("centre_code", "unknown", _("Unknown service centre."))
    require(actor, perms.ORG_MANAGE, centre.department)
    errors = FieldErrors()
    number = errors.require_text("number", number, max_length=10)
    name = errors.require_text("name", name, max_length=60)
    if kind not in WindowKind.values:
        errors.add("kind", "choice", _("Choose a valid kind."))
    department = None
    if department_code:
        department = Department.objects.filter(code=department_code).first()
        if department is None:
            errors.add("department_code", "unknown", _("Unknown department."))
    elif kind == WindowKind.SPECIALISED:
        errors.add("department_code", "required", _("A department window needs its department."))
    if number and Window.objects.filter(centre=centre, number=number).exists():
        errors.add("number", "exists", _("This window number is taken in this centre."))
    with audit.audited(
        "accounts.window.create",
        actor=actor,
        object_type="window",
        object_ref=f"{centre.code}/{number}",
        department_code=centre.department.code,
    ):
        errors.raise_if_any()
        return Window.objects.create(
            centre=centre, number=number, name=name, kind=kind, department=department
        )


def list_windows(actor, *, centre_code: str = "") -> QuerySet[Window]:
    require(actor, perms.ORG_VIEW)
    qs = Window.objects.select_related("centre", "department").order_by("centre__code", "number")
    if centre_code:
        qs = qs.filter(centre__code=centre_code)
    return qs


# --- staff and roles ----------------------------------------------------------------------------


def list_staff(
    actor, *, department_code: str = "", include_subtree: bool = True, q: str = "", role: str = ""
) -> QuerySet[Staff]:
    """Staff the actor may see: only departments inside the scopes of its roles."""
    require(actor, perms.STAFF_VIEW)
    qs = Staff.objects.filter(actor.scope_q(perms.STAFF_VIEW)).select_related("user", "department", "window")
    if department_code:
        department = Department.objects.filter(code=department_code).first()
        if department is None:
            return qs.none()
        qs = (
            qs.filter(department__path__startswith=department.path)
            if include_subtree
            else qs.filter(department=department)
        )
    if q:
        qs = qs.filter(Q(user__display_name__contains=q) | Q(user__username__icontains=q))
    if role:
        qs = qs.filter(roles__role=role).distinct()
    return qs.order_by("department__path", "user__username")


def access_staff(actor, username: str, *, permission: str = perms.STAFF_VIEW) -> Staff:
    staff = Staff.objects.select_related("user", "department").filter(user__username=username).first()
    if staff is None:
        raise NotFound()
    is_self = getattr(actor, "user", None) is not None and actor.user.pk == staff.user_id
    if permission == perms.STAFF_VIEW and is_self:
        return staff
    if not actor.can(permission, staff.department):
        if actor.can(perms.STAFF_VIEW, staff.department):
            raise NotPermitted()
        raise NotFound()
    return staff


def create_staff(
    actor,
    *,
    username: str,
    display_name: str,
    department_code: str,
    password: str | None = None,
    title: str = "",
    phone: str = "",
    kind: str = UserKind.STAFF,
    roles: list[tuple[str, bool]] = (),
) -> Staff:
    """Create a staff member (or a system account) in a department, with roles held there."""
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        raise InvalidInput.single("department_code", "unknown", _("Unknown department."))
    require(actor, perms.STAFF_MANAGE, department)
    errors = FieldErrors()
    username = errors.check("username", normalize_username, username)
    display_name = errors.require_text("display_name", display_name, max_length=60)
    phone = errors.check("phone", _optional(normalize_mobile), phone)
    if kind not in (UserKind.STAFF, UserKind.SYSTEM):
        errors.add("kind", "choice", _("Choose a valid kind."))
    if username and username_taken(username):
        errors.add("username", "taken", _("This username is taken."))
    for role, _subtree in roles:
        if role not in Role.values:
            errors.add("roles", "choice", _("Unknown role."))
    if password:
        _check_password(errors, password, User(username=username, display_name=display_name))
    with audit.audited(
        "accounts.staff.create",
        actor=actor,
        object_type="staff",
        object_ref=username,
        department_code=department.code,
        detail={"roles": [r for r, _s in roles], "kind": kind},
    ):
        errors.raise_if_any()
        user = User.objects.create_user(username, password, display_name=display_name, kind=kind)
        staff = Staff.objects.create(
            user=user, department=department, title=(title or "").strip(), phone=phone or ""
        )
        granted_by = getattr(actor, "user", None)
        for role, subtree in roles:
            RoleAssignment.objects.create(
                staff=staff, role=role, department=department, include_subtree=subtree, granted_by=granted_by
            )
    return staff


def create_administrator(
    actor, *, username: str, display_name: str, department_code: str, password: str | None = None
) -> Staff:
    """An administrator of a department and its sub-tree, who may also edit reference data in the
    Django admin site. One transaction: no half-made administrator is left behind."""
    with audit.audited(
        "accounts.staff.create_administrator",
        actor=actor,
        object_type="staff",
        object_ref=username,
        department_code=department_code,
    ):
        staff = create_staff(
            actor,
            username=username,
            display_name=display_name,
            department_code=department_code,
            password=password,
            roles=[(Role.ADMIN, True)],
        )
        User.objects.filter(pk=staff.user_id).update(is_staff=True, is_superuser=True)
    return staff


def assign_role(
    actor,
    *,
    username: str,
    role: str,
    department_code: str,
    include_subtree: bool | None = None,
    expires_at: dt.datetime | None = None,
) -> RoleAssignment:
    """Grant a role over a department. The granter needs staff.manage over that department, so no one
    can hand out access to a department they do not manage themselves."""
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        raise InvalidInput.single("department_code", "unknown", _("Unknown department."))
    require(actor, perms.STAFF_MANAGE, department)
    staff = access_staff(actor, username)
    if role not in Role.values:
        raise InvalidInput.single("role", "choice", _("Unknown role."))
    subtree = (role in SUBTREE_BY_DEFAULT) if include_subtree is None else include_subtree
    with audit.audited(
        "accounts.role.assign",
        actor=actor,
        object_type="staff",
        object_ref=staff.user.username,
        department_code=department.code,
        detail={"role": role, "subtree": subtree},
    ):
        try:
            assignment, _created = RoleAssignment.objects.update_or_create(
                staff=staff,
                role=role,
                department=department,
                defaults={
                    "include_subtree": subtree,
                    "expires_at": expires_at,
                    "granted_by": getattr(actor, "user", None),
                },
            )
        except IntegrityError:
            raise Conflict() from None
    return assignment


def revoke_role(actor, *, username: str, role: str, department_code: str) -> None:
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        raise InvalidInput.single("department_code", "unknown", _("Unknown department."))
    require(actor, perms.STAFF_MANAGE, department)
    staff = access_staff(actor, username)
    with audit.audited(
        "accounts.role.revoke",
        actor=actor,
        object_type="staff",
        object_ref=staff.user.username,
        department_code=department.code,
        detail={"role": role},
    ):
        deleted, _n = RoleAssignment.objects.filter(staff=staff, role=role, department=department).delete()
        if not deleted:
            raise NotFound(_("This staff member does not hold that role there."))


def set_staff_active(actor, *, username: str, active: bool) -> Staff:
    staff = access_staff(actor, username, permission=perms.STAFF_MANAGE)
    if getattr(actor, "user", None) is not None and actor.user.pk == staff.user_id and not active:
        raise InvalidInput.single("username", "self", _("You cannot deactivate your own account."))
    with audit.audited(
        "accounts.staff.activate" if active else "accounts.staff.deactivate",
        actor=actor,
        object_type="staff",
        object_ref=username,
        department_code=staff.department.code,
    ):
        staff.user.is_active = active
        staff.user.save(update_fields=["is_active"])
    return staff


# --- second factor ------------------------------------------------------------------------------


def totp_device(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def begin_totp_enrolment(user):
    """An unconfirmed device whose secret the user scans; it counts only once a code confirms it."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if totp_device(user) is not None:
        raise Conflict(_("Two-factor authentication is already set up."))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def confirm_totp_enrolment(user, token: str):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        raise Conflict(_("Start the set-up again."))
    _verify_code(device, token, action="accounts.mfa.enrol", user=user)
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


def check_second_factor(user, token: str):
    """The confirmed device if the code is right. Devices throttle repeated failures themselves."""
    device = totp_device(user)
    if device is None:
        raise Conflict(_("Two-factor authentication is not set up."))
    _verify_code(device, token, action="accounts.mfa.verify", user=user)
    return device


def _verify_code(device, token: str, *, action: str, user) -> None:
    """Check a TOTP code. django-otp doubles the wait after each wrong code and accepts each
    time step once, so neither guessing nor replaying a seen code works."""
    token = (token or "").strip()
    allowed, _info = device.verify_is_allowed()
    ok = allowed and token.isdigit() and device.verify_token(token)
    audit.record(
        action,
        actor=user,
        outcome="success" if ok else "failed",
        object_type="user",
        object_ref=user.username,
        detail={} if allowed else {"throttled": True},
    )
    if ok:
        return
    if not allowed:
        raise InvalidInput.single(
            "otp_token", "throttled", _("Too many wrong codes. Wait a moment and retry.")
        )
    raise InvalidInput.single("otp_token", "wrong", _("The code is wrong or expired. Try the current code."))


def reset_second_factor(actor, *, username: str) -> None:
    """For a lost phone: the staff member enrols again at next login."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    staff = access_staff(actor, username, permission=perms.STAFF_MANAGE)
    with audit.audited(
        "accounts.mfa.reset",
        actor=actor,
        object_type="staff",
        object_ref=username,
        department_code=staff.department.code,
    ):
        TOTPDevice.objects.filter(user=staff.user).delete()


# --- lockout ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginLock:
    """Failed logins on one account from one client address (axes counts them per pair)."""

    address: str
    failures: int
    last_attempt: dt.datetime
    locked: bool
    until: dt.datetime | None


def _account_for_unlock(actor, username: str, permission: str) -> User:
    """The account, if the actor may manage its login: staff by scope, citizens by a window clerk."""
    user = User.objects.alias(lower=Lower("username")).filter(lower=comparable(username)).first()
    if user is None:
        raise NotFound()
    if user.kind in (UserKind.STAFF, UserKind.SYSTEM):
        access_staff(actor, user.username, permission=permission)
    else:
        require(actor, perms.IDENTITY_VERIFY)
    return user


def login_locks(actor, *, username: str, now=None) -> list[LoginLock]:
    """Where failed logins on an account come from, and which of those addresses are locked out."""
    from axes.models import AccessAttempt
    from django.conf import settings

    user = _account_for_unlock(actor, username, perms.STAFF_VIEW)
    now = now or timezone.now()
    cooloff = settings.AXES_COOLOFF_TIME
    rows = AccessAttempt.objects.filter(username=user.username, attempt_time__gt=now - cooloff)
    locks: dict[str, LoginLock] = {}
    for row in rows.order_by("attempt_time"):
        address = row.ip_address or "?"
        failures = row.failures_since_start + (locks[address].failures if address in locks else 0)
        locked = failures >= settings.AXES_FAILURE_LIMIT
        locks[address] = LoginLock(address, failures, row.attempt_time, locked, row.attempt_time + cooloff)
    return sorted(locks.values(), key=lambda lock: lock.last_attempt, reverse=True)


def unlock_login(actor, *, username: str) -> int:
    """Clear the failed logins of an account from every address, so its owner can log in at once."""
    from axes.utils import reset

    user = _account_for_unlock(actor, username, perms.STAFF_MANAGE)
    with audit.audited(
        "accounts.login.unlock", actor=actor, object_type="user", object_ref=user.username
    ) as entry:
        cleared = reset(username=user.username)
        entry.detail = {"cleared": cleared}
    return cleared


# --- key rotation ---------------------------------------------------------------------------------


def rekey_personal_data(actor, *, progress=None, chunk_size: int = 500) -> int:
    """Re-encrypt and re-index every stored ID and phone number under the current master key.

    Run after moving the previous key to TONGBAN_MASTER_KEYS_OLD; once it finishes, the old key
    can be dropped. Safe to interrupt and run again: each row is rewritten in its own chunk.
    """
    require(actor, perms.PERSON_LIST)
    tables = (Person, Staff, IdentityClaim, PhoneChallenge)
    total = sum(model.objects.count() for model in tables)
    done = 0
    with audit.audited("accounts.personal_data.rekey", actor=actor, object_type="person") as entry:
        for model in tables:
            last_pk = None
            while True:
                batch = model.objects.order_by("pk")
                if last_pk is not None:
                    batch = batch.filter(pk__gt=last_pk)
                rows = list(batch[:chunk_size])
                if not rows:
                    break
                for row in rows:
                    row.save()  # the fields encrypt under the current key; save() re-indexes
                done += len(rows)
                last_pk = rows[-1].pk
                if progress:
                    progress(done, total)
        entry.detail = {"rows": done}
    return done


# --- API tokens ---------------------------------------------------------------------------------

TOKEN_PREFIX = "tb_"  # noqa: S105  (a marker, not a secret)


def _token_digest(raw: str) -> str:
    return crypto.hmac_sm3(crypto.derived_key("api-token-v1"), raw.encode()).hex()


def create_api_token(actor, *, username: str, name: str, days: int | None = 365) -> tuple[str, ApiToken]:
    """Issue a bearer token for a system account. The raw token is returned once and never stored."""
    require(actor, perms.TOKEN_MANAGE)
    user = User.objects.filter(username=username).first()
    errors = FieldErrors()
    if user is None:
        errors.add("username", "unknown", _("Unknown account."))
    elif user.kind != UserKind.SYSTEM:
        errors.add("username", "kind", _("Tokens are only for system accounts."))
    name = errors.require_text("name", name, max_length=60)
    if days is not None and not 1 <= days <= 3650:
        errors.add("days", "range", _("Between 1 and 3650 days."))
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with audit.audited(
        "accounts.token.create",
        actor=actor,
        object_type="api_token",
        object_ref=prefix,
        detail={"account": username, "days": days},
    ):
        errors.raise_if_any()
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            digest=_token_digest(raw),
            expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
        )
    return raw, token


def revoke_api_token(actor, *, prefix: str) -> None:
    require(actor, perms.TOKEN_MANAGE)
    with audit.audited("accounts.token.revoke", actor=actor, object_type="api_token", object_ref=prefix):
        if not ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        ):
            raise NotFound()


def authenticate_api_token(raw: str) -> User | None:
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_token_digest(raw)).first()
    if token is None or not token.is_usable() or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- notifications ------------------------------------------------------------------------------


def role_holders(role: str, department_path: str, *, nearest_only: bool = False) -> list[int]:
    """User ids of active staff whose grant of `role` covers a department (by its tree path).

    With nearest_only, only those granted on the closest department up the tree: the head of a
    section before the head of its bureau.
    """
    if not department_path:
        return []
    now = timezone.now()
    ancestors = [department_path[: i + 1] for i, c in enumerate(department_path) if c == "/" and i > 0]
    rows = (
        RoleAssignment.objects.filter(role=role, department__path__in=ancestors, staff__user__is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("staff__user_id", "department__path", "include_subtree")
    )
    found = [(path, user_id) for user_id, path, subtree in rows if path == department_path or subtree]
    if nearest_only and found:
        nearest = max(len(path) for path, _user in found)
        found = [(path, user) for path, user in found if len(path) == nearest]
    return sorted({user for _path, user in found})


def notify(
    recipients, *, kind: str, title: str, body: str = "", link: str = "", subject: str = "", now=None
) -> int:
    """Put a message in each recipient's inbox (user ids or users), in the caller's transaction.

    A title or body given as a `core.i18n.Later` is kept as its msgid and parameters and read in each
    reader's language; the words are also stored in the site's language."""
    ids = sorted({getattr(r, "pk", r) for r in recipients if r is not None})
    if kind not in NotificationKind.values:
        raise ValueError(kind)
    now = now or timezone.now()
    message = {
        name: part.as_json() for name, part in (("title", title), ("body", body)) if isinstance(part, Later)
    }
    with translation.override(settings.LANGUAGE_CODE):
        title, body = str(title), str(body)
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id,
                kind=kind,
                title=str(title)[:200],
                body=str(body),
                link=link[:300],
                subject=subject[:80],
                message=message,
                created_at=now,
            )
            for user_id in ids
        ]
    )
    return len(ids)


def inbox(actor, *, unread_only: bool = False) -> QuerySet[Notification]:
    user = getattr(actor, "user", None)
    if user is None:
        return Notification.objects.none()
    qs = Notification.objects.filter(recipient=user)
    return qs.filter(read_at__isnull=True) if unread_only else qs


def unread_count(actor) -> int:
    return inbox(actor, unread_only=True).count()


def mark_read(actor, ids: list[int] | None = None) -> int:
    """Mark some (or, with None, all) of the actor's own messages read; others' are never touched."""
    qs = inbox(actor, unread_only=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
