"""Insight pages: the event logs held, importing one, and a log's process map with its figures.
Thin: every read and change goes through services."""

import datetime as dt
import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tongban.core import process_models
from tongban.core.authz import actor_for_request
from tongban.core.errors import InvalidInput, NotAuthenticated
from tongban.core.http import domain_errors

from . import services, supervision

MAX_UPLOAD = 200 * 1024 * 1024  # an event log of a few million events, zipped


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Event log file"),
        help_text=gettext_lazy(
            "XES (.xes, .xes.gz), OCEL 2.0 (.jsonocel, .xmlocel), CSV or Parquet. Columns are "
            "recognised by their usual names."
        ),
    )
    name = forms.CharField(label=pgettext_lazy("of a thing", "Name"), max_length=120, required=False)
    object_type = forms.CharField(
        label=gettext_lazy("Case notion (OCEL)"),
        max_length=120,
        required=False,
        help_text=gettext_lazy("For an OCEL 2.0 file: the object type whose objects are the cases."),
    )

    def offer_object_types(self, types: dict[str, int]) -> None:
        """After an OCEL file came without its case notion: a choice of the file's object types."""
        choices = [("", "—")] + [
            (name, _("%(type)s (%(n)s objects)") % {"type": name, "n": f"{n:,}"}) for name, n in types.items()
        ]
        self.fields["object_type"].widget = forms.Select(
            choices=choices, attrs={"data-testid": "object-type"}
        )


def _actor(request):
    actor = actor_for_request(request)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return actor


@require_http_methods(["GET", "POST"])
@domain_errors
def log_list(request):
    actor = _actor(request)
    logs = services.logs(actor)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            form.add_error("file", _("The file is larger than 200 MB."))
        else:
            suffix = "".join(Path(upload.name).suffixes[-2:]) or ".csv"
            with tempfile.TemporaryDirectory(prefix="tongban-upload-", dir=settings.VAR_DIR) as tmp:
                staged = Path(tmp) / f"upload{suffix[:16]}"
                with open(staged, "wb") as handle:
                    for chunk in upload.chunks():
                        handle.write(chunk)
                try:
                    log = services.import_log(
                        actor,
                        staged,
                        name=form.cleaned_data["name"] or upload.name,
                        object_type=form.cleaned_data["object_type"],
                    )
                except InvalidInput as exc:
                    for field_name, problems in exc.fields.items():
                        where = "object_type" if field_name == "object_type" else "file"
                        for problem in problems:
                            form.add_error(where, str(problem.message))
                    if "object_type" in exc.fields:
                        form.offer_object_types(services.object_types(actor, staged))
                else:
                    messages.success(request, _("Imported %(n)s events.") % {"n": f"{log.events:,}"})
                    return redirect("insight:log_detail", public_id=log.public_id)
    return render(
        request, "insight/log_list.html", {"logs": logs, "form": form, "items": services.case_items()}
    )


@require_POST
@domain_errors
def import_cases(request):
    try:
        log = services.import_case_events(_actor(request), item_code=request.POST.get("item", "")[:80])
    except InvalidInput as exc:
        messages.error(request, " ".join(str(p.message) for ps in exc.fields.values() for p in ps))
        return redirect("insight:log_list")
    messages.success(request, _("Imported %(n)s events.") % {"n": f"{log.events:,}"})
    return redirect("insight:log_detail", public_id=log.public_id)


