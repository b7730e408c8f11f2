"""免提交: materials the government already holds, found for an applicant who consents to their use.

A catalogue material names the e-licence type (`licence_type`) or the shared-data query
(`data_query`) that can stand in for the paper. Cases asks the licence library (a licence of the
holder in force) and the exchange (a query under the consuming department's grant, logged there)
through their services; neither of them knows about cases (ARCHITECTURE.md: cases uses licences
and exchange, never the other way round).
"""

import logging
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from tongban.accounts.models import Department, Enterprise, Person
from tongban.exchange import reuse as shared_data
from tongban.licences import services as licences

log = logging.getLogger(__name__)

LICENCE = "licence"
SHARED = "shared"


@dataclass
class Holder:
    """Who applies: the person and, when they act for one, the enterprise; and which department
    will rely on the material (the consumer of a shared-data query)."""

    person: Person | None
    enterprise: Enterprise | None = None
    department: Department | None = None
    purpose: str = ""


@dataclass
class Found:
    """What stands in for a material: where it came from and a line a clerk can read."""

    source: str  # LICENCE | SHARED
    reference: str  # the licence code, or the exchange call's reference
    summary: str  # e.g. "电子证照 营业执照 4Q2M-…，有效期至 长期"
    detail: dict = field(default_factory=dict)


def _licence(holder: Holder, type_code: str) -> Found | None:
    licence = licences.stand_in(
        type_code,
        person=holder.person,
        enterprise_uscc=holder.enterprise.uscc if holder.enterprise is not None else "",
    )
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


def _shared(holder: Holder, code: str) -> Found | None:
    if holder.department is None:
        return None
    answer = shared_data.find_shared(
        code,
        person_id_number=holder.person.id_number if holder.person is not None else "",
        enterprise_uscc=holder.enterprise.uscc if holder.enterprise is not None else "",
        department_code=holder.department.code,
        purpose=holder.purpose,
    )
    if answer is None:
        return None
    return Found(source=SHARED, reference=answer.reference, summary=answer.summary, detail=answer.detail)


def find(holder: Holder, *, licence_type: str = "", data_query: str = "") -> Found | None:
    """The first source that satisfies the material: a licence the holder has, then shared data.
    A source that fails is logged and skipped: the material then stays for the applicant."""
    for finder, code in ((_licence, licence_type), (_shared, data_query)):
        if not code:
            continue
        try:
            found = finder(holder, code)
        except Exception:  # a source's fault must not stop the application
            log.exception("免提交: %s failed for %s", finder.__name__, code)
            continue
        if found is not None:
            return found
    return None


def find_all(holder: Holder, materials: list[dict]) -> dict[str, Found]:
    """Material name → what satisfies it, for materials given as dicts with name, licence_type and
    data_query (as the application's target lists them)."""
    found = {}
    representative = None
    for material in materials:
        licence_type, data_query = material.get("licence_type", ""), material.get("data_query", "")
        if not (licence_type or data_query):
            continue
        subject = holder
        if holder.enterprise is not None and "法定代表人" in material["name"]:
            # The legal representative's own certificate, whoever applies for the enterprise.
            if representative is None:
                representative = holder.enterprise.legal_representative or holder.person
            subject = Holder(representative, holder.enterprise, holder.department, holder.purpose)
        hit = find(subject, licence_type=licence_type, data_query=data_query)
        if hit is not None:
            found[material["name"]] = hit
    return found
