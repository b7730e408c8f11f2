"""Shared data standing in for paper (免提交): what cases.reuse asks the exchange.

A catalogue material names a `data_query` code; here each code we can answer maps to a call on a
resource — a verify-only predicate where a yes is all the clerk needs, a few fields where the
material is a fact to read. The call runs under the consuming department's grant and is logged like
any other; without a grant it is refused (and logged) and the applicant provides the material.
"""

import logging
from dataclasses import dataclass

from tongban.core.authz import SystemActor
from tongban.core.errors import DomainError

from . import services

log = logging.getLogger(__name__)
FINDER_ACTOR = SystemActor("system:reuse")


@dataclass(frozen=True)
class SharedQuery:
    resource: str
    summary: str  # with {value} for a field query
    predicate: str = ""
    field: str = ""
    subject: str = "person"  # person | enterprise


QUERIES: dict[str, SharedQuery] = {
    "population.household": SharedQuery("population", "公安人口库：户籍登记已核验", predicate="registered"),
    "civil_affairs.marriage": SharedQuery(
        "civil_affairs", "民政婚姻库：婚姻状况为{value}", field="marital_status"
    ),
    "social_insurance.contribution": SharedQuery(
        "social_insurance", "人社社保库：累计缴费{value}个月", field="contribution_months"
    ),
    "social_insurance.employment_record": SharedQuery(
        "social_insurance", "人社社保库：劳动关系已解除（失业登记）已核验", predicate="unemployed"
    ),
    "market.enterprise_registered": SharedQuery(
        "enterprises", "市场监管主体库：企业存续已核验", predicate="active", subject="enterprise"
    ),
    "tax.no_arrears": SharedQuery(
        "tax", "税务征管库：无欠税已核验", predicate="no_arrears", subject="enterprise"
    ),
}


@dataclass(frozen=True)
class SharedAnswer:
    """What a shared-data query gave for a material: the call's reference (in the call log) and a
    line a clerk can read."""

    reference: str
    summary: str
    detail: dict


def find_shared(
    code: str, *, person_id_number: str, enterprise_uscc: str, department_code: str, purpose: str
) -> SharedAnswer | None:
    """Answer a catalogue `data_query` for the person or enterprise under the department's grant;
    None when the query is unknown, refused (logged by the service), failed or not satisfied."""
    spec = QUERIES.get(code)
    if spec is None or not department_code:
        return None
    subject = enterprise_uscc if spec.subject == "enterprise" else person_id_number
    if not subject:
        return None
    purpose = purpose or f"免提交：{code}"
    try:
        if spec.predicate:
            answer = services.verify(
                FINDER_ACTOR,
                spec.resource,
                spec.predicate,
                subject=subject,
                purpose=purpose,
                department_code=department_code,
            )
            if not answer.answer:
                return None
            summary = spec.summary
        else:
            answer = services.query(
                FINDER_ACTOR,
                spec.resource,
                subject=subject,
                fields=[spec.field],
                purpose=purpose,
                department_code=department_code,
            )
            value = answer.record.get(spec.field)
            if value in (None, ""):
                return None
            summary = spec.summary.format(value=value)
    except services.Refused as refused:
        # Logged as refused by the service; the material then stays for the applicant to provide.
        log.info("shared-data query %s refused for %s: %s", code, department_code, sorted(refused.fields))
        return None
    except DomainError:
        return None  # the provider failed; logged by the service
    return SharedAnswer(
        reference=answer.reference,
        summary=summary,
        detail={"resource": spec.resource, "provider": answer.provider, "query": code},
    )
