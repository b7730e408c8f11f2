"""Pages for the audit journal (supervisors, administrators) and the working-day calendar."""

import calendar as month_calendar
import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import audit, calendar, services
from .authz import actor_for_request, require
from .errors import InvalidInput, NotAuthenticated
from .forms import CalendarDayForm, CalendarYearForm, JournalFilterForm
from .http import apply_errors, domain_errors


def _actor(request):
    actor = actor_for_request(request)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return actor


@domain_errors
def audit_journal(request):
    actor = _actor(request)
    form = JournalFilterForm(request.GET or None)
    form.is_valid()
    data = getattr(form, "cleaned_data", {}) or {}
    qs = services.list_journal(
        actor,
        action=data.get("action", ""),
        actor_label=data.get("actor", ""),
        outcome=data.get("outcome", ""),
        object_ref=data.get("object_ref", ""),
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    for entry in page:
        entry.object_label = audit.object_type_label(entry.object_type)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/audit_journal.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "checkpoint": services.latest_checkpoint(actor),
            "can_verify": actor.can(services.AUDIT_VERIFY),
        },
    )


@require_POST
@domain_errors
def audit_verify(request):
    result = services.verify_journal(_actor(request), trigger="web")
    if result.ok:
        messages.success(request, _("The journal is intact: %(n)d entries verified.") % {"n": result.checked})
    else:
        messages.error(request, _("The journal is broken: %(problem)s") % {"problem": result.message})
    return redirect("core:audit")


@domain_errors
def working_calendar(request):
    """A month of the working-day calendar; administrators can also rule on single days."""
    actor = _actor(request)
    if not actor.is_staff_member:
        raise NotAuthenticated()
    today = dt.date.today()
    try:
        year, month = (int(x) for x in request.GET.get("month", "").split("-"))
        first = dt.date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
    if not calendar.FIRST_DAY <= first <= calendar.LAST_DAY:
        first = today.replace(day=1)
    days_in_month = month_calendar.monthrange(first.year, first.month)[1]
    last = first.replace(day=days_in_month)
    cal = calendar.get_calendar()
    days = cal.working_days_in(first, last)
    cells = [None] * first.weekday() + days
    prev_month = (first - dt.timedelta(days=1)).replace(day=1)
    next_month = last + dt.timedelta(days=1)
    can_manage = actor.can(services.CALENDAR_MANAGE)
    day_form = CalendarDayForm(request.POST or None, prefix="day") if can_manage else None
    year_form = CalendarYearForm(prefix="year") if can_manage else None
    if request.method == "POST" and can_manage and "day-date" in request.POST and day_form.is_valid():
        try:
            services.set_calendar_day(actor, **day_form.cleaned_data)
        except InvalidInput as exc:
            apply_errors(day_form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(f"{request.path}?month={day_form.cleaned_data['date']:%Y-%m}")
    return render(
        request,
        "core/calendar.html",
        {
            "first": first,
            "cells": cells,
            "working_count": sum(1 for d in days if d.is_working_day),
            "prev_month": prev_month,
            "next_month": next_month,
            "year_known": cal.is_year_known(first.year),
            "day_form": day_form,
            "year_form": year_form,
            "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
        },
    )


@require_POST
@domain_errors
def confirm_year(request):
    actor = _actor(request)
    require(actor, services.CALENDAR_MANAGE)
    form = CalendarYearForm(request.POST, prefix="year")
    if form.is_valid():
        try:
            services.confirm_calendar_year(actor, **form.cleaned_data)
            messages.success(request, _("Saved."))
        except InvalidInput as exc:
            messages.error(request, "; ".join(str(p.message) for ps in exc.fields.values() for p in ps))
    else:
        messages.error(request, _("Enter a year between 2000 and 2100."))
    return redirect("core:calendar")
