"""The public verification page: anyone holding a licence code (or its QR code) checks it here."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

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
