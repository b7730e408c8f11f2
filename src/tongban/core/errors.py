"""The error types services raise. Views, the API and the CLI turn them into pages, JSON and exit codes.

A service never returns half-done work: it raises one of these before writing anything, or
inside a transaction that the raise rolls back.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .i18n import bilingual


@dataclass
class FieldProblem:
    code: str
    message: object  # a lazy translatable string

    def as_dict(self) -> dict:
        return {"code": self.code, "message": bilingual(self.message)}


class DomainError(Exception):
    status = 400
    code = "error"
    default_message = _("The request could not be completed.")

    def __init__(self, message=None, *, code: str | None = None):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        super().__init__(str(self.message))

    def as_dict(self) -> dict:
        return {"code": self.code, "message": bilingual(self.message)}


class InvalidInput(DomainError):
    """One or more fields are wrong; every problem is reported at once, not just the first."""

    status = 422
    code = "invalid_input"
    default_message = _("Some fields are not valid. Nothing was saved.")

    def __init__(self, fields: dict[str, list[FieldProblem]] | None = None, message=None):
        super().__init__(message)
        self.fields = fields or {}

    @classmethod
    def from_validation_error(cls, exc: ValidationError, field_name: str = "__all__") -> "InvalidInput":
        fields: dict[str, list[FieldProblem]] = {}
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                fields[name] = [FieldProblem(e.code or "invalid", _message_of(e)) for e in errors]
        else:
            fields[field_name] = [FieldProblem(e.code or "invalid", _message_of(e)) for e in exc.error_list]
        return cls(fields)

    @classmethod
    def single(cls, field_name: str, code: str, message) -> "InvalidInput":
        return cls({field_name: [FieldProblem(code, message)]})

    def as_dict(self) -> dict:
        data = super().as_dict()
        data["fields"] = {name: [p.as_dict() for p in problems] for name, problems in self.fields.items()}
        return data

    def messages_for(self, field_name: str) -> list[str]:
        return [str(p.message) for p in self.fields.get(field_name, [])]


def _message_of(error: ValidationError):
    """A ValidationError's message with its params applied, still lazy so it renders in any language."""
    if error.params:
        return Formatted(error.message, error.params)
    return error.message


class Formatted:
    """A message with parameters that renders in whichever language is active when it is shown."""

    def __init__(self, message, params):
        self.message, self.params = message, params

    def __str__(self) -> str:
        return str(self.message) % self.params


class NotPermitted(DomainError):
    status = 403
    code = "not_permitted"
    default_message = _("You are not allowed to do this.")


class NotFound(DomainError):
    """Also raised for objects the caller may not see, so their existence does not leak."""

    status = 404
    code = "not_found"
    default_message = _("Not found.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _("This conflicts with the current state. Reload and try again.")


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"
    default_message = _("Please log in.")


class FieldErrors:
    """Collects every field problem of one request so the caller hears about all of them at once."""

    def __init__(self):
        self.fields: dict[str, list[FieldProblem]] = {}

    def add(self, field_name: str, code: str, message) -> None:
        self.fields.setdefault(field_name, []).append(FieldProblem(code, message))

    def check(self, field_name: str, normalizer, value):
        """Return normalizer(value), or None after recording the ValidationError it raised."""
        try:
            return normalizer(value)
        except ValidationError as exc:
            for e in exc.error_list:
                self.add(field_name, e.code or "invalid", _message_of(e))
            return None

    def collect(self, check):
        """Return check(), or None after recording the field problems of the InvalidInput it raised:
        for a caller that runs several checks and reports all their problems together."""
        try:
            return check()
        except InvalidInput as exc:
            for field_name, problems in exc.fields.items():
                self.fields.setdefault(field_name, []).extend(problems)
            return None

    def require_text(self, field_name: str, value, *, max_length: int) -> str:
        text = (value or "").strip()
        if not text:
            self.add(field_name, "required", _("This field is required."))
        elif len(text) > max_length:
            self.add(field_name, "max_length", Formatted(_("At most %(n)d characters."), {"n": max_length}))
        return text

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self) -> None:
        if self.fields:
            raise InvalidInput(self.fields)
