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
from tongban.core.errors import InvalidInput, NotAuthenticated, NotPermitted
from tongban.core.http import apply_errors, domain_errors

from . import forms, services

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
