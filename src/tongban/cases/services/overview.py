"""The citizen's 我的 centre: what waits for them across their cases, counted once per page view."""

from dataclasses import dataclass, field

from django.db.models import Count

from ..models import Case, CaseStatus
from ._base import list_my_cases

# A result can be rated once it is final for the applicant (as the case page offers it).
RATEABLE = (CaseStatus.ISSUED, CaseStatus.NOT_ACCEPTED, CaseStatus.REVOKED)


@dataclass
class MyOverview:
    to_supplement: int = 0  # 待补正: the reviewer waits for the applicant
    in_progress: int = 0  # 办理中: submitted or accepted, not decided yet
    to_rate: int = 0  # 待评价: a final result the applicant has not rated
    to_collect: int = 0  # 待领取: decided, the result not handed over yet
    recent: list[Case] = field(default_factory=list)


def my_overview(actor, *, recent: int = 5) -> MyOverview:
    cases = list_my_cases(actor)
    by_status = dict(cases.order_by().values_list("status").annotate(n=Count("id")))
    person = getattr(actor, "person", None)
    to_rate = (
        cases.filter(applicant=person, status__in=RATEABLE, rating__isnull=True).count() if person else 0
    )
    return MyOverview(
        to_supplement=by_status.get(CaseStatus.SUPPLEMENT, 0),
        in_progress=by_status.get(CaseStatus.SUBMITTED, 0) + by_status.get(CaseStatus.IN_PROGRESS, 0),
        to_rate=to_rate,
        to_collect=by_status.get(CaseStatus.DECIDED, 0),
        recent=list(cases.select_related("enterprise").order_by("-submitted_at", "-id")[:recent]),
    )