@require_http_methods(["GET", "POST"])
@domain_errors
def log_detail(request, public_id):
    actor = _actor(request)
    analysis = services.analyse(actor, public_id)
    checked, problem = None, ""
    validation = None
    if request.method == "POST" and request.POST.get("form") == "validate":
        validation = services.validate_simulation(actor, public_id, replications=50)
    elif request.method == "POST" and request.POST.get("form") == "value_adding":
        try:
            services.set_value_adding(actor, public_id, request.POST.getlist("value_adding"))
        except InvalidInput as exc:
            messages.error(request, " ".join(str(p.message) for ps in exc.fields.values() for p in ps))
        return redirect("insight:log_detail", public_id=public_id)
    chosen_process = ""
    if request.method == "POST" and request.POST.get("form") not in ("validate",):
        upload = request.FILES.get("model")
        chosen_process = request.POST.get("process", "").strip()
        try:
            checked = services.conformance(
                actor,
                public_id,
                upload.read(5 * 1024 * 1024 + 1) if upload is not None else None,
                process_key="" if upload is not None else chosen_process,
            )
        except InvalidInput as exc:
            problem = " ".join(str(p.message) for ps in exc.fields.values() for p in ps)
    return render(
        request,
        "insight/log_detail.html",
        {
            "a": analysis,
            "map": _labelled(analysis.map),
            "checked": checked,
            "problem": problem,
            "processes": process_models.published(actor),
            "chosen_process": chosen_process,
            "validation": validation,
        },
    )


def _labelled(process_map: dict) -> dict:
    """The process map with each box's label as people call the activity (the name stays the key)."""
    from .templatetags.insight import activity_label

    nodes = [{**node, "label": activity_label(node["name"])} for node in process_map.get("nodes", [])]
    return {**process_map, "nodes": nodes}


@require_GET
@domain_errors
def log_export(request, public_id, kind):
    actor = _actor(request)
    if kind == "ocel":
        name, content = services.export_ocel(actor, public_id)
        content_type = "application/json"
    else:
        name, content = services.export_xes(actor, public_id)
        content_type = "application/xml"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{name.encode("ascii", "ignore").decode() or "log"}"'
    )
    return response


# --- the supervisor's dashboard --------------------------------------------------------------------


def _period(request):
    """From the query: from/to dates, or the last 30 days."""
    today = timezone.localdate()
    try:
        end = dt.date.fromisoformat(request.GET.get("to", "")) if request.GET.get("to") else today
        start = (
            dt.date.fromisoformat(request.GET["from"])
            if request.GET.get("from")
            else end - dt.timedelta(days=29)
        )
    except ValueError:
        return today - dt.timedelta(days=29), today, _("Give dates as YYYY-MM-DD.")
    return start, end, ""


@require_GET
@domain_errors
def dashboard(request):
    from tongban.accounts.models import Department

    from . import kpis

    actor = _actor(request)
    start, end, problem = _period(request)
    department = request.GET.get("department", "")[:40]
    league_kpi = request.GET.get("kpi", "on_time_rate")
    if league_kpi not in kpis.LABELS:
        league_kpi = "on_time_rate"
    filters = {k: request.GET.get(k, "")[:80] for k in ("item", "channel", "region")}
    try:
        board = services.dashboard(
            actor,
            start,
            end,
            department_code=department,
            league_kpi=league_kpi,
            refresh=bool(request.GET.get("refresh")),
            **filters,
        )
    except InvalidInput as exc:
        problem = " ".join(str(p.message) for problems in exc.fields.values() for p in problems)
        start, end = end - dt.timedelta(days=29), end
        board = services.dashboard(
            actor, start, end, department_code=department, league_kpi=league_kpi, **filters
        )
    bureaus = Department.objects.filter(path__regex=r"^/[^/]+/[^/]+/$").order_by("code")
    today = timezone.localdate()
    quarter = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    presets = [
        (_("This week"), today - dt.timedelta(days=today.weekday()), today),
        (_("This month"), today.replace(day=1), today),
        (_("This quarter"), quarter, today),
        (_("This year"), today.replace(month=1, day=1), today),
    ]
    return render(
        request,
        "insight/dashboard.html",
        {
            "board": board,
            "bureaus": bureaus,
            "department": department,
            "kpis": kpis.KPIS,
            "league_label": kpis.LABELS[league_kpi],
            "kpi_labels": kpis.LABELS,
            "problem": problem,
            "radar": board.radar,
            "query": request.GET.urlencode(),
            "reports": services.reports(actor),
            "supervision": supervision.figures(actor, board.start, board.end),
            "letters": services.warning_letters(actor, limit=10),
            "unit_names": dict(Department.objects.values_list("code", "short_name")),
            "presets": presets,
            "filters": filters,
            "items": services.case_items(),
            "regions": Department.objects.exclude(region__isnull=True)
            .values_list("region__code", "region__name")
            .distinct()
            .order_by("region__code"),
        },
    )


