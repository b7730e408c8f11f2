"""Accounts and organisation endpoints. Handlers only translate HTTP to service calls.

ID numbers travel in request bodies, never in URLs, so they stay out of access logs.
"""

import datetime as dt
import uuid

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from tongban.core.pagination import PageNumberPagination

from . import identity, services
from .models import Department, Staff, Window
from .roles import SUBTREE_BY_DEFAULT

router = Router()


# --- me -----------------------------------------------------------------------------------------


class RoleGrantOut(Schema):
    role: str
    department: str
    include_subtree: bool


class PersonCardOut(Schema):
    public_id: str
    name: str
    id_number: str
    phone: str
    masked: bool


class MeOut(Schema):
    username: str
    display_name: str
    kind: str
    department: str | None
    roles: list[RoleGrantOut]
    person: PersonCardOut | None
    assurance_level: int = Field(..., description="Identity assurance of a citizen's account: 0–3 (实名认证)")


@router.get(
    "/me", response=MeOut, tags=["accounts"], summary="Who is calling, with roles and own person record"
)
def me(request):
    actor = request.auth
    person = services.person_card(actor, actor.person.public_id) if actor.person else None
    return {
        "username": actor.user.username,
        "display_name": actor.user.display_name,
        "kind": actor.user.kind,
        "department": actor.staff.department.code if actor.staff else None,
        "roles": [
            {"role": g.role, "department": g.department_code, "include_subtree": g.include_subtree}
            for g in actor.grants
        ],
        "person": person.__dict__ if person else None,
        "assurance_level": identity.level_of(actor),
    }


# --- citizens and persons -----------------------------------------------------------------------


class CitizenRegisterIn(Schema):
    username: str
    password: str
    name: str
    id_number: str
    phone: str


class RegisteredOut(Schema):
    username: str
    display_name: str
    kind: str
    assurance_level: int
    next: str = Field(..., description="Where the account verifies its identity (实名认证)")


@router.post(
    "/citizens",
    auth=None,
    response={201: RegisteredOut},
    tags=["persons"],
    summary="Citizen self-registration on the portal (identity verified afterwards, /me/identity)",
)
def register_citizen(request, payload: CitizenRegisterIn):
    user = services.register_citizen(**payload.dict())
    # The same answer whether or not the ID number was registered before.
    return Status(
        201,
        {
            "username": user.username,
            "display_name": user.display_name,
            "kind": user.kind,
            "assurance_level": 0,
            "next": "/api/v1/me/identity",
        },
    )


# --- identity assurance (实名认证) -------------------------------------------------------------------


class VerificationOut(Schema):
    level: int
    method: str
    verified_at: dt.datetime


class IdentityOut(Schema):
    level: int
    level_label: str
    required_for_licences: int
    name: str
    id_number: str = Field(..., description="Masked")
    phone: str = Field(..., description="Masked")
    register_available: bool = Field(..., description="Whether L1 can be reached online here")
    face_check_available: bool
    attempts_left: int = Field(..., description="Online real-name checks left today")
    resend_in: int = Field(..., description="Seconds before another SMS code may be asked for")
    verifications: list[VerificationOut]


def _identity_out(actor) -> dict:
    status = identity.identity_status(actor)
    return {
        "level": status.level,
        "level_label": status.level_label,
        "required_for_licences": status.required,
        "name": status.name,
        "id_number": status.id_number_masked,
        "phone": status.phone_masked,
        "register_available": status.register_available,
        "face_check_available": status.face_check_available,
        "attempts_left": status.attempts_left,
        "resend_in": status.resend_in,
        "verifications": [
            {"level": v.level, "method": v.method, "verified_at": v.verified_at} for v in status.verifications
        ],
    }


@router.get("/me/identity", response=IdentityOut, tags=["identity"], summary="My identity assurance level")
def my_identity(request):
    return _identity_out(request.auth)


class RealNameIn(Schema):
    name: str | None = Field(None, description="To correct the name given at registration")
    id_number: str | None = Field(None, description="To correct the number given at registration")


@router.post(
    "/me/identity/real-name",
    response=IdentityOut,
    tags=["identity"],
    summary="L1: check name and ID number against the population register (verify-only, logged)",
)
def verify_real_name(request, payload: RealNameIn):
    identity.verify_real_name(request.auth, name=payload.name, id_number=payload.id_number)
    return _identity_out(request.auth)


