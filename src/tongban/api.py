"""The HTTP API at /api/v1 (OpenAPI at /api/v1/openapi.json).

Two ways in: the browser session (with CSRF, and staff must have passed their second factor)
or a bearer token issued to a system account. Every error, whatever raised it, has one shape:

    {"error": {"code": "...", "message": {"zh-Hans": "...", "en": "..."},
               "fields": {"<field>": [{"code": "...", "message": {...}}]},   # when input was wrong
               "request_id": "..."}}
"""

import logging

import pydantic_core
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DataError, IntegrityError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.renderers import BaseRenderer
from ninja.security import APIKeyCookie, HttpBearer

from tongban.accounts.actors import Actor, actor_for_request
from tongban.accounts.services import authenticate_api_token
from tongban.core import context
from tongban.core.edge import BodyTooLarge, OutOfRange
from tongban.core.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotPermitted,
)

log = logging.getLogger(__name__)


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; unsafe methods need the CSRF token like any form."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self):
        super().__init__(csrf=True)

    def __call__(self, request):
        # No session cookie: not a browser session, so no CSRF check either — let the bearer token
        # (other systems) be tried. Ninja checks CSRF before it looks for the cookie.
        if self.param_name not in request.COOKIES:
            return None
        # A request that names a bearer token is another system's call: the token alone decides, and
        # a cookie the client happens to hold (a stray session) neither authorises it nor makes it
        # fail the CSRF check. A browser cannot add this header to a cross-site request by itself.
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            return None
        return super().__call__(request)

    def authenticate(self, request, key):
        actor = actor_for_request(request)
        return actor if actor.is_authenticated else None


class TokenAuth(HttpBearer):
    """`Authorization: Bearer tb_…` for system accounts."""

    def authenticate(self, request, token):
        user = authenticate_api_token(token)
        if user is None:
            return None
        request.user = user
        actor = Actor(user)
        request._tongban_actor = actor
        return actor


class FastJSONRenderer(BaseRenderer):
    """JSON written by pydantic-core (Rust): datetimes, UUIDs and decimals natively, lazy translated
    strings through str(). A third of a worklist response's time went into Python's json encoder."""

    media_type = "application/json"

    def render(self, request, data, *, response_status: int):
        return pydantic_core.to_json(data, fallback=str)


class TongbanAPI(NinjaAPI):
    """NinjaAPI with its OpenAPI document built once per process (and language): building it walks
    every operation and schema, ~300 ms, and it only changes with the code."""

    _schemas: dict

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        from django.utils import translation

        key = (path_prefix, tuple(sorted((path_params or {}).items())), translation.get_language())
        schemas = self.__dict__.setdefault("_schemas", {})
        schema = schemas.get(key)
        if schema is None:
            schema = schemas[key] = super().get_openapi_schema(
                path_prefix=path_prefix, path_params=path_params
            )
        return schema


api = TongbanAPI(
    title="tongban API",
    version="1",
    description=(
        "通办 government services platform. Errors share one JSON shape; "
        "messages come in zh-Hans and English."
    ),
    urls_namespace="api",
    auth=[SessionAuth(), TokenAuth()],
    docs_url="/docs",
    renderer=FastJSONRenderer(),
)


def error_body(exc: DomainError) -> dict:
    return {"error": {**exc.as_dict(), "request_id": context.request_id()}}


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    return api.create_response(request, error_body(exc), status=exc.status)


