"""Data-sharing endpoints (数据共享交换): the resource catalogue, grants, queries and call statistics.

Other departments' systems are the usual callers, with bearer tokens of system accounts. Subjects
(ID numbers, credit codes) travel in request bodies, never in URLs, so they stay out of access logs.
"""

import datetime as dt

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from tongban.accounts import roles as perms
from tongban.core.authz import require
from tongban.core.pagination import PageNumberPagination

from . import services

router = Router(tags=["exchange"])


class FieldOut(Schema):
    key: str
    label: str
    level: str = Field(
        ..., description="Classification: public, internal, sensitive, important (configurable)"
    )
    personal: bool
    required: bool


class PredicateOut(Schema):
    code: str
    label: str
    params: list[str]


class ResourceOut(Schema):
    code: str
    name: str
    subject: str = Field(..., description="What this resource is the single source of truth for (一数一源)")
    provider: str
    provider_name: str
    key_kind: str
    frequency: str
    adapter: str
    fields: list[FieldOut]
    predicates: list[PredicateOut]
    negative_list: list[str]
    record_count: int
    imported_at: dt.datetime | None


def _resource_out(resource, banned: dict[int, list[str]]) -> dict:
    return {
        "code": resource.code,
        "name": resource.name,
        "subject": resource.subject,
        "provider": resource.provider.code,
        "provider_name": resource.provider.name,
        "key_kind": resource.key_kind,
        "frequency": resource.frequency,
        "adapter": resource.adapter,
        "fields": resource.fields,
        "predicates": [
            {"code": code, "label": spec.get("label", code), "params": spec.get("params", [])}
            for code, spec in resource.predicates.items()
        ],
        "negative_list": banned.get(resource.pk, []),
        "record_count": resource.record_count,
        "imported_at": resource.imported_at,
    }


def _banned(actor) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for entry in services.negative_list(actor):
        out.setdefault(entry.resource_id, []).append(entry.field)
    return out


@router.get("/exchange/resources", response=list[ResourceOut], summary="The data resource catalogue")
def list_resources(request):
    banned = _banned(request.auth)
    return [_resource_out(r, banned) for r in services.resources(request.auth)]


@router.get("/exchange/resources/{code}", response=ResourceOut, summary="One data resource")
def get_resource(request, code: str):
    return _resource_out(services.get_resource(request.auth, code), _banned(request.auth))


class ResourceIn(Schema):
    name: str
    subject: str
    provider: str
    key_kind: str = Field(..., description="person, enterprise or any")
    key_field: str
    fields: list[dict] = Field(..., description='[{"key", "label", "level", "personal", "required"}]')
    frequency: str = "daily"
    adapter: str = Field("table", description="table, file, http or licence")
    adapter_config: dict = {}
    mapping: dict = Field({}, description="columns, rules, codes, updated_on: see docs/exchange.md")
    predicates: dict = {}
    description: str = ""
    stale_after_days: int = Field(365, ge=1, le=36500)


@router.put(
    "/exchange/resources/{code}",
    response=ResourceOut,
    summary="Create or update a catalogue entry (the provider's exchange.provide)",
)
def save_resource(request, code: str, payload: ResourceIn):
    data = payload.dict()
    services.save_resource(request.auth, code=code, provider_code=data.pop("provider"), **data)
    return _resource_out(services.get_resource(request.auth, code), _banned(request.auth))


class QualityOut(Schema):
    resource: str
    total: int
    bad_key: int = Field(
        ..., description="ID numbers (GB 11643) or credit codes (GB 32100) failing their check"
    )
    duplicates: int
    missing: int = Field(..., description="Rows missing a required field")
    stale: int
    dirty: int
    clean_share: float


@router.get(
    "/exchange/resources/{code}/quality",
    response=QualityOut,
    summary="Data quality report of a held resource (provider and data authority only)",
)
def quality(request, code: str):
    report = services.quality_report(request.auth, code)
    return {**report.__dict__, "resource": code, "clean_share": report.clean_share}


class GrantIn(Schema):
    consumer: str
    resource: str
    fields: list[str]
    purpose: str
    legal_basis: str
    valid_until: dt.date


class GrantOut(Schema):
    reference: str
    consumer: str
    resource: str
    fields: list[str]
    purpose: str
    legal_basis: str
    valid_until: dt.date
    status: str = Field(..., description="pending, provider_approved, approved, rejected or revoked")
    requested_at: dt.datetime
    decision_note: str


def _grant_out(grant) -> dict:
    return {
        "reference": grant.reference,
        "consumer": grant.consumer.code,
        "resource": grant.resource.code,
        "fields": grant.fields,
        "purpose": grant.purpose,
        "legal_basis": grant.legal_basis,
        "valid_until": grant.valid_until,
        "status": grant.status,
        "requested_at": grant.requested_at,
        "decision_note": grant.decision_note,
    }


