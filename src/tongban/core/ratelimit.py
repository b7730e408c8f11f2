"""Rate limits on the routes anyone can call to write or to make the server work hard: registration,
login, SMS codes, the public licence scan and verification, catalogue search (issue 9).

Counting is django-ratelimit's (fixed windows in the shared cache: Redis in the production shape,
a file cache under var/ that the processes of one `tongban serve` share in the embedded install).
Which routes count towards which limit is one table in settings (TONGBAN_RATE_LIMITS), matched by
URL name before the view runs, so every attempt counts whatever its outcome: a caller learns
nothing from the limit about whether an ID number or a username exists. Each group can be changed
or turned off with TONGBAN_RATE_<GROUP> (e.g. TONGBAN_RATE_LOGIN=60/m, TONGBAN_RATE_SCAN=off).
"""

import ipaddress
import logging

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import get_usage

from .edge import error_response
from .errors import DomainError

log = logging.getLogger(__name__)


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = _("Too many requests from your address. Wait a little and try again.")

    def __init__(self, retry_after: int):
        super().__init__()
        self.retry_after = max(1, int(retry_after))


def client_address(request) -> str:
    """Who is counted: the client's address, as the trusted reverse proxy saw it when there is one
    (the last X-Forwarded-For entry is the one our proxy appended; earlier ones are the client's
    word). IPv6 clients are counted by their /64, which one subscriber usually holds whole."""
    address = request.META.get("REMOTE_ADDR", "")
    if settings.TONGBAN_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            address = forwarded.rsplit(",", 1)[-1].strip()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _key(group, request) -> str:
    return client_address(request)


_index_cache: dict = {}


def _index() -> dict:
    """(method, URL name) → [(group, rate, POST action or "")], built once per settings table."""
    table = settings.TONGBAN_RATE_LIMITS
    cached = _index_cache.get("table")
    if cached is not None and cached[0] is table:
        return cached[1]
    index: dict = {}
    for group, (rate, routes) in table.items():
        if not rate or rate == "off":
            continue
        for route in routes:
            method, _sep, name = route.partition(" ")
            name, _sep, action = name.partition("?action=")
            index.setdefault((method, name), []).append((group, rate, action))
    _index_cache["table"] = (table, index)
    return index


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None:
            return None
        limits = _index().get((request.method, match.view_name))
        if not limits:
            return None
        for group, rate, action in limits:
            if action and request.POST.get("action") != action:
                continue
            try:
                usage = get_usage(request, group=group, key=_key, rate=rate, increment=True)
            except Exception:  # the cache is down: serve rather than refuse everyone
                log.warning("rate limit %s not counted: the cache failed", group, exc_info=True)
                return None
            if usage is not None and usage["should_limit"]:
                log.info("rate limit %s reached (%s)", group, rate)
                refused = RateLimited(usage["time_left"])
                response = error_response(request, refused)
                response["Retry-After"] = str(refused.retry_after)
                return response
        return None
