"""Pages of proactive services: an enterprise's policies and 免申即享 grants (with a contest), and
the staff console — policies and their rules, matching runs, results and contests. Thin: every
read and change goes through services."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.accounts import roles as perms
from tongban.accounts import services as accounts
from tongban.accounts.models import Department
from tongban.core.errors import InvalidInput, NotFound, NotPermitted
from tongban.core.http import domain_errors, request_actor

from . import profile, services
from .forms import PolicyForm


@domain_errors
def mine(request):
    """A citizen: the enterprises they act for, each with its policies; staff: the console."""
    actor = request_actor(request)
    if not getattr(actor, "is_citizen", False):
        return redirect("proactive:manage")
    enterprises = [enterprise for enterprise, _link in accounts.my_enterprises(actor)]
    if len(enterprises) == 1:
        return redirect("proactive:enterprise", uscc=enterprises[0].uscc)
    return render(request, "proactive/mine.html", {"enterprises": enterprises})


@domain_errors
def enterprise(request, uscc):
    actor = request_actor(request)
    company, matches, benefits = services.enterprise_matches(actor, uscc)
    return render(
        request,
        "proactive/enterprise.html",
        {
            "enterprise": company,
            "matches": matches,
            "benefits": benefits,
            "contestable": {b.reference for b in benefits if services.may_contest(actor, b)},
        },
    )


@require_POST
@domain_errors
def contest(request, reference):
    actor = request_actor(request)
    try:
        benefit = services.contest(actor, reference, reason=request.POST.get("reason", ""))
    except InvalidInput as exc:
        for problems in exc.fields.values():
            for problem in problems:
                messages.error(request, str(problem.message))
        uscc = request.POST.get("uscc", "")
        if uscc:
            return redirect("proactive:enterprise", uscc=uscc)
        raise NotFound() from None
    messages.success(request, _("Your contest is recorded; the department reviews it and tells you."))
    return redirect("proactive:enterprise", uscc=benefit.subject_key)


# --- staff ---------------------------------------------------------------------------------------------


def _departments(actor):
    return [
        d
        for d in Department.objects.filter(is_active=True).order_by("path")
        if actor.can(perms.POLICY_MANAGE, d)
    ]


@domain_errors
def manage(request):
    actor = request_actor(request)
    policies = services.policies(actor)
    return render(
        request,
        "proactive/manage.html",
        {
            "policies": policies,
            "runs": services.runs(actor)[:10],
            "departments": sorted({p.department for p in policies}, key=lambda d: d.path),
        },
    )


@domain_errors
def edit(request, code=None):
    actor = request_actor(request)
    policy = services.get_policy(actor, code) if code else None
    if policy is None and not actor.can(perms.POLICY_MANAGE):
        raise NotPermitted()
    initial = {}
    if policy is not None:
        initial = {
            "code": policy.code,
            "name": policy.name,
            "kind": policy.kind,
            "department": policy.department.code,
            "issuer": policy.issuer,
            "benefit": policy.benefit,
            "summary": policy.summary,
            "legal_basis": policy.legal_basis,
            "automatic": policy.automatic,
            "is_active": policy.is_active,
        }
    form = PolicyForm(
        request.POST or None,
        initial=initial,
        departments=_departments(actor),
        conditions=policy.conditions if policy else [],
    )
    if request.method == "POST" and form.is_valid():
        rows = form.conditions()
        try:
            saved = services.save_policy(
                actor,
                code=policy.code if policy else form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                department_code=form.cleaned_data["department"],
                benefit=form.cleaned_data["benefit"],
                conditions=[{"label": r["label"], "expression": r["expression"]} for r in rows],
                automatic=form.cleaned_data["automatic"],
                summary=form.cleaned_data["summary"],
                issuer=form.cleaned_data["issuer"],
                legal_basis=form.cleaned_data["legal_basis"],
                is_active=form.cleaned_data["is_active"],
            )
        except InvalidInput as exc:
            _apply(form, exc, rows)
        else:
            messages.success(request, _("The policy is saved; the next matching run uses it."))
            return redirect("proactive:edit", code=saved.code)
    return render(
        request,
        "proactive/edit.html",
        {"policy": policy, "form": form, "items": profile.ENTERPRISE_ITEMS, "rows": _rows(form)},
    )


def _rows(form):
    from .forms import MAX_ROWS

    return [(form[f"conditions.{n}.label"], form[f"conditions.{n}.expression"]) for n in range(MAX_ROWS)]


def _apply(form, exc: InvalidInput, rows: list[dict]) -> None:
    """A service's field problems under the form's fields (condition N of the filled rows → its row)."""
    for name, problems in exc.fields.items():
        target = {"department_code": "department"}.get(name, name)
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "conditions" and parts[1].isdigit() and int(parts[1]) < len(rows):
            target = f"conditions.{rows[int(parts[1])]['row']}.{parts[2]}"
        for problem in problems:
            form.add_error(target if target in form.fields else None, str(problem.message))


@require_POST
@domain_errors
def run(request):
    actor = request_actor(request)
    if not actor.can(perms.POLICY_MANAGE):
        raise NotPermitted()
    try:
        done = services.run_matching(actor, request.POST.get("department", ""))
    except InvalidInput as exc:
        for problems in exc.fields.values():
            for problem in problems:
                messages.error(request, str(problem.message))
    else:
        messages.success(
            request,
            _(
                "Matching run %(ref)s: %(subjects)d subjects, %(qualified)d matches, "
                "%(granted)d granted without application, %(notified)d notices."
            )
            % {
                "ref": done.reference,
                "subjects": done.subjects,
                "qualified": done.qualified,
                "granted": done.granted,
                "notified": done.notified,
            },
        )
    return redirect("proactive:manage")


@domain_errors
def results(request, code):
    actor = request_actor(request)
    outcome = services.latest_outcome(actor, code)
    policy = services.get_policy(actor, code)
    page = rows = None
    if outcome is not None:
        page = Paginator(outcome.subjects, 50).get_page(request.GET.get("page"))
        rows = services.outcome_rows(
            outcome, limit=50, offset=page.start_index() - 1 if page.object_list else 0
        )
        conditions = [
            {**c, "counts": counts}
            for c, counts in zip(outcome.conditions, outcome.condition_counts, strict=True)
        ]
    else:
        conditions = []
    return render(
        request,
        "proactive/results.html",
        {"policy": policy, "outcome": outcome, "page": page, "rows": rows, "conditions": conditions},
    )


@domain_errors
def contests(request):
    actor = request_actor(request)
    return render(request, "proactive/contests.html", {"benefits": services.contests(actor)})


@require_POST
@domain_errors
def review(request, reference):
    actor = request_actor(request)
    try:
        services.review(
            actor,
            reference,
            confirm=request.POST.get("decision") == "confirm",
            note=request.POST.get("note", ""),
        )
    except InvalidInput as exc:
        for problems in exc.fields.values():
            for problem in problems:
                messages.error(request, str(problem.message))
    else:
        messages.success(request, _("Decided; the enterprise is told."))
    return redirect("proactive:contests")