def _from_percent(text: str):
    """A figure typed as a percentage ("95", "95%", "95 %"), as the fraction the service stores;
    what is not a number is passed on for the service to refuse by field."""
    text = (text or "").strip().rstrip("%％").strip()
    try:
        return float(text) / 100
    except ValueError:
        return text


@require_POST
@domain_errors
def set_target(request):
    """Rates and the yellow margin are typed as percentages, as people say them (95, not 0.95)."""
    from . import kpis

    actor = _actor(request)
    kpi = request.POST.get("kpi", "")
    target = request.POST.get("target", "")
    if kpi in kpis.LABELS and kpi.endswith("_rate"):
        target = _from_percent(target)
    try:
        services.set_target(
            actor,
            kpi,
            target,
            department_code=request.POST.get("department", ""),
            yellow_margin=_from_percent(request.POST.get("yellow_margin", "") or "5"),
        )
    except InvalidInput as exc:
        for problems in exc.fields.values():
            for problem in problems:
                messages.error(request, str(problem.message))
    else:
        messages.success(request, _("Target saved."))
    return redirect(f"{reverse('insight:dashboard')}?{request.POST.get('query', '')}")


@require_GET
@domain_errors
def warning_letter(request, code, kpi):
    actor = _actor(request)
    start, end, _problem = _period(request)
    try:
        name, content = services.warning_letter(actor, code, kpi, start, end)
    except InvalidInput as exc:
        for problems in exc.fields.values():
            for problem in problems:
                messages.error(request, str(problem.message))
        return redirect(f"{reverse('insight:dashboard')}?{request.GET.urlencode()}")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@require_http_methods(["GET", "POST"])
@domain_errors
def what_if(request, public_id):
    actor = _actor(request)
    log = services.get_log(actor, public_id)
    result, steps, problems, chosen = None, None, [], {}
    if request.method == "POST":
        data = request.POST
        chosen = {
            "parallel_a": data.get("parallel_a", ""),
            "parallel_b": data.get("parallel_b", ""),
            "merge_a": data.get("merge_a", ""),
            "merge_b": data.get("merge_b", ""),
            "remove": data.getlist("remove"),
            "shortcut": data.get("shortcut", ""),
            "shortcut_share": data.get("shortcut_share", ""),
            "volume": data.get("volume", "100"),
            "staff_step": data.get("staff_step", ""),
            "staff_workers": data.get("staff_workers", ""),
            "hours_from": data.get("hours_from", ""),
            "hours_to": data.get("hours_to", ""),
            "limit_days": data.get("limit_days", ""),
        }
        try:
            volume = float(chosen["volume"] or 100) / 100
            limit = float(chosen["limit_days"]) if chosen["limit_days"] else None
            share = float(chosen["shortcut_share"] or 0) / 100
            workers = int(chosen["staff_workers"]) if chosen["staff_workers"] else None
            hours = (
                (float(chosen["hours_from"]), float(chosen["hours_to"]))
                if chosen["hours_from"] and chosen["hours_to"]
                else None
            )
        except ValueError:
            problems.append(_("Give numbers for volume, share, workers and time limit."))
        else:
            try:
                _log, steps, result = services.what_if(
                    actor,
                    public_id,
                    parallel=(chosen["parallel_a"], chosen["parallel_b"])
                    if chosen["parallel_a"] and chosen["parallel_b"]
                    else None,
                    merge=(chosen["merge_a"], chosen["merge_b"])
                    if chosen["merge_a"] and chosen["merge_b"]
                    else None,
                    remove=[r for r in chosen["remove"] if r],
                    shortcut=(chosen["shortcut"], share) if chosen["shortcut"] and share else None,
                    volume=volume,
                    staff={chosen["staff_step"]: workers} if chosen["staff_step"] and workers else None,
                    hours=hours,
                    limit_days=limit,
                )
            except InvalidInput as exc:
                problems += [str(p.message) for ps in exc.fields.values() for p in ps]
            if result is not None and data.get("save"):
                try:
                    live_from = dt.date.fromisoformat(data.get("live_from", ""))
                except ValueError:
                    live_from = None
                try:
                    services.save_redesign(
                        actor,
                        public_id,
                        name=data.get("plan_name", ""),
                        live_from=live_from,
                        item_code=data.get("item", ""),
                        changes={k: v for k, v in chosen.items() if v},
                        comparison=result,
                    )
                except InvalidInput as exc:
                    problems += [str(p.message) for ps in exc.fields.values() for p in ps]
                else:
                    messages.success(
                        request, _("The redesign is recorded; its measured result will show as cases come.")
                    )
                    return redirect("insight:redesigns")
    if steps is None:
        steps = services.activities(actor, public_id)
    return render(
        request,
        "insight/what_if.html",
        {
            "log": log,
            "steps": steps,
            "result": result,
            "problems": problems,
            "chosen": chosen,
            "items": services.case_items(),
        },
    )