@router.post("/exchange/grants", response={201: GrantOut}, summary="Request a grant for a department")
def request_grant(request, payload: GrantIn):
    grant = services.request_grant(
        request.auth,
        consumer_code=payload.consumer,
        resource_code=payload.resource,
        fields=payload.fields,
        purpose=payload.purpose,
        legal_basis=payload.legal_basis,
        valid_until=payload.valid_until,
    )
    return Status(201, _grant_out(services.get_grant(request.auth, grant.reference)))


@router.get("/exchange/grants", response=list[GrantOut], summary="Grants you are party to")
@paginate(PageNumberPagination, page_size=50)
def list_grants(request, status: str = "", resource: str = "", consumer: str = ""):
    qs = services.grants(request.auth, status=status, resource=resource, consumer=consumer)
    return [_grant_out(g) for g in qs]


@router.get("/exchange/grants/{reference}", response=GrantOut, summary="One grant")
def get_grant(request, reference: str):
    return _grant_out(services.get_grant(request.auth, reference))


class DecisionIn(Schema):
    approve: bool
    note: str = ""


@router.post(
    "/exchange/grants/{reference}/decision",
    response=GrantOut,
    summary="Approve or reject: first the provider, then the data authority",
)
def decide(request, reference: str, payload: DecisionIn):
    services.decide(request.auth, reference, approve=payload.approve, note=payload.note)
    return _grant_out(services.get_grant(request.auth, reference))


class RevokeIn(Schema):
    reason: str


@router.post(
    "/exchange/grants/{reference}/revoke",
    response=GrantOut,
    summary="Revoke an approved grant (provider or data authority); calls under it stop at once",
)
def revoke(request, reference: str, payload: RevokeIn):
    services.revoke_grant(request.auth, reference, reason=payload.reason)
    return _grant_out(services.get_grant(request.auth, reference))


class QueryIn(Schema):
    resource: str
    subject: str = Field(..., description="ID number or unified social credit code")
    fields: list[str]
    purpose: str
    department: str = Field("", description="The consuming department; default: the caller's own")


class VerifyIn(Schema):
    resource: str
    predicate: str
    subject: str = Field(..., description="ID number or unified social credit code")
    params: dict[str, str | int | float | bool] = {}
    purpose: str
    department: str = ""


class AnswerOut(Schema):
    reference: str = Field(..., description="The call's reference in the call log")
    resource: str
    provider: str
    found: bool
    answer: bool | None = Field(
        None, description="Verify-only: whether the predicate holds; null when unknown"
    )
    record: dict = Field(default_factory=dict, description="Full queries: the granted fields asked for")


@router.post(
    "/exchange/query",
    response=AnswerOut,
    summary="Full-record query of granted fields; refused (403, field-level reason) outside a grant",
)
def query(request, payload: QueryIn):
    return services.query(
        request.auth,
        payload.resource,
        subject=payload.subject,
        fields=payload.fields,
        purpose=payload.purpose,
        department_code=payload.department or None,
    ).__dict__


@router.post(
    "/exchange/verify",
    response=AnswerOut,
    summary="Verify-only query (可用不可见): whether a predicate holds, revealing no data",
)
def verify(request, payload: VerifyIn):
    return services.verify(
        request.auth,
        payload.resource,
        payload.predicate,
        subject=payload.subject,
        params=payload.params,
        purpose=payload.purpose,
        department_code=payload.department or None,
    ).__dict__


class StatOut(Schema):
    code: str
    name: str
    total: int
    answered: int
    not_found: int
    refused: int
    failed: int
    mean_latency_ms: float


@router.get(
    "/exchange/calls/stats",
    response=list[StatOut],
    summary="Call statistics per consumer or provider department, over the calls you may see",
)
def call_stats(request, by: str = "consumer", since: dt.date | None = None, until: dt.date | None = None):
    return services.call_stats(request.auth, by=by, since=since, until=until)


class KpiOut(Schema):
    start: dt.date
    end: dt.date
    requests: int
    answered: int
    share_rate: float | None = Field(None, description="数据共享率: answered / requests")
    departments_providing: int
    departments: int
    provider_rate: float | None
    success_rate: float | None
    mean_latency_ms: float | None
    p95_latency_ms: float | None


@router.get(
    "/exchange/kpis", response=KpiOut, summary="数据共享率 and call KPIs for a period (data authority)"
)
def kpis(request, start: dt.date, end: dt.date):
    require(request.auth, perms.EXCHANGE_AUTHORITY)
    return services.sharing_kpis(start, end).__dict__
