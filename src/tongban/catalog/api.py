"""Catalogue endpoints: public search and guides; drafting and publishing for catalogue managers."""

import datetime as dt
from typing import Literal

from ninja import Body, Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tongban.core.errors import NotFound
from tongban.core.pagination import PageNumberPagination

from . import search, services
from .models import ItemVersion

router = Router(tags=["catalogue"])


class HitOut(Schema):
    kind: str
    code: str
    name: str
    department: str
    score: float


@router.get(
    "/catalog/search", auth=None, response=list[HitOut], summary="Search items and bundles in Chinese"
)
def search_catalogue(request, q: str = Query(..., max_length=100), limit: int = Query(10, ge=1, le=50)):
    return [hit.__dict__ for hit in search.search(q, limit)]


class ItemMaterialOut(Schema):
    name: str
    required: bool
    core: bool
    form: str
    copies: int
    licence_type: str
    data_query: str
    notes: str


class ItemSummaryOut(Schema):
    code: str
    name: str
    department: str
    item_type: str
    promised_limit_days: int | None
    online_level: str
    high_frequency: bool
    audience: str

    @staticmethod
    def resolve_code(obj: ItemVersion):
        return obj.item.code

    @staticmethod
    def resolve_department(obj: ItemVersion):
        return obj.item.department.code


class ItemOut(ItemSummaryOut):
    version: int
    status: str
    parent_name: str
    legal_basis: str
    conditions: str
    statutory_limit_days: int | None
    fee: str
    risk_level: str
    visits_required: int
    accepts_with_gaps: bool
    commitment_allowed: bool
    auto_approvable: bool
    keywords: str
    steps: list[str]
    form_fields: list[dict]
    licence_type: str
    published_at: dt.datetime | None
    materials: list[ItemMaterialOut]

    @staticmethod
    def resolve_version(obj: ItemVersion):
        return obj.number

    @staticmethod
    def resolve_materials(obj: ItemVersion):
        return list(obj.materials.all())


@router.get("/catalog/items", auth=None, response=list[ItemSummaryOut], summary="Published items")
@paginate(PageNumberPagination, page_size=50)
def list_items(
    request,
    department: str = "",
    item_type: str = "",
    high_frequency: bool | None = None,
    audience: Literal["person", "enterprise"] | None = None,
):
    """With `audience`, the items serving it, those serving both included (the portal's tabs)."""
    qs = services.published_items().order_by("item__code")
    if audience:
        qs = qs.filter(audience__in=[audience, "both"])
    if department:
        qs = qs.filter(item__department__code=department)
    if item_type:
        qs = qs.filter(item_type=item_type)
    if high_frequency is not None:
        qs = qs.filter(high_frequency=high_frequency)
    return qs


@router.get(
    "/catalog/items/{code}", auth=None, response=ItemOut, summary="An item's published version (办事指南)"
)
def get_item(request, code: str):
    return services.get_published(code)


class ItemCreateIn(Schema):
    code: str
    department_code: str
    content: dict = Field(default_factory=dict, description="Any of the item content fields")
    materials: list[dict] = Field(default_factory=list)


@router.post(
    "/catalog/items", response={201: ItemOut}, summary="Create an item (its first version is a draft)"
)
def create_item(request, payload: ItemCreateIn):
    item = services.create_item(
        request.auth,
        code=payload.code,
        department_code=payload.department_code,
        materials=payload.materials,
        **payload.content,
    )
    return Status(201, item.versions.get(number=1))


@router.get("/catalog/items/{code}/draft", response=ItemOut, summary="The item's draft (catalogue managers)")
def get_draft(request, code: str):
    draft = services.get_draft(request.auth, code)
    if draft is None:
        raise NotFound()
    return draft


@router.patch(
    "/catalog/items/{code}/draft", response=ItemOut, summary="Change content; creates the draft if needed"
)
def update_draft(request, code: str, payload: dict = Body(...)):
    return services.update_item(request.auth, code, **payload)


@router.put("/catalog/items/{code}/draft/materials", response=list[ItemMaterialOut])
def set_materials(request, code: str, payload: list[dict] = Body(...)):
    return services.set_materials(request.auth, code, payload)


@router.post("/catalog/items/{code}/publish", response=ItemOut, summary="Publish the draft")
def publish(request, code: str):
    return services.publish_item(request.auth, code)


@router.delete("/catalog/items/{code}/draft", response={204: None})
def discard(request, code: str):
    services.discard_draft(request.auth, code)
    return Status(204, None)


class VersionOut(Schema):
    version: int
    status: str
    name: str
    published_at: dt.datetime | None
    superseded_at: dt.datetime | None

    @staticmethod
    def resolve_version(obj: ItemVersion):
        return obj.number


@router.get("/catalog/items/{code}/versions", response=list[VersionOut])
def versions(request, code: str):
    return list(services.item_versions(request.auth, code))


class BundleMemberOut(Schema):
    code: str
    name: str
    version: int


class BundleOut(Schema):
    code: str
    name: str
    description: str
    promised_limit_days: int | None
    members: list[BundleMemberOut]
    form_fields: list[dict]
    materials: list[dict]
    questions_saved: int


@router.get("/catalog/bundles/{code}", auth=None, response=BundleOut, summary="A bundle with its merged form")
def get_bundle(request, code: str):
    version = services.get_published_bundle(code)
    merged = services.merged_form(version)
    members = version.members.select_related("item_version__item")
    return {
        "code": version.bundle.code,
        "name": version.name,
        "description": version.description,
        "promised_limit_days": version.promised_limit_days,
        "members": [
            {"code": m.item_version.item.code, "name": m.item_version.name, "version": m.item_version.number}
            for m in members
        ],
        "form_fields": merged.fields,
        "materials": merged.materials,
        "questions_saved": merged.saved,
    }


class BundleIn(Schema):
    code: str
    lead_department_code: str
    name: str
    item_codes: list[str]
    description: str = ""
    keywords: str = ""
    promised_limit_days: int | None = None
    publish: bool = False


class BundleCreatedOut(Schema):
    code: str
    version: int
    status: str


@router.post("/catalog/bundles", response={201: BundleCreatedOut})
def create_bundle(request, payload: BundleIn):
    bundle = services.create_bundle(request.auth, **payload.dict())
    version = bundle.versions.get(number=1)
    return Status(201, {"code": bundle.code, "version": version.number, "status": version.status})
