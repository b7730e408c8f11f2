"""The programme office's pages: the programmes, a programme's Gantt chart with its import and
downloads, the schedule risk. Thin: every read and change goes through programme.services, which
checks who may do what; the Gantt chart's drag calls the API (programme.api)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.accounts.models import Department
from tongban.core.authz import actor_for_request
from tongban.core.errors import Conflict, InvalidInput, NotAuthenticated, NotPermitted
from tongban.core.http import apply_errors, domain_errors

from . import consultation as cons
from . import forms, funds, risks, services, weekly

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _actor(request):
    actor = actor_for_request(request)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return actor


def _departments():
    return list(Department.objects.filter(is_active=True).order_by("path"))


def _may_create(actor) -> bool:
    from tongban.accounts import roles as perms

    return bool(actor.can(perms.PROGRAMME_PLAN))


@domain_errors
def programme_list(request, form=None):
    actor = _actor(request)
    rows = list(services.programmes(actor))
    if form is None and _may_create(actor):
        form = forms.ProgrammeForm(departments=_departments())
    return render(request, "programme/list.html", {"rows": rows, "form": form})


@domain_errors
@require_POST
def programme_create(request):
    actor = _actor(request)
    if not _may_create(actor):
        raise NotPermitted()
    form = forms.ProgrammeForm(request.POST, departments=_departments())
    if form.is_valid():
        try:
            programme = services.create_programme(actor, **form.cleaned_data)
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            return redirect("programme:detail", code=programme.code)
    response = programme_list(request, form=form)
    response.status_code = 422
    return response


def _detail(request, actor, code, *, import_form=None, problems=None, status=200):
    data = services.gantt(actor, code)
    programme = services.access_programme(actor, code)
    counts = {"red": 0, "yellow": 0, "green": 0, "done": 0}
    for t in data["tasks"]:
        counts[t["light"]] += 1
    kpis = services.kpi_overview(actor, code)
    for t in data["tasks"]:
        t["kpi"] = kpis.get(t["code"])
    context = {
        "league": services.league_table(actor, code),
        "programme": programme,
        "gantt": data,
        "counts": counts,
        "import_form": import_form or (forms.ImportForm() if data["may_plan"] else None),
        "problems": problems,
    }
    return render(request, "programme/detail.html", context, status=status)


@domain_errors
def programme_detail(request, code):
    return _detail(request, _actor(request), code)


@domain_errors
@require_POST
def programme_import(request, code):
    actor = _actor(request)
    services.access_programme(actor, code)
    form = forms.ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, actor, code, import_form=form, status=422)
    upload = form.cleaned_data["file"]
    try:
        report = services.import_plan(actor, code, upload.read(services.transfer.MAX_BYTES + 1))
    except services.ImportRejected as exc:
        form.add_error("file", str(exc.message))
        return _detail(request, actor, code, import_form=form, problems=exc.problems, status=422)
    messages.success(
        request,
        _("Imported %(tasks)d tasks in %(projects)d new projects; the critical path has %(critical)d tasks.")
        % {"tasks": report.tasks, "projects": report.projects, "critical": len(report.critical)},
    )
    return redirect("programme:detail", code=code)


def _download(name: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name.encode("ascii", "ignore").decode()}"'
    return response


@domain_errors
def programme_export(request, code):
    return _download(*services.export_plan(_actor(request), code))


@domain_errors
def three_lists(request, code):
    return _download(*services.three_lists(_actor(request), code))


@domain_errors
def schedule_risk(request, code):
    actor = _actor(request)
    programme = services.access_programme(actor, code)
    params = {
        "runs": request.GET.get("runs", "10000"),
        "seed": request.GET.get("seed", "0"),
        "distribution": request.GET.get("distribution", "triangular"),
    }
    result, errors = None, {}
    try:
        result = services.schedule_risk(actor, code, **params)
    except InvalidInput as exc:
        errors = {name: [str(p.message) for p in problems] for name, problems in exc.fields.items()}
    tasks = {t.code: t.name for t in programme.tasks.all()}
    context = {"programme": programme, "result": result, "params": params, "errors": errors, "names": tasks}
    return render(request, "programme/risk.html", context, status=422 if errors else 200)


@domain_errors
@require_POST
def task_progress(request, code, task):
    actor = _actor(request)
    percent = request.POST.get("percent", "")
    try:
        services.report_progress(actor, code, task, percent=percent, status=request.POST.get("status", ""))
    except InvalidInput as exc:
        for problems in exc.fields.values():
            for p in problems:
                messages.error(request, f"{task}: {p.message}")
        return redirect("programme:detail", code=code)
    messages.success(request, _("Progress of %(task)s recorded.") % {"task": task})
    return redirect("programme:detail", code=code)


@domain_errors
def warning_letter(request, code, task):
    actor = _actor(request)
    try:
        name, pdf = services.warning_letter(actor, code, task)
    except InvalidInput as exc:
        for problems in exc.fields.values():
            for p in problems:
                messages.error(request, f"{task}: {p.message}")
        return redirect("programme:detail", code=code)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- public consultation (意见征集) ------------------------------------------------------------------


def _consultation_page(request, code, *, form=None, status=200):
    consultation = cons.public_consultation(code)
    state = cons.phase(consultation)
    context = {
        "c": consultation,
        "phase": state,
        "due": cons.feedback_due(consultation),
        "comments": list(cons.public_comments(consultation)),
        "form": form or (forms.CommentForm() if state == "open" else None),
        "anonymous": not request.user.is_authenticated,
    }
    return render(request, "programme/consultation_public.html", context, status=status)


@domain_errors
def consultation_list(request):
    return render(request, "programme/consultation_list.html", {"rows": cons.public_list()})


@domain_errors
def consultation_public(request, code):
    return _consultation_page(request, code)


@domain_errors
@require_POST
def consultation_comment(request, code):
    from tongban.core.ratelimit import client_address

    form = forms.CommentForm(request.POST)
    if form.is_valid():
        try:
            comment = cons.submit_comment(
                actor_for_request(request), code, **form.cleaned_data, address=client_address(request)
            )
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            return redirect("programme:consultation_receipt", code=code, receipt=comment.receipt)
    return _consultation_page(request, code, form=form, status=422)


@domain_errors
def consultation_receipt(request, code, receipt):
    comment = cons.comment_by_receipt(code, receipt)
    consultation = comment.consultation
    context = {
        "c": consultation,
        "comment": comment,
        "due": cons.feedback_due(consultation),
        "light": cons.feedback_light(consultation, comment),
    }
    return render(request, "programme/consultation_receipt.html", context)


@domain_errors
def consultation_report(request, code):
    return render(request, "programme/consultation_report.html", {"report": cons.public_report(code)})


@domain_errors
def consultation_report_pdf(request, code):
    name, pdf = cons.report_pdf(code)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@domain_errors
def consultation_manage_list(request, form=None, status=200):
    actor = _actor(request)
    rows = [(c, cons.phase(c)) for c in cons.managed(actor)[:500]]
    if form is None and _may_create(actor):
        form = forms.ConsultationForm(departments=_departments())
    return render(
        request, "programme/consultation_manage_list.html", {"rows": rows, "form": form}, status=status
    )


@domain_errors
@require_POST
def consultation_create(request):
    actor = _actor(request)
    if not _may_create(actor):
        raise NotPermitted()
    form = forms.ConsultationForm(request.POST, departments=_departments())
    if form.is_valid():
        try:
            consultation = cons.create_consultation(actor, **form.cleaned_data)
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            return redirect("programme:consultation_manage", code=consultation.code)
    return consultation_manage_list(request, form=form, status=422)


def _manage_page(request, actor, code, *, bound=None, status=200):
    data = cons.overview(actor, code)
    bound = bound or {}
    for row in data["rows"]:
        c = row["comment"]
        row["moderation_form"] = bound.get(("moderate", c.number)) or forms.ModerationForm(
            auto_id=f"id_m{c.number}_%s"
        )
        row["decision_form"] = bound.get(("decide", c.number)) or forms.DecisionForm(
            auto_id=f"id_d{c.number}_%s"
        )
    data["report_form"] = bound.get(("report", 0)) or forms.ReportForm()
    return render(request, "programme/consultation_manage.html", data, status=status)


@domain_errors
def consultation_manage(request, code):
    return _manage_page(request, _actor(request), code)


def _conflict(request, exc) -> None:
    messages.error(request, str(exc.message))


@domain_errors
@require_POST
def consultation_publish(request, code):
    actor = _actor(request)
    try:
        cons.publish(actor, code)
    except (InvalidInput, Conflict) as exc:
        for text in _messages_of(exc):
            messages.error(request, text)
    else:
        messages.success(request, _("The consultation is published."))
    return redirect("programme:consultation_manage", code=code)


def _messages_of(exc) -> list[str]:
    if isinstance(exc, InvalidInput) and exc.fields:
        return [str(p.message) for problems in exc.fields.values() for p in problems]
    return [str(exc.message)]


@domain_errors
@require_POST
def comment_moderate(request, code, number):
    actor = _actor(request)
    form = forms.ModerationForm(request.POST, auto_id=f"id_m{number}_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            cons.moderate(
                actor,
                code,
                number,
                publish=data["action"] == "publish",
                reason=data["reason"],
                note=data["note"],
            )
        except InvalidInput as exc:
            apply_errors(form, exc)
        except Conflict as exc:
            _conflict(request, exc)
            return redirect("programme:consultation_manage", code=code)
        else:
            messages.success(request, _("Comment %(n)d moderated.") % {"n": number})
            return redirect("programme:consultation_manage", code=code)
    return _manage_page(request, actor, code, bound={("moderate", number): form}, status=422)


@domain_errors
@require_POST
def comment_decide(request, code, number):
    actor = _actor(request)
    form = forms.DecisionForm(request.POST, auto_id=f"id_d{number}_%s")
    if form.is_valid():
        try:
            cons.decide(actor, code, number, **form.cleaned_data)
        except InvalidInput as exc:
            apply_errors(form, exc)
        except Conflict as exc:
            _conflict(request, exc)
            return redirect("programme:consultation_manage", code=code)
        else:
            messages.success(request, _("Comment %(n)d answered.") % {"n": number})
            return redirect("programme:consultation_manage", code=code)
    return _manage_page(request, actor, code, bound={("decide", number): form}, status=422)


@domain_errors
@require_POST
def consultation_publish_report(request, code):
    actor = _actor(request)
    form = forms.ReportForm(request.POST)
    if form.is_valid():
        try:
            cons.publish_report(actor, code, summary=form.cleaned_data["summary"])
        except InvalidInput as exc:
            apply_errors(form, exc)
        except Conflict as exc:
            _conflict(request, exc)
            return redirect("programme:consultation_manage", code=code)
        else:
            messages.success(request, _("The adoption report is published."))
            return redirect("programme:consultation_report", code=code)
    return _manage_page(request, actor, code, bound={("report", 0): form}, status=422)


# --- weekly reports (周报) -----------------------------------------------------------------------------


def _weekly_page(request, actor, code, task_code, *, form=None, status=200):
    task, reports = weekly.reports(actor, code, task_code)
    may_report = services.may_report(actor, task)
    context = {
        "programme": task.programme,
        "task": task,
        "reports": reports,
        "form": form or (forms.WeeklyReportForm(initial={"percent": task.percent}) if may_report else None),
        "week": weekly.week_of(services.today()),
        "due": weekly.due_on(weekly.week_of(services.today())),
    }
    return render(request, "programme/weekly_task.html", context, status=status)


@domain_errors
def task_weekly(request, code, task):
    actor = _actor(request)
    if request.method != "POST":
        return _weekly_page(request, actor, code, task)
    form = forms.WeeklyReportForm(request.POST, request.FILES)
    if form.is_valid():
        uploads = [(f.name, f.read(weekly.files.MB * 25)) for f in request.FILES.getlist("files")]
        try:
            weekly.file_report(
                actor,
                code,
                task,
                text=form.cleaned_data["text"],
                percent=form.cleaned_data["percent"],
                uploads=uploads,
            )
        except InvalidInput as exc:
            for name, problems in exc.fields.items():
                target = (
                    name
                    if name in form.fields
                    else ("files" if name.startswith(("files", "count", "total")) else None)
                )
                for p in problems:
                    form.add_error(target, str(p.message))
        else:
            messages.success(request, _("Weekly report for %(task)s filed.") % {"task": task})
            return redirect("programme:weekly", code=code, task=task)
    return _weekly_page(request, actor, code, task, form=form, status=422)


@domain_errors
def weekly_evidence(request, code, task, week, number):
    found, content = weekly.evidence(_actor(request), code, task, week, number)
    response = HttpResponse(
        content, content_type=weekly.files.CONTENT_TYPES.get(found.kind, "application/octet-stream")
    )
    ascii_name = found.name.encode("ascii", "ignore").decode() or f"evidence-{number}"
    response["Content-Disposition"] = f'attachment; filename="{ascii_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _week_param(request):
    import datetime as dt

    try:
        return dt.date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        return None


@domain_errors
def programme_weekly(request, code):
    data = weekly.overview(_actor(request), code, _week_param(request))
    import datetime as dt

    data["previous"] = data["week"] - dt.timedelta(days=7)
    data["next"] = data["week"] + dt.timedelta(days=7)
    return render(request, "programme/weekly.html", data)


@domain_errors
def programme_weekly_pdf(request, code):
    name, pdf = weekly.weekly_pdf(_actor(request), code, _week_param(request))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- funds supervision ---------------------------------------------------------------------------------


def _funds_page(
    request, actor, code, *, line_form=None, spending_form=None, import_form=None, problems=None, status=200
):
    data = funds.overview(actor, code)
    planner = services.may_plan(actor, data["programme"])
    data.update(
        {
            "spendings": funds.spendings(actor, code)[:50],
            "line_form": line_form or (forms.BudgetLineForm(prefix="line") if planner else None),
            "spending_form": spending_form or (forms.SpendingForm(prefix="pay") if planner else None),
            "import_form": import_form or (forms.ImportForm() if planner else None),
            "problems": problems,
        }
    )
    return render(request, "programme/funds.html", data, status=status)


@domain_errors
def programme_funds(request, code):
    actor = _actor(request)
    if request.method != "POST":
        return _funds_page(request, actor, code)
    action = request.POST.get("action", "")
    if action == "line":
        form = forms.BudgetLineForm(request.POST, prefix="line")
        if form.is_valid():
            try:
                funds.set_budget_line(actor, code, **form.cleaned_data)
            except InvalidInput as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Budget line saved."))
                return redirect("programme:funds", code=code)
        return _funds_page(request, actor, code, line_form=form, status=422)
    if action == "spending":
        form = forms.SpendingForm(request.POST, prefix="pay")
        if form.is_valid():
            try:
                funds.record_spending(actor, code, **form.cleaned_data)
            except InvalidInput as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Spending recorded."))
                return redirect("programme:funds", code=code)
        return _funds_page(request, actor, code, spending_form=form, status=422)
    form = forms.ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _funds_page(request, actor, code, import_form=form, status=422)
    try:
        count = funds.import_spending(
            actor, code, form.cleaned_data["file"].read(services.transfer.MAX_BYTES + 1)
        )
    except services.ImportRejected as exc:
        form.add_error("file", str(exc.message))
        return _funds_page(request, actor, code, import_form=form, problems=exc.problems, status=422)
    messages.success(request, _("Imported %(n)d commitments and payments.") % {"n": count})
    return redirect("programme:funds", code=code)


# --- the risk register -------------------------------------------------------------------------------------


@domain_errors
def risk_register(request, code):
    actor = _actor(request)
    form, status = None, 200
    if request.method == "POST":
        form = forms.RiskForm(request.POST)
        if form.is_valid():
            try:
                risks.set_risk(actor, code, **form.cleaned_data)
            except InvalidInput as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Risk %(code)s saved.") % {"code": form.cleaned_data["code"]})
                return redirect("programme:risks", code=code)
        status = 422
    data = risks.register(actor, code)
    data["form"] = form or (forms.RiskForm() if data["may_plan"] else None)
    return render(request, "programme/risk_register.html", data, status=status)
