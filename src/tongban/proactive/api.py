"""Proactive services for the people who act for an enterprise: the policies it qualifies for and
why, its 免申即享 grants, and its answer to each (accept, decline, contest). Thin over
proactive.services, which decide who sees what: a caller sees only the enterprises they act for.
"""

import datetime as dt

from ninja import Field, Router, Schema

from . import services
from .models import Benefit

router = Router(tags=["proactive"])


class ReasonOut(Schema):
    label: str
    expression: str = Field(..., description="The condition in the rule language")
    result: bool | None = Field(..., description="null: the data needed was missing")


class BenefitOut(Schema):
    reference: str
    policy: str = Field(..., description="The policy's code")
    policy_name: str
    benefit: str = Field(..., description="What the policy gives")
    enterprise: str = Field(..., description="USCC of the beneficiary")
    status: str = Field(
        ..., description="granted, accepted, declined, contested, confirmed (after review) or withdrawn"
    )
    granted_at: dt.datetime
    reasons: list[ReasonOut]
    values: dict[str, object] = Field(..., description="The data the grant was decided on, by item")
    contest_reason: str
    decision_note: str
    decline_reason: str
    may_accept: bool
    may_decline: bool
    may_contest: bool


def _benefit_out(actor, benefit: Benefit) -> dict:
    answerable = services.may_answer(actor, benefit)
    return {
        "reference": benefit.reference,
        "policy": benefit.policy.code,
        "policy_name": benefit.policy.name,
        "benefit": benefit.policy.benefit,
        "enterprise": benefit.subject_key,
        "status": benefit.status,
        "granted_at": benefit.granted_at,
        "reasons": benefit.reasons,
        "values": benefit.values,
        "contest_reason": benefit.contest_reason,
        "decision_note": benefit.decision_note,
        "decline_reason": benefit.decline_reason,
        "may_accept": answerable,
        "may_decline": answerable,
        "may_contest": services.may_contest(actor, benefit),
    }


class ValueOut(Schema):
    item: str
    label: str
    value: object


class MatchOut(Schema):
    policy: str
    policy_name: str
    kind: str
    benefit: str
    automatic: bool = Field(..., description="免申即享: granted without an application")
    outcome: str = Field(..., description="qualified, or undetermined (some data missing)")
    reasons: list[ReasonOut]
    values: list[ValueOut]
    run: str = Field(..., description="The matching run that found it")
    matched_at: dt.datetime
    grant: str | None = Field(None, description="Reference of the 免申即享 grant, if any")


class EnterpriseMatchesOut(Schema):
    enterprise: str
    name: str
    matches: list[MatchOut]
    benefits: list[BenefitOut]


@router.get(
    "/proactive/benefits",
    response=list[BenefitOut],
    summary="免申即享 grants of the enterprises the caller acts for",
)
def my_benefits(request):
    actor = request.auth
    return [_benefit_out(actor, b) for b in services.my_benefits(actor)]


@router.get(
    "/proactive/enterprises/{uscc}/matches",
    response=EnterpriseMatchesOut,
    summary="Policies an enterprise the caller acts for qualifies for, with each condition's result",
)
def enterprise_matches(request, uscc: str):
    actor = request.auth
    enterprise, matches, benefits = services.enterprise_matches(actor, uscc)
    return {
        "enterprise": enterprise.uscc,
        "name": enterprise.name,
        "matches": [
            {
                "policy": m.policy.code,
                "policy_name": m.policy.name,
                "kind": m.policy.kind,
                "benefit": m.policy.benefit,
                "automatic": m.policy.automatic,
                "outcome": m.outcome,
                "reasons": [r.__dict__ for r in m.reasons],
                "values": [
                    {"item": item, "label": str(label), "value": value}
                    for item, (label, value) in zip(m.items, m.values, strict=True)
                ],
                "run": m.run.reference,
                "matched_at": m.run.started_at,
                "grant": m.benefit.reference if m.benefit else None,
            }
            for m in matches
        ],
        "benefits": [_benefit_out(actor, b) for b in benefits],
    }


class DeclineIn(Schema):
    reason: str = Field(..., description="Why the enterprise does not want the grant (at most 300)")


class ContestIn(Schema):
    reason: str = Field(..., description="What is wrong with the grant (at most 1000)")


@router.post("/proactive/benefits/{reference}/accept", response=BenefitOut, summary="Accept a grant")
def accept(request, reference: str):
    return _benefit_out(request.auth, services.accept(request.auth, reference))


@router.post("/proactive/benefits/{reference}/decline", response=BenefitOut, summary="Decline a grant")
def decline(request, reference: str, payload: DeclineIn):
    return _benefit_out(request.auth, services.decline(request.auth, reference, reason=payload.reason))


@router.post(
    "/proactive/benefits/{reference}/contest",
    response=BenefitOut,
    summary="Contest a grant (wrong data or amount); the policy's department reviews it",
)
def contest(request, reference: str, payload: ContestIn):
    return _benefit_out(request.auth, services.contest(request.auth, reference, reason=payload.reason))
