"""Checks at the edge: input no part of the application can store or use is refused before any view
runs, with the same bilingual error every other refusal has.

PostgreSQL cannot store a NUL character in text, and a lone UTF-16 surrogate (a JSON `\\ud800` with
no partner) cannot be encoded to UTF-8 at all, so either one anywhere in a request would surface as
a 500 deep inside whichever query first met it (issue 9, defect 5). A JSON integer beyond 64 bits
overflows SQLite's INTEGER and PostgreSQL's bigint the same way; a body over the upload limit, or
multipart without its boundary, makes Django raise while it reads the body (defect 6). One
middleware, early in MIDDLEWARE, looks for all of these once, so every route is covered — the ones
that exist today and the ones added later.

API callers (paths under /api/) get the API's JSON error shape; browsers get a small page in both
languages that needs nothing from the database.
"""

import json
import logging
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext_lazy as _

from . import context
from .errors import DomainError, FieldErrors, InvalidInput

log = logging.getLogger(__name__)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# A NUL, or a UTF-16 surrogate left alone (a valid pair is one character once decoded).
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
# What must be in a JSON body for it to hold any of the problems above; most bodies have none of
# these, so they are never parsed twice.
_JSON_SUSPECT = re.compile(rb"\x00|\\u|\d{19}")

BAD_CHARACTER_MESSAGE = _("The text contains a character that cannot be stored (NUL or a lone surrogate).")
TOO_LARGE_INTEGER_MESSAGE = _("The number is outside the range of a 64-bit integer.")


class BadRequest(InvalidInput):
    """Input refused before any view saw it: nothing was read or written."""

    status = 400
    code = "bad_request"
    default_message = _("The request contains input that cannot be processed. Nothing was saved.")


class BodyTooLarge(DomainError):
    status = 413
    code = "body_too_large"
    default_message = _("The request body is too large.")


class MalformedMultipart(DomainError):
    code = "malformed_multipart"
    default_message = _("The multipart/form-data body cannot be read (a boundary is missing or wrong).")


class OutOfRange(DomainError):
    code = "out_of_range"
    default_message = _("A value in the request is outside the range the system can store.")


def error_response(request, exc: DomainError):
    """The refusal as the API's JSON error, or as a page in both languages for a browser."""
    if request.path_info.startswith("/api/"):
        body = {"error": {**exc.as_dict(), "request_id": context.request_id()}}  # as tongban.api's
        return JsonResponse(body, status=exc.status, json_dumps_params={"ensure_ascii": False})
    from django.template import loader

    from .i18n import bilingual

    # A page has no fields to put problems under: it says what was wrong instead.
    problems = [p for ps in getattr(exc, "fields", {}).values() for p in ps]
    message = bilingual(problems[0].message if problems else exc.message)
    body = loader.get_template("core/400.html").render(
        {
            "status": exc.status,
            "message_zh": message["zh-Hans"],
            "message_en": message["en"],
            "request_id": context.request_id(),
        }
    )
    return HttpResponse(body, status=exc.status)


class EdgeCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            problem = self.check(request)
        except RequestDataTooBig:
            problem = BodyTooLarge()
        except MultiPartParserError:
            problem = MalformedMultipart()
        if problem is not None:
            log.info("refused at the edge: %s", problem.code)
            return error_response(request, problem)
        return self.get_response(request)

    def process_exception(self, request, exc):
        """A value no view could check (an id in a URL beyond what the database stores)."""
        if isinstance(exc, OverflowError | DataError):
            log.info("value out of range: %s", type(exc).__name__)
            return error_response(request, OutOfRange())
        if isinstance(exc, RequestDataTooBig):
            return error_response(request, BodyTooLarge())
        return None

    def check(self, request) -> DomainError | None:
        errors = FieldErrors()
        if _BAD_CHARACTER.search(request.path):
            errors.add("__path__", "bad_character", BAD_CHARACTER_MESSAGE)
        for key, values in request.GET.lists():
            if _BAD_CHARACTER.search(key) or any(_BAD_CHARACTER.search(v) for v in values):
                errors.add(
                    key if not _BAD_CHARACTER.search(key) else "__query__",
                    "bad_character",
                    BAD_CHARACTER_MESSAGE,
                )
        if errors:
            return BadRequest(errors.fields)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        content_type = request.content_type or ""
        if content_type == "multipart/form-data":
            if not request.content_params.get("boundary"):
                return MalformedMultipart()
            self._check_form(request, errors)
            for name, uploads in request.FILES.lists():
                if any(_BAD_CHARACTER.search(f.name or "") for f in uploads):
                    errors.add(name, "bad_character", BAD_CHARACTER_MESSAGE)
        elif _length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return BodyTooLarge()
        elif content_type == "application/x-www-form-urlencoded":
            self._check_form(request, errors)
        elif content_type.endswith("json"):
            body = request.body
            if _JSON_SUSPECT.search(body):
                self._check_json(body, errors)
        return BadRequest(errors.fields) if errors else None

    @staticmethod
    def _check_form(request, errors: FieldErrors) -> None:
        for key, values in request.POST.lists():
            if _BAD_CHARACTER.search(key) or any(_BAD_CHARACTER.search(v) for v in values):
                errors.add(
                    "__form__" if _BAD_CHARACTER.search(key) else key, "bad_character", BAD_CHARACTER_MESSAGE
                )

    @staticmethod
    def _check_json(body: bytes, errors: FieldErrors) -> None:
        try:
            data = json.loads(body)
        except ValueError:
            return  # not JSON: the API says so in its own words
        stack = [((), data)]
        while stack:
            path, value = stack.pop()
            name = ".".join(path) or "__all__"
            if isinstance(value, str):
                if _BAD_CHARACTER.search(value):
                    errors.add(name, "bad_character", BAD_CHARACTER_MESSAGE)
            elif isinstance(value, bool):
                continue
            elif isinstance(value, int):
                if not INT64_MIN <= value <= INT64_MAX:
                    errors.add(name, "int_range", TOO_LARGE_INTEGER_MESSAGE)
            elif isinstance(value, dict):
                for key, item in value.items():
                    if _BAD_CHARACTER.search(key):
                        errors.add(name, "bad_character", BAD_CHARACTER_MESSAGE)
                        continue
                    stack.append(((*path, key), item))
            elif isinstance(value, list):
                stack.extend(((*path, str(i)), item) for i, item in enumerate(value))


def _length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
