"""The official documents pages. So far: checking a sealed document (用印) — who sealed it, with
which seal, when, and whether any byte changed since. Thin over documents.services."""

from django.shortcuts import render

from tongban.core.errors import InvalidInput
from tongban.core.http import domain_errors, request_actor

from . import services


@domain_errors
def verify(request):
    actor = request_actor(request)
    result, errors = None, []
    if request.method == "POST":
        upload = request.FILES.get("file")
        content = upload.read(services.VERIFY_MAX_BYTES + 1) if upload else b""
        try:
            result = services.verify_file(actor, content)
        except InvalidInput as exc:
            errors = exc.messages_for("file")
    return render(request, "documents/verify.html", {"result": result, "errors": errors})
