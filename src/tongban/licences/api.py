"""E-licence endpoints: public verification by code, and the public keys offline verifiers need."""

import datetime as dt

from ninja import Field, Router, Schema

from . import services

router = Router(tags=["licences"])


class LicenceVerificationOut(Schema):
    status: str = Field(..., description="valid, revoked, expired, tampered or unknown")
    reason: str
    code: str
    type_name: str
    holder: str = Field(..., description="Masked for persons")
    issuer: str
    issued_at: str
    valid_until: str | None


@router.get(
    "/verify/{code}",
    auth=None,
    response=LicenceVerificationOut,
    summary="Verify an e-licence by its code (public): signature, revocation and expiry",
)
def verify(request, code: str):
    return services.verify(code).__dict__


class PublicKeyOut(Schema):
    department: str
    key_id: str
    public_key: str = Field(..., description="SM2, x ‖ y in hex (GB/T 32918)")
    status: str
    created_at: dt.datetime
    retired_at: dt.datetime | None


@router.get(
    "/licences/keys",
    auth=None,
    response=list[PublicKeyOut],
    summary="Departments' public signing keys, active and retired, for offline verification",
)
def public_keys(request, department: str = ""):
    return services.public_keys(department or None)


class ScanIn(Schema):
    text: str = Field(
        ..., max_length=4000, description="The QR code's content (TBL1.…), as a scanner reads it"
    )


class ScanOut(Schema):
    status: str = Field(..., description="valid, revoked, expired, tampered, unknown_key or unreadable")
    reason: str
    code: str
    type_name: str
    holder: str = Field(..., description="Masked for persons")
    issuer: str
    valid_until: str | None
    offline_status: str = Field(..., description="The signature check against the published keys alone")
    online_status: str | None = Field(None, description="The register's status, where it holds the licence")


@router.post(
    "/licences/scan",
    auth=None,
    response=ScanOut,
    summary="Verify a licence QR code: signature offline against published keys, then revocation",
)
def scan(request, payload: ScanIn):
    from tongban.core.authz import actor_for_request

    result = services.scan_text(actor_for_request(request), payload.text)
    o = result.offline
    return {
        "status": result.status,
        "reason": result.reason,
        "code": o.code,
        "type_name": o.type_name,
        "holder": o.holder,
        "issuer": o.issuer,
        "valid_until": o.valid_until,
        "offline_status": o.status,
        "online_status": result.online.status if result.online else None,
    }


class LicenceIssueIn(Schema):
    type: str = Field(..., description="The licence type's code, e.g. business_licence")
    holder_id: str = Field(..., description="ID number (persons) or unified social credit code (enterprises)")
    holder_name: str
    fields: dict = Field(default_factory=dict, description="The type's fields, by key")
    valid_from: dt.date | None = None


class IssuedOut(Schema):
    code: str
    type: str
    valid_until: dt.date | None


@router.post(
    "/licences",
    response={201: IssuedOut},
    summary="Issue a licence, signed by the type's department (staff or systems with licence.issue there)",
)
def issue(request, payload: LicenceIssueIn):
    from ninja.responses import Status

    licence = services.issue(
        request.auth,
        payload.type,
        holder_id=payload.holder_id,
        holder_name=payload.holder_name,
        fields=payload.fields,
        valid_from=payload.valid_from,
    )
    return Status(201, {"code": licence.code, "type": payload.type, "valid_until": licence.valid_until})
