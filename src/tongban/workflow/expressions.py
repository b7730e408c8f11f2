"""Conditions on sequence flows written in the older, Python-like syntax, evaluated as FEEL.

Our own definitions (tb namespace) were written before conditions were FEEL: names look up data
keys (dotted names look into nested objects), with literals, comparisons (== != < <= > >= in, not
in), and/or/not. Anything else — calls, attributes of objects, subscripts, lambdas, comprehensions —
is refused when the definition is loaded; nothing is ever executed. An accepted condition is
rewritten into FEEL (`==` → `=`, `not x` → `not(x)`, `x in [..]` → `list contains([..], x)`, `None`
→ `null`) and evaluated by tongban.rules, so every condition of the platform follows FEEL's one rule
for missing values (docs/rules.md): a condition holds only when it is true, and a missing value is
null — `x != "a"` holds for a missing x, `x > 5` and `not risk_high` do not.

    decision == "approve"
    amount > 500000 and applicant_kind == "enterprise"
    district in ["511602", "511603"] and not risk_high
"""

import ast
import json
from dataclasses import dataclass, field
from decimal import Decimal

from tongban.rules import Expression, FeelSyntaxError, compile_expression

MAX_LENGTH = 500
MAX_NODES = 120

_COMPARE = {ast.Eq: "=", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_MEMBERSHIP = (ast.In, ast.NotIn)
_LITERAL_NAMES = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}


class ExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class Condition:
    source: str  # as written (without a ${…} wrapper)
    tree: ast.Expression
    feel: str = ""  # the same condition in FEEL
    expression: Expression | None = field(default=None, compare=False, repr=False)

    def evaluate(self, data: dict) -> bool:
        """Whether the condition holds: only when it is true (false and null, unknown, do not)."""
        try:
            return self.expression.holds(data if isinstance(data, dict) else {})
        except Exception:  # a value FEEL cannot take makes the condition not hold
            return False

    def names(self) -> set[str]:
        return {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name) and n.id not in _LITERAL_NAMES}


def compile_condition(source: str) -> Condition:
    text = (source or "").strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1].strip()  # the ${…} wrapping some modelers add
    if not text:
        raise ExpressionError("empty condition")
    if len(text) > MAX_LENGTH:
        raise ExpressionError("condition too long")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error at column {exc.offset}") from None
    for count, node in enumerate(ast.walk(tree), start=1):
        if count > MAX_NODES:
            raise ExpressionError("condition too complex")
        _check(node)
    feel = to_feel(tree)
    try:
        expression = compile_expression(feel)
    except FeelSyntaxError as exc:  # a name FEEL reads otherwise (a keyword): not this language
        raise ExpressionError(f"not expressible in FEEL: {exc}") from None
    return Condition(text, tree, feel, expression)


def _check(node: ast.AST) -> None:
    allowed = (
        ast.Expression,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.UnaryOp,
        ast.Not,
        ast.USub,
        ast.Compare,
        ast.Name,
        ast.Load,
        ast.Constant,
        ast.List,
        ast.Tuple,
        ast.Attribute,
        *_COMPARE,
        *_MEMBERSHIP,
    )
    if not isinstance(node, allowed):
        raise ExpressionError(f"{type(node).__name__} is not allowed")
    if isinstance(node, ast.Constant) and not isinstance(node.value, str | int | float | bool | type(None)):
        raise ExpressionError("only text, numbers, true, false and null are literals")
    if isinstance(node, ast.Attribute):
        # Only data.paths: a chain of names, never attributes of a computed value.
        inner = node.value
        while isinstance(inner, ast.Attribute):
            inner = inner.value
        if not isinstance(inner, ast.Name):
            raise ExpressionError("only dotted data names may use '.'")
        if node.attr.startswith("_"):
            raise ExpressionError("names may not start with _")
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        raise ExpressionError("names may not start with _")
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and not isinstance(node.operand, ast.Constant)
    ):
        raise ExpressionError("minus applies to numbers only")


def _literal(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # FEEL strings escape as JSON's do
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text.lower() and "n" not in text else text


def to_feel(node: ast.AST) -> str:
    """The FEEL text of a checked condition (see _check): the same meaning where values are there."""
    if isinstance(node, ast.Expression):
        return to_feel(node.body)
    if isinstance(node, ast.Constant):
        return _literal(node.value)
    if isinstance(node, ast.Name):
        return _literal(_LITERAL_NAMES[node.id]) if node.id in _LITERAL_NAMES else node.id
    if isinstance(node, ast.Attribute):
        return f"{to_feel(node.value)}.{node.attr}"
    if isinstance(node, ast.List | ast.Tuple):
        return "[" + ", ".join(to_feel(e) for e in node.elts) + "]"
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            return f"not({to_feel(node.operand)})"
        return f"-{to_feel(node.operand)}"
    if isinstance(node, ast.BoolOp):
        joiner = " and " if isinstance(node.op, ast.And) else " or "
        return joiner.join(f"({to_feel(v)})" for v in node.values)
    if isinstance(node, ast.Compare):
        parts, left = [], node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            parts.append(_comparison(op, left, right))
            left = right
        return parts[0] if len(parts) == 1 else " and ".join(f"({p})" for p in parts)
    raise ExpressionError(f"{type(node).__name__} is not allowed")  # pragma: no cover - rejected by _check


def _comparison(op: ast.cmpop, left: ast.AST, right: ast.AST) -> str:
    a, b = to_feel(left), to_feel(right)
    if isinstance(op, _MEMBERSHIP):
        if isinstance(right, ast.List | ast.Tuple):
            test = f"list contains({b}, {a})"
        elif isinstance(right, ast.Constant) and isinstance(right.value, str):
            test = f"contains({b}, {a})"  # Python's `in` on text: a substring
        else:
            test = f"(if {b} instance of string then contains({b}, {a}) else list contains({b}, {a}))"
        return f"not({test})" if isinstance(op, ast.NotIn) else test
    return f"{a} {_COMPARE[type(op)]} {b}"
