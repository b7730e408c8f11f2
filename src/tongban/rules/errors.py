"""Errors of the rule language, each with a message in zh-Hans and English.

A FEEL expression that cannot be read raises FeelSyntaxError naming the position (1-based, in
characters) and quoting the expression; a DMN file that cannot be used raises DmnError naming the
element; a feature we do not evaluate raises Unsupported, so nothing is ever silently evaluated
differently from what its author wrote. All are DomainErrors, so views, the API and the CLI show
them as they show any other refusal.
"""

from django.utils.translation import gettext_lazy as _

from tongban.core.errors import DomainError, Formatted

QUOTE_LIMIT = 120


def quote(expression: str, position: int | None = None) -> str:
    """The expression as it is quoted in messages: whole when short, else the part around ``position``."""
    text = " ".join(expression.split()) if "\n" in expression else expression
    if len(text) <= QUOTE_LIMIT:
        return text
    if position is None:
        return text[: QUOTE_LIMIT - 1] + "…"
    start = max(0, min(position - 1 - QUOTE_LIMIT // 2, len(text) - QUOTE_LIMIT))
    piece = text[start : start + QUOTE_LIMIT]
    return ("…" if start else "") + piece + ("…" if start + QUOTE_LIMIT < len(text) else "")


class RuleError(DomainError):
    code = "rule_error"
    default_message = _("The rule cannot be used.")


class FeelSyntaxError(RuleError):
    """An expression that is not FEEL of our subset. ``problem`` says what is wrong, lazily translated."""

    code = "feel_syntax"

    def __init__(self, expression: str, position: int, problem):
        self.expression = expression
        self.position = position
        self.problem = problem
        message = Formatted(
            _("%(problem)s, at position %(position)d of “%(expression)s”"),
            {"problem": problem, "position": position, "expression": quote(expression, position)},
        )
        super().__init__(message)

    def as_dict(self) -> dict:
        data = super().as_dict()
        data.update(expression=self.expression, position=self.position)
        return data


class FeelUnsupported(FeelSyntaxError):
    """FEEL that is valid but outside what this engine evaluates (e.g. a date in year 10000)."""

    code = "feel_unsupported"


class DmnError(RuleError):
    """A DMN document or element that cannot be used; ``element`` names it (kind, name, id)."""

    code = "dmn_invalid"

    def __init__(self, element: str, problem):
        self.element = element
        self.problem = problem
        message = (
            Formatted(_("%(element)s: %(problem)s"), {"element": element, "problem": problem})
            if element
            else problem
        )
        super().__init__(message)

    def as_dict(self) -> dict:
        data = super().as_dict()
        data["element"] = self.element
        return data


class Unsupported(DmnError):
    """Valid DMN or FEEL that this engine does not evaluate. Refused, never approximated."""

    code = "dmn_unsupported"


class EvaluationError(RuleError):
    """A decision that cannot be evaluated: a hit policy violated, a missing decision, a cycle."""

    code = "rule_evaluation"


class NotRepresentable(EvaluationError):
    """A valid FEEL value this engine cannot hold exactly: a date before year 1 or after 9999, or
    time finer than a microsecond. Refused rather than rounded or turned into null."""

    code = "rule_not_representable"
