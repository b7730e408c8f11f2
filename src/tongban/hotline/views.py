"""The hotline pages: the operator console (坐席), the order list and page with each step's form,
the departments' rates, and the citizen's form and orders. Thin: every read and change goes
through services, which check who may do what."""

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.accounts.models import Department, Region
from tongban.core.errors import Conflict, InvalidInput, NotPermitted
from tongban.core.http import apply_errors, domain_errors, query_string, request_actor

from . import city_events, duplicates, forms, services
from .models import Category

PAGE_SIZE = 30


def _departments():
    return list(Department.objects.filter(is_active=True, parent__code="gov").order_by("path"))


def _categories():
    return list(Category.objects.values_list("path", flat=True))


# --- lists --------------------------------------------------------------------------------------


@domain_errors
def order_list(request):
    actor = request_actor(request)
    if getattr(actor, "is_citizen", False):
        return redirect("hotline:my_orders")
    form = forms.OrderFilterForm(request.GET or None, departments=_departments())
    data = form.cleaned_data if form.is_valid() else {}
    orders = services.worklist(
        actor,
        status=data.get("status", ""),
        department=data.get("department", ""),
        q=data.get("q", ""),
        cluster=request.GET.get("cluster", ""),
    )
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "hotline/order_list.html",
        {
            "form": form,
            "page": page,
            "rows": [(o, services.clock_status(o)) for o in page],
            "query": query_string(request),
            "is_centre": services.is_centre(actor),
        },
    )


# --- the operator console -------------------------------------------------------------------------


@domain_errors
def console(request):
    """Record a call: the caller's earlier orders and the router's suggestion come in as they type."""
    actor = request_actor(request)
    if not services.is_centre(actor):
        raise NotPermitted()
    form_kwargs = {"departments": _departments(), "regions": Region.objects.filter(code__startswith="5116")}
    form = forms.CallForm(request.POST or None, **form_kwargs)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reply_text, knowledge_ref = data.pop("reply_text"), data.pop("knowledge_ref")
        answering = request.POST.get("action") == "answer"
        try:
            if answering:
                order = services.answer_call(
                    actor, channel="phone", reply_text=reply_text, knowledge_ref=knowledge_ref, **data
                )
            else:
                order = services.create_order(actor, channel="phone", **data)
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            if answering:
                message = _("Work order %(number)s answered on the spot and closed.")
            else:
                message = _("Work order %(number)s recorded.")
            messages.success(request, message % {"number": order.number})
            return redirect("hotline:order_detail", number=order.number)
    return render(request, "hotline/console.html", {"form": form, "categories": _categories()})


@domain_errors
@require_POST
def suggest(request):
    """htmx: the router's suggestion for the text typed so far."""
    actor = request_actor(request)
    suggestion = services.suggest_route(actor, request.POST.get("text", ""))
    return render(request, "hotline/_suggestion.html", {"s": suggestion})


@domain_errors
@require_POST
def knowledge(request):
    """htmx: knowledge base entries (past official replies, policy texts) for the text typed so far."""
    actor = request_actor(request)
    hits = duplicates.knowledge_for(actor, request.POST.get("text", ""))
    return render(request, "hotline/_knowledge.html", {"hits": hits})


@domain_errors
def earlier(request):
    """htmx: the caller's earlier orders, by their number."""
    actor = request_actor(request)
    orders = services.earlier_orders(actor, request.GET.get("phone", ""))
    return render(request, "hotline/_earlier.html", {"orders": orders})


# --- one order ------------------------------------------------------------------------------------

ACTION_FORMS = {
    "dispatch": forms.DispatchForm,
    "reply": forms.ReplyForm,
    "return": forms.ReasonForm,
    "arbitrate": forms.ArbitrateForm,
    "review": forms.ReviewForm,
    "callback": forms.CallbackForm,
    "reopen": forms.ReasonForm,
    "answer": forms.AnswerForm,
}
NEEDS_DEPARTMENTS = {"dispatch", "arbitrate"}


def _action_form(name, data=None):
    cls = ACTION_FORMS[name]
    kwargs = {"departments": _departments()} if name in NEEDS_DEPARTMENTS else {}
    return cls(data, prefix=name, **kwargs)