_SCHEMA_MESSAGES = {
    "missing": _("This field is required."),
    "string_too_long": _("The value is too long."),
    "string_too_short": _("The value is too short."),
    "int_parsing": _("Enter a whole number."),
    "int_type": _("Enter a whole number."),
    "bool_parsing": _("Enter true or false."),
    "date_from_datetime_parsing": _("Enter a date as YYYY-MM-DD."),
    "date_parsing": _("Enter a date as YYYY-MM-DD."),
    "datetime_parsing": _("Enter a date and time in ISO 8601 form."),
    "datetime_from_date_parsing": _("Enter a date and time in ISO 8601 form."),
    "uuid_parsing": _("Enter a valid identifier."),
    "json_invalid": _("The request body is not valid JSON."),
    "model_attributes_type": _("The request body must be a JSON object."),
    "greater_than_equal": _("The value is too small."),
    "less_than_equal": _("The value is too large."),
    "enum": _("Choose one of the allowed values."),
    "literal_error": _("Choose one of the allowed values."),
}
_SCHEMA_FALLBACK = _("The value has the wrong format.")


@api.exception_handler(SchemaValidationError)
def _schema_error(request, exc: SchemaValidationError):
    fields: dict[str, list[FieldProblem]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "payload", "form")]
        name = ".".join(loc) or "__all__"
        code = err.get("type", "invalid")
        fields.setdefault(name, []).append(FieldProblem(code, _SCHEMA_MESSAGES.get(code, _SCHEMA_FALLBACK)))
    return _domain_error(request, InvalidInput(fields))


@api.exception_handler(AuthenticationError)
def _not_authenticated(request, exc):
    return _domain_error(request, NotAuthenticated())


@api.exception_handler(AuthorizationError)
def _forbidden(request, exc):
    return _domain_error(request, NotPermitted())


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _domain_error(request, NotFound())


_HTTP_ERRORS = {
    # Ninja raises these itself: an unreadable body, a failed CSRF check on a session call.
    400: lambda: DomainError(_("The request body could not be read. Send valid JSON."), code="bad_request"),
    401: NotAuthenticated,
    403: lambda: NotPermitted(_("Request refused: the CSRF token is missing or wrong. Reload the page.")),
    404: NotFound,
}


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    make = _HTTP_ERRORS.get(exc.status_code)
    if make is not None:
        return _domain_error(request, make())
    error = DomainError(_("The request could not be completed."), code=f"http_{exc.status_code}")
    error.status = exc.status_code
    return _domain_error(request, error)


@api.exception_handler(IntegrityError)
def _integrity_error(request, exc):
    # A uniqueness race lost to a concurrent request: nothing was written.
    return _domain_error(request, Conflict())


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def _out_of_range(request, exc):
    # A number beyond what the database column holds (an id in a path or query): bad input, not a fault.
    log.info("value out of range: %s", type(exc).__name__)
    return _domain_error(request, OutOfRange())


@api.exception_handler(RequestDataTooBig)
def _too_large(request, exc):
    return _domain_error(request, BodyTooLarge())


@api.exception_handler(Exception)
def _server_error(request, exc):
    log.exception("unhandled API error")
    error = DomainError(_("Internal error. It has been logged; quote the request id."), code="server_error")
    error.status = 500
    return _domain_error(request, error)


def _register_routers():
    from tongban.accounts.api import router as accounts_router
    from tongban.cases.api import router as cases_router
    from tongban.catalog.api import router as catalog_router
    from tongban.core.api import router as core_router
    from tongban.documents.api import router as documents_router
    from tongban.exchange.api import router as exchange_router
    from tongban.guide.api import router as guide_router
    from tongban.hotline.api import router as hotline_router
    from tongban.insight.api import router as insight_router
    from tongban.licences.api import router as licences_router
    from tongban.proactive.api import router as proactive_router
    from tongban.programme.api import router as programme_router
    from tongban.workflow.api import router as workflow_router

    api.add_router("/", core_router)
    api.add_router("/", accounts_router)
    api.add_router("/", catalog_router)
    api.add_router("/", cases_router)
    api.add_router("/", licences_router)
    api.add_router("/", exchange_router)
    api.add_router("/", hotline_router)
    api.add_router("/", guide_router)
    api.add_router("/", documents_router)
    api.add_router("/", insight_router)
    api.add_router("/", programme_router)
    api.add_router("/", proactive_router)
    api.add_router("/", workflow_router)


_register_routers()