class PhoneCodeIn(Schema):
    phone: str | None = Field(None, description="Another number than the one recorded")


class CodeSentOut(Schema):
    phone: str = Field(..., description="Masked")
    expires_at: dt.datetime
    resend_at: dt.datetime
    delivered: bool = Field(..., description="False when the installation's sender only writes an outbox")


@router.post(
    "/me/identity/phone/code",
    response=CodeSentOut,
    tags=["identity"],
    summary="L2: send a one-time code to the mobile number",
)
def send_phone_code(request, payload: PhoneCodeIn):
    sent = identity.send_phone_code(request.auth, phone=payload.phone)
    return {
        "phone": sent.phone_masked,
        "expires_at": sent.expires_at,
        "resend_at": sent.resend_at,
        "delivered": sent.delivered,
    }


class PhoneCodeConfirmIn(Schema):
    code: str


@router.post(
    "/me/identity/phone", response=IdentityOut, tags=["identity"], summary="L2: confirm the SMS code"
)
def confirm_phone_code(request, payload: PhoneCodeConfirmIn):
    identity.confirm_phone_code(request.auth, code=payload.code)
    return _identity_out(request.auth)


class FaceCheckIn(Schema):
    evidence: str = Field(..., max_length=4000, description="The face-check service's result token")


@router.post(
    "/me/identity/face",
    response=IdentityOut,
    tags=["identity"],
    summary="L3 online: a face check by the configured service (409 when none is configured)",
)
def face_check(request, payload: FaceCheckIn):
    identity.verify_by_face(request.auth, evidence=payload.evidence)
    return _identity_out(request.auth)


class ClaimOut(Schema):
    public_id: uuid.UUID
    account: str
    name: str = Field(..., description="Masked")
    id_number: str = Field(..., description="Masked")
    phone: str = Field(..., description="Masked")
    status: str
    register_match: bool | None
    created_at: dt.datetime
    resolved_at: dt.datetime | None

    @staticmethod
    def resolve_account(obj):
        return obj.user.username

    @staticmethod
    def resolve_name(obj):
        return obj.name_masked

    @staticmethod
    def resolve_id_number(obj):
        return obj.id_number_masked

    @staticmethod
    def resolve_phone(obj):
        return obj.phone_masked


@router.get(
    "/identity/claims",
    response=list[ClaimOut],
    tags=["identity"],
    summary="Identity claims waiting for a window (clerks)",
)
@paginate(PageNumberPagination, page_size=50)
def list_claims(request, status: str = "window"):
    return identity.list_claims(request.auth, status=status)


class ClaimLookupIn(Schema):
    id_number: str


@router.post(
    "/identity/claims/lookup",
    response=list[ClaimOut],
    tags=["identity"],
    summary="Open claims on one exact ID number (journalled)",
)
def lookup_claims(request, payload: ClaimLookupIn):
    return list(identity.list_claims(request.auth, id_number=payload.id_number))


@router.get("/identity/claims/{public_id}", response=ClaimOut, tags=["identity"])
def get_claim(request, public_id: uuid.UUID):
    return identity.access_claim(request.auth, public_id)


class ApproveClaimIn(Schema):
    id_number: str = Field(..., description="Typed from the ID card presented")
    name: str = Field(..., description="As on the ID card")
    note: str = ""


@router.post(
    "/identity/claims/{public_id}/approve",
    response=ClaimOut,
    tags=["identity"],
    summary="Bind the account to the person after checking the ID card in person (L3)",
)
def approve_claim(request, public_id: uuid.UUID, payload: ApproveClaimIn):
    return identity.resolve_claim(request.auth, public_id, approve=True, **payload.dict())


class RejectClaimIn(Schema):
    note: str


@router.post("/identity/claims/{public_id}/reject", response=ClaimOut, tags=["identity"])
def reject_claim(request, public_id: uuid.UUID, payload: RejectClaimIn):
    return identity.resolve_claim(request.auth, public_id, approve=False, note=payload.note)


class InPersonIn(Schema):
    id_number: str = Field(..., description="Typed from the ID card presented")


class AssuranceOut(Schema):
    public_id: str
    assurance_level: int