def _run(actor, action: str, number: str, data: dict):
    if action == "dispatch":
        return services.dispatch(actor, number, lead=data["lead"], co=data["co"], category=data["category"])
    if action == "accept":
        return services.accept(actor, number)
    if action == "contact":
        return services.record_contact(actor, number)
    if action == "return":
        return services.return_order(actor, number, reason=data["reason"])
    if action == "arbitrate":
        return services.arbitrate(actor, number, **data)
    if action == "extend":
        return services.approve_extension(actor, number)
    if action == "reply":
        return services.reply(actor, number, text=data["text"], outcome=data["outcome"])
    if action == "review":
        return services.review(actor, number, accept=data["accept"], reason=data["reason"])
    if action == "callback":
        return services.callback(actor, number, **data)
    if action == "reopen":
        return services.reopen(actor, number, reason=data["reason"])
    if action == "answer":
        return services.answer_on_spot(
            actor, number, reply_text=data["reply_text"], knowledge_ref=data["knowledge_ref"]
        )
    raise NotPermitted()


@domain_errors
def order_detail(request, number):
    actor = request_actor(request)
    order, history = services.history(actor, number)
    actions = services.available_actions(actor, order)
    action_forms = {}
    if request.method == "POST" and request.POST.get("action") in ("merge", "not_duplicate"):
        return _decide_duplicate(request, actor, order)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in actions:
            raise NotPermitted()
        form = _action_form(action, request.POST) if action in ACTION_FORMS else None
        if form is None or form.is_valid():
            try:
                _run(actor, action, order.number, form.cleaned_data if form else {})
            except InvalidInput as exc:
                if form is None:
                    messages.error(request, str(exc.message))
                else:
                    apply_errors(form, exc)
            except Conflict as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(request, _("Done."))
                return redirect("hotline:order_detail", number=order.number)
        if form is not None:
            action_forms[action] = form
    for name in actions:
        if name in ACTION_FORMS and name not in action_forms:
            action_forms[name] = _action_form(name)
    return render(
        request,
        "hotline/order_detail.html",
        {
            "order": order,
            "requester": services.requester_label(actor, order),
            "assignments": order.assignments.select_related("department"),
            "callbacks": order.callbacks.all(),
            "history": history,
            "actions": actions,
            "action_forms": action_forms,
            "clock": services.clock_status(order),
            "is_centre": services.is_centre(actor),
            "categories": _categories() if "dispatch" in actions else [],
            "staff_view": not getattr(actor, "is_citizen", False),
            "proposals": duplicates.proposals(actor, order.number) if order.is_open else [],
            "further_requesters": duplicates.requesters(actor, order),
            "reply_suggestions": _reply_suggestions(actor, order),
        },
    )


def _reply_suggestions(actor, order):
    if not order.is_open or getattr(actor, "is_citizen", False):
        return []
    try:
        return duplicates.suggest_replies(actor, order.number)
    except NotPermitted:
        return []  # a supervisor reads the order but does not handle it


def _decide_duplicate(request, actor, order):
    """The centre merges the order into a proposed earlier one, or says it is no duplicate."""
    other = request.POST.get("target", "")
    try:
        if request.POST["action"] == "merge":
            duplicates.merge(actor, order.number, into=other)
            messages.success(request, _("Merged into %(number)s.") % {"number": other})
        else:
            duplicates.reject_duplicate(actor, order.number, target=other)
            messages.success(request, _("Done."))
    except InvalidInput as exc:
        messages.error(request, " ".join(str(p.message) for ps in exc.fields.values() for p in ps))
    except Conflict as exc:
        messages.error(request, str(exc.message))
    return redirect("hotline:order_detail", number=order.number)


@domain_errors
def order_contact(request, number):
    """htmx: the full contact number, for those who must call (journalled by the service)."""
    actor = request_actor(request)
    phone = services.reveal_contact(actor, number)
    return render(request, "hotline/_contact.html", {"phone": phone})


# --- rates ----------------------------------------------------------------------------------------


def _period(request) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    try:
        start = dt.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = today.replace(day=1)
    try:
        end = dt.date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        end = today
    return start, max(start, end)


