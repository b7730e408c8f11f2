"""The citizen's guide assistant page: a question box, the answer as cards, a person when it cannot help."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.core.authz import actor_for_request
from tongban.core.errors import InvalidInput
from tongban.core.http import domain_errors

from . import services


def _messages(exc: InvalidInput) -> list[str]:
    return [str(p.message) for problems in exc.fields.values() for p in problems] or [str(exc.message)]


def assistant(request):
    actor = actor_for_request(request)
    question = request.GET.get("q", "")
    option = request.GET.get("option", "")
    context = {"question": question, "answer": None, "cards": [], "errors": [], "asked": "q" in request.GET}
    if "q" in request.GET:
        try:
            asked = services.refine(question, option) if option != "" else question
            answer = services.ask(asked)
        except InvalidInput as exc:
            context["errors"] = _messages(exc)
        else:
            context.update(
                answer=answer,
                asked_text=asked,
                cards=services.cards(answer.codes[:3]),
                more=answer.hits[3:] if answer.outcome != services.Outcome.DECLINED else [],
            )
    context["is_citizen"] = bool(getattr(actor, "is_citizen", False))
    status = 400 if context["errors"] else 200
    return render(request, "guide/assistant.html", context, status=status)


@require_POST
def open_answer(request):
    """The citizen chose an answer: count the click (anonymised), then go to its guide or application."""
    code = request.POST.get("code", "")
    action = request.POST.get("action", "guide")
    try:
        services.record_click(
            actor_for_request(request),
            question=request.POST.get("question", ""),
            code=code,
            position=request.POST.get("position", 1),
            action=action,
        )
    except InvalidInput as exc:
        for text in _messages(exc):
            messages.error(request, text)
        return redirect("guide:assistant")
    target = "cases:apply_item" if action == "apply" else "catalog:guide"
    return redirect(reverse(target, args=[code]))


@require_POST
@domain_errors
def handoff(request):
    """Pass the question to a person: a 咨询 order in the 12345 hotline, filed by the citizen."""
    question = request.POST.get("question", "")
    try:
        order = services.hand_off(
            actor_for_request(request), question=question, phone=request.POST.get("phone", "")
        )
    except InvalidInput as exc:
        for text in _messages(exc):
            messages.error(request, text)
        return redirect(f"{reverse('guide:assistant')}?{_query(question)}")
    messages.success(
        request,
        _("Your question was passed to the 12345 service centre as %(number)s; we will contact you.")
        % {"number": order.number},
    )
    return redirect("hotline:order_detail", number=order.number)


def _query(question: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": question})
