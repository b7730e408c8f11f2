"""Official documents in the demo city: the shipped outgoing and incoming processes published, the
market regulation bureau's e-seal (held by its deputy head, who runs its office steps), and a head
for the human resources bureau, so a document issued by one bureau is handled at another."""

from django.conf import settings

from tongban.accounts import services as accounts
from tongban.accounts.models import Role, User
from tongban.core.authz import SYSTEM, SystemActor

from . import flow, services
from .models import Seal

DEMO_ACTOR = SystemActor("operator:seed")
SEAL_CODE = "scjgj-gw-01"
SEAL_AGENCY = "scjgj"
SEAL_HOLDERS = ["division_head"]
# (username, name, department, role, title)
STAFF = [("rs_head", "韩局长", "rsj", Role.BUREAU_HEAD, "局长")]


def load_documents() -> dict:
    """Idempotent: what it created, by kind."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    created = {"processes": flow.load_definitions(), "seals": 0, "staff": 0}
    for username, name, department, role, title in STAFF:
        if User.objects.filter(username=username).exists():
            continue
        staff = accounts.create_staff(
            DEMO_ACTOR,
            username=username,
            display_name=name,
            department_code=department,
            password=settings.TONGBAN_DEMO_PASSWORD,
            title=title,
            roles=[],
        )
        accounts.assign_role(
            DEMO_ACTOR, username=username, role=role, department_code=department, include_subtree=True
        )
        TOTPDevice.objects.create(user=staff.user, name="demo authenticator", confirmed=True)
        created["staff"] += 1
    if not Seal.objects.filter(code=SEAL_CODE).exists() and User.objects.filter(username__in=SEAL_HOLDERS):
        services.create_seal(SYSTEM, agency_code=SEAL_AGENCY, code=SEAL_CODE, holders=SEAL_HOLDERS)
        created["seals"] += 1
    return created
