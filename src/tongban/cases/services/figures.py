"""Figures of case handling that the efficiency reports (效能监察) read: here, 免提交率.

DOMAIN.md: 免提交率 = materials satisfied by a licence or shared data / materials required, over
the cases submitted in the period. Only cases the caller may see (CASE_VIEW, with its sub-tree)
count, so a department head gets their department's rate and a supervisor the whole region's.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from tongban.accounts import roles as perms
from tongban.core.errors import NotPermitted

from ..models import CaseMaterial, MaterialSource


@dataclass
class ExemptionRate:
    required: int  # required materials of the cases in the period
    by_licence: int  # of which an e-licence stood in
    by_shared_data: int  # of which a shared-data answer stood in

    @property
    def exempted(self) -> int:
        return self.by_licence + self.by_shared_data

    @property
    def rate(self) -> float | None:
        return self.exempted / self.required if self.required else None


def exemption_rate(actor, start: dt.date, end: dt.date, *, department_code: str = "") -> ExemptionRate:
    """免提交率 over the cases submitted from `start` to `end` (inclusive, local days)."""
    if not actor.can(perms.CASE_VIEW):
        raise NotPermitted()
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    rows = CaseMaterial.objects.filter(
        actor.scope_q(perms.CASE_VIEW, "case__department__path"),
        required=True,
        case__submitted_at__gte=since,
        case__submitted_at__lt=until,
    )
    if department_code:
        rows = rows.filter(case__department__code=department_code)
    counts = rows.aggregate(
        required=Count("id"),
        licence=Count("id", filter=Q(source=MaterialSource.LICENCE)),
        shared=Count("id", filter=Q(source=MaterialSource.SHARED)),
    )
    return ExemptionRate(counts["required"], counts["licence"], counts["shared"])
