"""Where the licence library meets case handling: results become licences, licences stand in for
materials (免提交). Connected in LicencesConfig.ready()."""

from django.utils.translation import gettext as _

from tongban.cases.reuse import LICENCE, Found, Holder

from . import services
from .models import HolderKind, LicenceType


def on_result_issued(sender, case_number: str, licence_type: str, **kwargs) -> None:
    from . import tasks

    tasks.issue_from_case(case_number, licence_type)


def on_materials_reused(sender, case_number: str, purpose: str = "", licences=None, **kwargs) -> None:
    if licences:
        services.record_uses(case_number, licences, purpose=purpose)


def find_licence(holder: Holder, type_code: str) -> Found | None:
    """The holder's licence of this type in force now, as what stands in for the material."""
    kind = LicenceType.objects.filter(code=type_code).values_list("holder_kind", flat=True).first()
    if kind is None:
        return None
    if kind == HolderKind.ENTERPRISE:
        if holder.enterprise is None:
            return None
        licence = services.valid_licence(type_code, uscc=holder.enterprise.uscc)
    else:
        if holder.person is None:
            return None
        licence = services.valid_licence(type_code, person=holder.person)
    if licence is None:
        return None
    until = licence.valid_until.isoformat() if licence.valid_until else _("until revoked")
    return Found(
        source=LICENCE,
        reference=licence.code,
        summary=_("E-licence %(name)s %(code)s, valid %(until)s")
        % {"name": licence.licence_type.name, "code": licence.code, "until": until},
        detail={"type": type_code},
    )


# --- checks the 秒批 rules can read (cases.verification) ------------------------------------------


def enterprise_licensed(subject) -> bool | None:
    """The enterprise applied for holds a business licence in force (None: no enterprise)."""
    enterprise = subject.enterprise
    if enterprise is None:
        return None
    return services.valid_licence("business_licence", uscc=enterprise.uscc) is not None


def applicant_identity_licence(subject) -> bool | None:
    """The applicant holds a resident-ID e-licence in force (None: the applicant is unknown)."""
    person = subject.person
    if person is None:
        return None
    return services.valid_licence("resident_id", person=person) is not None
