"""Licence pages: public verification by code or by scanning the QR, and the holder's wallet."""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from tongban.core import audit
from tongban.core.authz import actor_for_request
from tongban.core.errors import InvalidInput, NotAuthenticated
from tongban.core.http import domain_errors

from . import render as paper
from . import services

_BADGES = {"valid": "badge-ok", "expired": "badge-warn"}


@require_GET
def verify(request, code: str = ""):
    typed = (request.GET.get("code") or "").strip()
    if typed and not code:
        return redirect(reverse("licences:verify_code", args=[typed[:40]]))
    result = services.verify(code) if code else None
    return render(
        request,
        "licences/verify.html",
        {"result": result, "badge": _BADGES.get(result.status, "badge-bad") if result else ""},
        status=404 if result is not None and result.status == "unknown" else 200,
    )


@require_http_methods(["GET", "POST"])
def scan(request):
    """扫码核验: a handheld scanner types the QR's text into the focused box; a photo or the
    licence's PDF can be uploaded instead."""
    result, file_errors = None, []
    if request.method == "POST":
        actor = actor_for_request(request)
        upload = request.FILES.get("file")
        try:
            if upload is not None:
                content = upload.read(settings.TONGBAN_SCAN_MAX_BYTES + 1)
                result = services.scan_upload(actor, upload.name, content)
            else:
                result = services.scan_text(actor, request.POST.get("text") or "")
        except InvalidInput as refused:
            file_errors = refused.messages_for("file")
    return render(
        request,
        "licences/scan.html",
        {
            "result": result,
            "file_errors": file_errors,
            "badge": _BADGES.get(result.status, "badge-bad") if result else "",
        },
        status=400 if file_errors else 200,
    )


@require_GET
def scan_link(request):
    """The page a phone opens from a licence's QR code: the token in the address is checked as the
    scan page would check it (signature, key, expiry, then revocation online)."""
    token = (request.GET.get("t") or "")[: paper.MAX_QR_TEXT + 1]
    result = services.scan_text(actor_for_request(request), token)
    return render(
        request,
        "licences/scan.html",
        {
            "result": result,
            "file_errors": [],
            "badge": _BADGES.get(result.status, "badge-bad"),
            "from_link": True,
        },
    )


@require_GET
@domain_errors
def wallet(request):
    actor = actor_for_request(request)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    entries = services.wallet(actor)
    return render(request, "licences/wallet.html", {"entries": entries})


@require_GET
@domain_errors
def show(request, code: str):
    """亮证: the licence full screen on the holder's phone, for an official to look at or scan, with
    the time it is shown (a screenshot passed around shows a stale time) and its online status."""
    actor = actor_for_request(request)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    licence = services.access_licence(actor, code)
    audit.record("licences.licence.show", actor=actor, object_type="licence", object_ref=licence.code)
    return render(
        request,
        "licences/show.html",
        {"licence": licence, "verification": services.verify(licence.code), "shown_at": timezone.now()},
    )


@require_GET
@domain_errors
def download(request, code: str, kind: str):
    actor = actor_for_request(request)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    licence = services.access_licence(actor, code)
    content = paper.licence_pdf(licence) if kind == "pdf" else paper.licence_png(licence)
    audit.record("licences.licence.download", actor=actor, object_type="licence", object_ref=licence.code)
    response = HttpResponse(content, content_type="application/pdf" if kind == "pdf" else "image/png")
    response["Content-Disposition"] = f'inline; filename="{licence.code}.{kind}"'
    response["Cache-Control"] = "private, no-store"
    return response
