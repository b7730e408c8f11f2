"""The one rule language of tongban: a FEEL subset and DMN decision models (docs/rules.md).

A kernel with no domain knowledge: it imports nothing but tongban.core, and gateway conditions,
decision tables (秒批), exchange predicates, form specs, dispatch rules and eligibility will all
use it. Its one rule for missing values is FEEL's (DMN 1.5, 10.3.2.5):

- a name with no value is null, and so is a member a context does not have;
- arithmetic, ordering (< <= > >=), ranges and functions given null, or values of types they do
  not take, give null;
- ``=`` and ``!=`` treat null as a value: null = null is true, 5 = null is false (so ``x != "a"``
  holds when x is missing); values of two different types are neither equal nor unequal (null);
- ``and``, ``or`` and ``not`` are three-valued (false and null is false, true or null is true);
- a condition, a rule or an input entry holds only when it is true: false and null do not.

    from tongban.rules import compile_expression, compile_unary_tests, dmn
    compile_expression('age >= 60 and district in ["511602", "511603"]').holds(form)
    dmn.load(xml).evaluate({"Age": 61}).value("Approval")
"""

from . import dmn
from .errors import DmnError, EvaluationError, FeelSyntaxError, FeelUnsupported, RuleError, Unsupported
from .feel import Expression, UnaryTests, compile_expression, compile_unary_tests, evaluate

__all__ = [
    "DmnError",
    "EvaluationError",
    "Expression",
    "FeelSyntaxError",
    "FeelUnsupported",
    "RuleError",
    "UnaryTests",
    "Unsupported",
    "compile_expression",
    "compile_unary_tests",
    "dmn",
    "evaluate",
]
