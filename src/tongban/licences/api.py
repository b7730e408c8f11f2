"""E-licence endpoints: public verification by code, and the public keys offline verifiers need."""

import datetime as dt

from ninja import Field, Router, Schema

from . import services

router = Router(tags=["licences"])


class VerificationOut(Schema):
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
    response=VerificationOut,
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
