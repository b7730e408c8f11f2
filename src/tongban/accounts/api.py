"""Accounts and organisation endpoints. Handlers only translate HTTP to service calls.

ID numbers travel in request bodies, never in URLs, so they stay out of access logs.
"""

import datetime as dt
import uuid

from ninja import Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from . import services
from .models import Department, Staff, Window
from .roles import SUBTREE_BY_DEFAULT

router = Router()


# --- me -----------------------------------------------------------------------------------------


class GrantOut(Schema):
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
    roles: list[GrantOut]
    person: PersonCardOut | None


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
    }


# --- citizens and persons -----------------------------------------------------------------------


class CitizenRegisterIn(Schema):
    username: str
    password: str
    name: str
    id_number: str
    phone: str


class UserOut(Schema):
    username: str
    display_name: str
    kind: str


@router.post(
    "/citizens",
    auth=None,
    response={201: UserOut},
    tags=["persons"],
    summary="Citizen self-registration on the portal",
)
def register_citizen(request, payload: CitizenRegisterIn):
    user = services.register_citizen(**payload.dict())
    return Status(201, user)


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
    roles: list[GrantOut]

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


@router.post("/staff/{username}/roles", response={201: GrantOut}, tags=["staff"])
def assign_role(request, username: str, payload: RoleIn):
    a = services.assign_role(request.auth, username=username, **payload.dict())
    return Status(
        201, {"role": a.role, "department": a.department.code, "include_subtree": a.include_subtree}
    )


@router.delete("/staff/{username}/roles/{role}/{department_code}", response={204: None}, tags=["staff"])
def revoke_role(request, username: str, role: str, department_code: str):
    services.revoke_role(request.auth, username=username, role=role, department_code=department_code)
    return Status(204, None)