@require_GET
@domain_errors
def redesigns(request):
    return render(request, "insight/redesigns.html", {"rows": services.redesigns(_actor(request))})


@require_POST
@domain_errors
def make_report(request):
    actor = _actor(request)
    try:
        year, month = (int(x) for x in request.POST.get("month", "").split("-"))
        services.monthly_report(actor, year, month)
    except (ValueError, InvalidInput):
        messages.error(request, _("Give a month as YYYY-MM."))
    else:
        messages.success(request, _("The monthly report is ready."))
    return redirect("insight:dashboard")


@require_GET
@domain_errors
def report_download(request, month, kind):
    path = services.report_file(_actor(request), month, kind)
    content_type = (
        "application/pdf"
        if kind == "pdf"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(path.read_bytes(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="tongban-{month}.{kind}"'
    return response


# --- the leaders' cockpit (领导驾驶舱) ----------------------------------------------------------------


def _ask_for_forecasts() -> None:
    """Today's forecasts are made by the nightly job; when they are missing (a new install, a missed
    night) the first reader's page asks the queue once a day rather than fitting them itself."""
    from django.core.cache import cache

    from . import cockpit, tasks

    today = timezone.localdate()
    if cockpit.needs_forecasts(today) and cache.add(f"insight:cockpit-forecasts:{today}", 1, 3600):
        tasks.cockpit_forecasts_now()


@require_GET
@domain_errors
def cockpit_page(request):
    """One screen for leaders: the console layout inside the site, or (display=wall) the large
    display with nothing but the figures, refreshing itself."""
    from . import cockpit

    actor = _actor(request)
    cockpit.scope_of(actor)  # a reader without the permission is refused before anything is asked
    cockpit.ensure_counted()
    _ask_for_forecasts()
    bureau = request.GET.get("department", "")[:40]
    problem = ""
    try:
        view = cockpit.cockpit(actor, bureau=bureau)
    except InvalidInput as exc:
        problem = " ".join(str(p.message) for problems in exc.fields.values() for p in problems)
        view = cockpit.cockpit(actor)
    wall = request.GET.get("display") == "wall"
    return render(
        request,
        "insight/cockpit_wall.html" if wall else "insight/cockpit.html",
        {
            "c": view,
            "problem": problem,
            "wall": wall,
            "charts": {
                "chart": view.chart,
                "regions": view.regions,
                "labels": {
                    "cases": str(_("Cases submitted")),
                    "orders": str(_("Hotline work orders")),
                    "cases_forecast": str(_("Cases (forecast)")),
                    "orders_forecast": str(_("Hotline orders (forecast)")),
                    "submitted": str(_("Cases submitted")),
                    "on_time": str(_("On-time rate")),
                },
            },
        },
    )