@router.post(
    "/persons/{public_id}/verify-in-person",
    response=AssuranceOut,
    tags=["identity"],
    summary="A clerk checked the person's ID card in person: their account goes to L3",
)
def verify_in_person(request, public_id: uuid.UUID, payload: InPersonIn):
    person = identity.verify_in_person(request.auth, public_id, id_number=payload.id_number)
    return {"public_id": str(person.public_id), "assurance_level": person.assurance_level}


# --- lockout ------------------------------------------------------------------------------------------


class LoginLockOut(Schema):
    address: str
    failures: int
    last_attempt: dt.datetime
    locked: bool
    until: dt.datetime | None


@router.get(
    "/logins/{username}/locks",
    response=list[LoginLockOut],
    tags=["accounts"],
    summary="Failed logins on an account, per client address",
)
def login_locks(request, username: str):
    return [lock.__dict__ for lock in services.login_locks(request.auth, username=username)]


class UnlockOut(Schema):
    cleared: int


@router.post(
    "/logins/{username}/unlock",
    response=UnlockOut,
    tags=["accounts"],
    summary="Lift a login lockout (staff: administrators of their department; citizens: window clerks)",
)
def unlock_login(request, username: str):
    return {"cleared": services.unlock_login(request.auth, username=username)}


class PersonIn(Schema):
    name: str
    id_number: str
    phone: str = ""


@router.post(
    "/persons",
    response={201: PersonCardOut},
    tags=["persons"],
    summary="Register an applicant without an account (clerks)",
)
def register_person(request, payload: PersonIn):
    person = services.register_person(request.auth, **payload.dict())
    return Status(201, services.person_card(request.auth, person.public_id))


class LookupIn(Schema):
    id_number: str


@router.post(
    "/persons/lookup",
    response=PersonCardOut,
    tags=["persons"],
    summary="Find a person by exact ID number (masked result, journalled)",
)
def lookup_person(request, payload: LookupIn):
    return services.lookup_person(request.auth, id_number=payload.id_number).__dict__


@router.get("/persons/{public_id}", response=PersonCardOut, tags=["persons"])
def get_person(request, public_id: uuid.UUID):
    return services.person_card(request.auth, public_id).__dict__


class RevealIn(Schema):
    reason: str


@router.post(
    "/persons/{public_id}/reveal",
    response=PersonCardOut,
    tags=["persons"],
    summary="Full ID and phone numbers, with the reason journalled",
)
def reveal_person(request, public_id: uuid.UUID, payload: RevealIn):
    return services.reveal_person(request.auth, public_id, reason=payload.reason).__dict__


# --- enterprises --------------------------------------------------------------------------------


class EnterpriseOut(Schema):
    uscc: str
    name: str
    region: str | None
    address: str

    @staticmethod
    def resolve_region(obj):
        return obj.region_id


class EnterpriseIn(Schema):
    uscc: str
    name: str
    legal_representative_id_number: str
    address: str = ""


@router.post("/enterprises", response={201: EnterpriseOut}, tags=["enterprises"])
def register_enterprise(request, payload: EnterpriseIn):
    return Status(201, services.register_enterprise(request.auth, **payload.dict()))


@router.get("/enterprises/{uscc}", response=EnterpriseOut, tags=["enterprises"])
def get_enterprise(request, uscc: str):
    return services.access_enterprise(request.auth, uscc)


class MyEnterpriseOut(Schema):
    enterprise: EnterpriseOut
    kind: str
    valid_until: dt.date | None


@router.get(
    "/me/enterprises",
    response=list[MyEnterpriseOut],
    tags=["enterprises"],
    summary="Enterprises the calling citizen may act for",
)
def my_enterprises(request):
    return [
        {"enterprise": e, "kind": link.kind, "valid_until": link.valid_until}
        for e, link in services.my_enterprises(request.auth)
    ]


class AgentIn(Schema):
    agent_id_number: str
    valid_until: dt.date | None = None


class AgentOut(Schema):
    person: str
    kind: str
    valid_until: dt.date | None


@router.post(
    "/enterprises/{uscc}/agents",
    response={201: AgentOut},
    tags=["enterprises"],
    summary="Authorise a person to act for the enterprise (legal representative)",
)
def authorise_agent(request, uscc: str, payload: AgentIn):
    link = services.authorise_agent(request.auth, uscc=uscc, **payload.dict())
    return Status(
        201, {"person": str(link.person.public_id), "kind": link.kind, "valid_until": link.valid_until}
    )


