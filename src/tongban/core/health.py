"""/readyz and /metrics: what a proxy and a monitoring system ask an app server.

/healthz (web.views) says only that the process answers. /readyz says whether it can serve:
the primary database answers and the job queue answers (503 otherwise, so a proxy or an
orchestrator stops sending it traffic); it also tells where analytics reads go and why (the
replica, or the primary when the replica is behind or away) without failing on it. Both are
cheap and carry no personal data, so the proxy may pass them through.

/metrics is for the monitoring system only: with TONGBAN_METRICS_TOKEN set it needs
`Authorization: Bearer <token>`; without one it answers only clients in TONGBAN_METRICS_ALLOW
(loopback by default) that did not come through a proxy (no X-Forwarded-For). Anyone else gets
a 404, as if there were nothing there.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import jobs, replicas

logger = logging.getLogger(__name__)


def _database() -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        connection.close_if_unusable_or_obsolete()
        logger.warning(
            "readiness: database unavailable: %s", str(error).splitlines()[0] if str(error) else error
        )
        return "unavailable"
    return "ok"


def _queue() -> dict:
    from huey.contrib.djhuey import HUEY

    depth = jobs.queue_depth()
    ping = getattr(getattr(HUEY.storage, "conn", None), "ping", None)
    try:
        if ping is not None:
            ping()
    except Exception:
        return {"status": "unavailable"}
    if depth.pending is None:
        return {"status": "unavailable"}
    return {
        "status": "ok",
        "pending": depth.pending,
        "scheduled": depth.scheduled,
        "in_flight": depth.in_flight,
    }


@never_cache
@require_GET
def readyz(request):
    database = _database()
    queue = _queue()
    ready = database == "ok" and queue["status"] == "ok"
    body = {
        "status": "ready" if ready else "not ready",
        "database": database,
        "queue": queue,
        "replica": replicas.state().as_dict(),
    }
    return JsonResponse(body, status=200 if ready else 503)


def metrics_allowed(request) -> bool:
    token = getattr(settings, "TONGBAN_METRICS_TOKEN", "") or ""
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    if request.headers.get("X-Forwarded-For"):
        return False  # through a proxy: the address we see is the proxy's
    allowed = getattr(settings, "TONGBAN_METRICS_ALLOW", ("127.0.0.1", "::1"))
    return request.META.get("REMOTE_ADDR", "") in allowed


@never_cache
@require_GET
def metrics(request):
    if not metrics_allowed(request):
        raise Http404()
    from prometheus_client import CONTENT_TYPE_LATEST

    from .metrics import exposition

    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
