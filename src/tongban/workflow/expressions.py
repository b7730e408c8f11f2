"""Conditions on sequence flows, in a small language that is checked, never executed.

A condition is a Python-like boolean expression over the case data: names look up data keys
(dotted names look into nested objects), with literals, comparisons (== != < <= > >= in, not in),
and/or/not. Anything else — calls, attributes of objects, subscripts, lambdas, comprehensions —
is refused when the definition is loaded. Evaluation walks the syntax tree itself; nothing is
passed to eval(). A missing key is None, and a comparison that cannot be made is false, so a
half-filled form cannot crash a process.

    decision == "approve"
    amount > 500000 and applicant_kind == "enterprise"
    district in ["511602", "511603"] and not risk_high
"""

import ast
import operator
from dataclasses import dataclass

MAX_LENGTH = 500
MAX_NODES = 120

_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_LITERAL_NAMES = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}


class ExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class Condition:
    source: str
    tree: ast.Expression

    def evaluate(self, data: dict) -> bool:
        try:
            return bool(_eval(self.tree.body, data))
        except (TypeError, ValueError):
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
    return Condition(text, tree)


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


def _lookup(data, path: list[str]):
    value = data
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _eval(node: ast.AST, data: dict):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in _LITERAL_NAMES:
            return _LITERAL_NAMES[node.id]
        return data.get(node.id) if isinstance(data, dict) else None
    if isinstance(node, ast.Attribute):
        path = [node.attr]
        inner = node.value
        while isinstance(inner, ast.Attribute):
            path.append(inner.attr)
            inner = inner.value
        path.append(inner.id)
        return _lookup(data, list(reversed(path)))
    if isinstance(node, ast.List | ast.Tuple):
        return [_eval(e, data) for e in node.elts]
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, data)
        return (not value) if isinstance(node.op, ast.Not) else -value
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_eval(v, data) for v in node.values)
        return any(_eval(v, data) for v in node.values)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, data)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, data)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    raise ExpressionError(f"{type(node).__name__} is not allowed")  # pragma: no cover - rejected at compile