# --- organisation -------------------------------------------------------------------------------


class DepartmentOut(Schema):
    code: str
    name: str
    short_name: str
    kind: str
    region: str
    parent: str | None
    depth: int

    @staticmethod
    def resolve_region(obj: Department):
        return obj.region_id

    @staticmethod
    def resolve_parent(obj: Department):
        return obj.path.rstrip("/").split("/")[-2] if obj.parent_id else None  # parent code, no query


class DepartmentIn(Schema):
    code: str
    name: str
    kind: str
    region_code: str
    parent_code: str = ""
    short_name: str = ""
    uscc: str = ""


@router.get("/departments", response=list[DepartmentOut], tags=["organisation"])
def list_departments(request):
    return list(services.list_departments(request.auth))


@router.get("/departments/{code}", response=DepartmentOut, tags=["organisation"])
def get_department(request, code: str):
    return services.access_department(request.auth, code)


@router.post("/departments", response={201: DepartmentOut}, tags=["organisation"])
def create_department(request, payload: DepartmentIn):
    return Status(201, services.create_department(request.auth, **payload.dict()))


class WindowOut(Schema):
    centre: str
    number: str
    name: str
    kind: str
    department: str | None
    is_active: bool

    @staticmethod
    def resolve_centre(obj: Window):
        return obj.centre.code

    @staticmethod
    def resolve_department(obj: Window):
        return obj.department.code if obj.department_id else None


@router.get("/windows", response=list[WindowOut], tags=["organisation"])
def list_windows(request, centre: str = ""):
    return list(services.list_windows(request.auth, centre_code=centre))


# --- staff --------------------------------------------------------------------------------------


class StaffOut(Schema):
    username: str
    display_name: str
    kind: str
    department: str
    title: str
    phone: str
    is_active: bool
    roles: list[RoleGrantOut]

    @staticmethod
    def resolve_username(obj: Staff):
        return obj.user.username

    @staticmethod
    def resolve_display_name(obj: Staff):
        return obj.user.display_name

    @staticmethod
    def resolve_kind(obj: Staff):
        return obj.user.kind

    @staticmethod
    def resolve_department(obj: Staff):
        return obj.department.code

    @staticmethod
    def resolve_phone(obj: Staff):
        return obj.phone_masked

    @staticmethod
    def resolve_is_active(obj: Staff):
        return obj.user.is_active

    @staticmethod
    def resolve_roles(obj: Staff):
        return [
            {"role": r.role, "department": r.department.code, "include_subtree": r.include_subtree}
            for r in obj.roles.select_related("department")
        ]


class StaffIn(Schema):
    username: str
    display_name: str
    department_code: str
    password: str | None = None
    title: str = ""
    phone: str = ""
    kind: str = "staff"
    roles: list[str] = []


@router.get("/staff", response=list[StaffOut], tags=["staff"], summary="Staff in the departments you may see")
@paginate(PageNumberPagination, page_size=50)
def list_staff(request, department: str = "", q: str = "", role: str = ""):
    return services.list_staff(request.auth, department_code=department, q=q, role=role)


@router.get("/staff/{username}", response=StaffOut, tags=["staff"])
def get_staff(request, username: str):
    return services.access_staff(request.auth, username)


@router.post("/staff", response={201: StaffOut}, tags=["staff"])
def create_staff(request, payload: StaffIn):
    data = payload.dict()
    data["roles"] = [(r, r in SUBTREE_BY_DEFAULT) for r in data["roles"]]
    return Status(201, services.create_staff(request.auth, **data))


class RoleIn(Schema):
    role: str
    department_code: str
    include_subtree: bool | None = None
    expires_at: dt.datetime | None = None


@router.post("/staff/{username}/roles", response={201: RoleGrantOut}, tags=["staff"])
def assign_role(request, username: str, payload: RoleIn):
    a = services.assign_role(request.auth, username=username, **payload.dict())
    return Status(
        201, {"role": a.role, "department": a.department.code, "include_subtree": a.include_subtree}
    )


@router.delete("/staff/{username}/roles/{role}/{department_code}", response={204: None}, tags=["staff"])
def revoke_role(request, username: str, role: str, department_code: str):
    services.revoke_role(request.auth, username=username, role=role, department_code=department_code)
    return Status(204, None)