@domain_errors
def rates(request):
    actor = request_actor(request)
    start, end = _period(request)
    tz = timezone.get_current_timezone()
    figures = services.rates(
        actor,
        start=dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        end=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )
    context = {"rows": figures, "start": start, "end": end}
    if services.may_read_all(actor):
        period = {
            "start": dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            "end": dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
        }
        context["answered"] = services.answered_on_spot(actor, **period)
        context["machine_found"] = city_events.machine_found(actor, **period)
    return render(request, "hotline/rates.html", context)


# --- the citizen ----------------------------------------------------------------------------------


@domain_errors
def portal_form(request):
    actor = request_actor(request)
    if not getattr(actor, "is_citizen", False):
        raise NotPermitted()
    form = forms.PortalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.create_order(actor, channel="portal", **form.cleaned_data)
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Thank you. Your work order is %(number)s; we will contact you.")
                % {"number": order.number},
            )
            return redirect("hotline:order_detail", number=order.number)
    return render(request, "hotline/portal_form.html", {"form": form})


@domain_errors
def my_orders(request):
    actor = request_actor(request)
    if not getattr(actor, "is_citizen", False):
        return redirect("hotline:order_list")
    orders = services.orders(actor).order_by("-received_at")
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "hotline/my_orders.html",
        {"page": page, "query": query_string(request)},
    )


@domain_errors
@require_POST
def similar_orders(request):
    """htmx, the citizen's form: open orders like the one being typed, which they may follow."""
    actor = request_actor(request)
    data = request.POST
    try:
        found = duplicates.similar_open_orders(
            actor,
            text=data.get("text", ""),
            address=data.get("address", ""),
            latitude=data.get("latitude") or None,
            longitude=data.get("longitude") or None,
        )
    except InvalidInput:
        found = []  # the form itself reports the bad field when sent
    rows = [(m, duplicates.excerpt(m.order.text)) for m in found]
    return render(request, "hotline/_similar.html", {"rows": rows, "text": data.get("text", "")})


@domain_errors
@require_POST
def follow(request, number):
    """The citizen follows an open order instead of filing theirs."""
    actor = request_actor(request)
    try:
        order = duplicates.follow(actor, number, text=request.POST.get("text", ""))
    except (InvalidInput, Conflict) as exc:
        problems = getattr(exc, "fields", {}) or {}
        text = " ".join(str(p.message) for ps in problems.values() for p in ps) or str(exc.message)
        messages.error(request, text)
        return redirect("hotline:portal_form")
    messages.success(
        request,
        _("You now follow work order %(number)s; we will tell you its outcome.") % {"number": order.number},
    )
    return redirect("hotline:order_detail", number=order.number)


HOTSPOT_DAYS = (1, 7, 30)


@domain_errors
def hotspots(request):
    """热点: clusters of similar orders ranked by volume or growth, warnings, a chart by region and
    the orders' map points on a plain grid (no map tiles: the network is closed)."""
    actor = request_actor(request)
    try:
        days = int(request.GET.get("days", 7))
    except ValueError:
        days = 7
    days = days if days in HOTSPOT_DAYS else 7
    sort = "growth" if request.GET.get("sort") == "growth" else "volume"
    ranked = duplicates.hotspots(actor, days=days, sort=sort)
    top = ranked[:8]
    clusters = [h.cluster for h in top]
    by_region = duplicates.hotspots_by_region(actor, clusters, days=days)
    regions = sorted(by_region, key=lambda r: -sum(by_region[r].values()))
    chart = {
        "regions": regions,
        "series": [
            {"name": f"{h.label[:16]}", "data": [by_region[r].get(h.cluster, 0) for r in regions]}
            for h in top
        ],
        "points": [
            {
                "name": f"{h.label[:16]}",
                "data": [[float(x), float(y)] for x, y, c in points if c == h.cluster],
            }
            for points in [duplicates.hotspot_points(actor, clusters, days=days)]
            for h in top
        ],
    }
    return render(
        request,
        "hotline/hotspots.html",
        {
            "ranked": ranked,
            "warnings": duplicates.warnings(actor),
            "chart": chart,
            "days": days,
            "sort": sort,
            "day_choices": HOTSPOT_DAYS,
            "has_points": any(s["data"] for s in chart["points"]),
        },
    )
