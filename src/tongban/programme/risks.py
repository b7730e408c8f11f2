"""The risk register (风险台账): each risk of a programme with its cause, owner, likelihood and impact
(1–5), score (likelihood × impact), responses, next review date and the tasks it threatens; every
change of likelihood or impact is kept, so the score's history can be read back.

A score from TONGBAN_PROGRAMME_RISK_RED_AT (default 15) is red, from
TONGBAN_PROGRAMME_RISK_YELLOW_AT (8) yellow, below that green; the matrix view counts the open risks
per (likelihood, impact) cell in those colours. A risk whose review date has passed is flagged.
The same rows carry the schedule risk the Monte Carlo simulation uses (probability, delay in
working days), imported with the plan; a register entry without them does not move the schedule.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Conflict, FieldErrors, Formatted, NotFound
from tongban.core.uow import current, use_case

from . import services, transfer
from .models import Risk, RiskScoreChange, RiskStatus, Task


def level(score: int | None) -> str:
    if score is None:
        return "none"
    if score >= settings.TONGBAN_PROGRAMME_RISK_RED_AT:
        return "red"
    if score >= settings.TONGBAN_PROGRAMME_RISK_YELLOW_AT:
        return "yellow"
    return "green"


def _scale(errors: FieldErrors, name: str, value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or not 1 <= number <= 5:
        errors.add(name, "invalid", _("Enter a whole number from 1 to 5."))
        return None
    return number


@use_case("programme.risk", object_type="programme_risk")
def set_risk(
    actor,
    programme_code: str,
    *,
    code: str,
    name: str,
    likelihood,
    impact,
    cause: str = "",
    owner_department: str = "",
    response: str = "",
    review_on="",
    tasks="",
    status: str = RiskStatus.OPEN,
    note: str = "",
    now: dt.datetime | None = None,
    existing: bool | None = None,
) -> Risk:
    """A planner adds a risk to the register or updates one; a new likelihood or impact is recorded
    in the risk's history with the planner's note. `existing` True: only an update (an unknown code
    is NotFound); False: only an addition (a code in use is a Conflict); None: either (the page)."""
    programme = services._planned_programme(actor, programme_code)
    now = now or timezone.now()
    errors = FieldErrors()
    code = (code or "").strip()
    if not services.CODE_RE.match(code):
        errors.add("code", "invalid", _("Use 1–40 letters, digits, “.”, “_” or “-”."))
    name = errors.require_text("name", name, max_length=200)
    for key, value, limit in (("cause", cause, 2000), ("response", response, 2000), ("note", note, 300)):
        if len((value or "").strip()) > limit:
            errors.add(key, "max_length", Formatted(_("At most %(n)d characters."), {"n": limit}))
    likely = _scale(errors, "likelihood", likelihood)
    hurt = _scale(errors, "impact", impact)
    department = None
    if (owner_department or "").strip():
        department = services._department(owner_department)
        if department is None:
            errors.add("owner_department", "unknown", _("No such department."))
    review = None
    if str(review_on or "").strip():
        review = services._date(review_on)
        if review is None:
            errors.add("review_on", "invalid", _("Enter a date as YYYY-MM-DD."))
    if status not in RiskStatus.values:
        errors.add("status", "invalid", _("Unknown status."))
    codes = (
        [c for c in transfer.LIST_SPLIT.split(str(tasks or "").strip()) if c]
        if isinstance(tasks, str)
        else list(tasks)
    )
    linked = list(Task.objects.filter(programme=programme, code__in=codes))
    missing = sorted(set(codes) - {t.code for t in linked})
    if missing:
        errors.add(
            "tasks", "unknown", Formatted(_("No task with the code %(code)s."), {"code": "、".join(missing)})
        )
    errors.raise_if_any()
    risk = Risk.objects.filter(programme=programme, code=code).first()  # the programme row is locked
    if existing is True and risk is None:
        raise NotFound()
    if existing is False and risk is not None:
        raise Conflict(_("A risk with this code is in the register."))
    changed = risk is None or (risk.likelihood, risk.impact) != (likely, hurt)
    if risk is None:
        risk = Risk(programme=programme, code=code, probability=0, delay_days=0)
    risk.name, risk.cause, risk.response = name, (cause or "").strip(), (response or "").strip()
    risk.likelihood, risk.impact, risk.owner_department = likely, hurt, department
    risk.review_on, risk.status = review, status
    risk.save()
    risk.tasks.set(linked)
    if changed:
        RiskScoreChange.objects.create(
            risk=risk,
            at=now,
            likelihood=likely,
            impact=hurt,
            score=likely * hurt,
            author=getattr(actor, "user", None),
            note=(note or "").strip(),
        )
    current().audit.object_ref = f"{programme.code}/{code}"
    current().audit.detail = {"likelihood": likely, "impact": hurt, "score": likely * hurt}
    return risk


def register(actor, programme_code: str, *, on: dt.date | None = None) -> dict:
    """The register (open risks first, by score) and its 5 × 5 matrix of open risks."""
    programme = services.access_programme(actor, programme_code)
    on = on or services.today()
    risks = list(
        Risk.objects.filter(programme=programme)
        .select_related("owner_department")
        .prefetch_related("tasks", "history")
    )
    rows = []
    cells: dict[tuple[int, int], list[str]] = {}
    for r in risks:
        score = r.score
        rows.append(
            {
                "risk": r,
                "score": score,
                "level": level(score),
                "review_due": r.status == RiskStatus.OPEN and r.review_on is not None and r.review_on < on,
                "history": sorted(r.history.all(), key=lambda h: h.at),
            }
        )
        if r.status == RiskStatus.OPEN and score is not None:
            cells.setdefault((r.likelihood, r.impact), []).append(r.code)
    rows.sort(key=lambda row: (row["risk"].status != RiskStatus.OPEN, -(row["score"] or 0), row["risk"].code))
    matrix = [
        {
            "likelihood": likely,
            "cells": [
                {"impact": hurt, "codes": cells.get((likely, hurt), []), "level": level(likely * hurt)}
                for hurt in range(1, 6)
            ],
        }
        for likely in range(5, 0, -1)
    ]
    counts = {"red": 0, "yellow": 0, "green": 0}
    for row in rows:
        if row["risk"].status == RiskStatus.OPEN and row["level"] in counts:
            counts[row["level"]] += 1
    return {
        "programme": programme,
        "rows": rows,
        "matrix": matrix,
        "counts": counts,
        "may_plan": services.may_plan(actor, programme),
    }
