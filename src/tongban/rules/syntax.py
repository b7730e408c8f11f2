"""The syntax tree of FEEL expressions and unary tests, and the printer that writes it back as FEEL.

Nodes are immutable; ``pos`` (1-based character position in the source) is left out of equality
so that a tree printed and parsed again compares equal to the original.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .values import format_key, format_value

# Precedence levels, lowest first (DMN 1.5, 10.3.1.4).
TEXTUAL, OR, AND, COMPARISON, ADDITIVE, MULTIPLICATIVE, POWER, NEGATION, POSTFIX, PRIMARY = range(1, 11)


def _pos():
    return field(default=0, compare=False, repr=False)


class Node:
    __slots__ = ()
    level = PRIMARY

    def to_feel(self) -> str:  # pragma: no cover - every node defines it
        raise NotImplementedError

    def children(self) -> tuple:
        return ()

    def walk(self):
        yield self
        for child in self.children():
            if child is not None:
                yield from child.walk()


def wrap(node: Node, level: int) -> str:
    """The FEEL text of ``node``, in parentheses when it binds less tightly than ``level``."""
    text = node.to_feel()
    return f"({text})" if node.level < level else text


def name_text(name: str) -> str:
    return name


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: object
    pos: int = _pos()

    def to_feel(self) -> str:
        return format_value(self.value)


@dataclass(frozen=True, slots=True)
class TemporalLiteral(Node):
    """``@"2024-01-31"`` and friends: the value is parsed when the expression is compiled."""

    text: str
    pos: int = _pos()

    def to_feel(self) -> str:
        return "@" + format_value(self.text)


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str
    pos: int = _pos()

    def to_feel(self) -> str:
        return name_text(self.name)


@dataclass(frozen=True, slots=True)
class InputValue(Node):
    """``?``: the value a unary test is applied to."""

    pos: int = _pos()

    def to_feel(self) -> str:
        return "?"


@dataclass(frozen=True, slots=True)
class Path(Node):
    target: Node
    member: str
    pos: int = _pos()
    level = POSTFIX

    def to_feel(self) -> str:
        return f"{wrap(self.target, POSTFIX)}.{name_text(self.member)}"

    def children(self):
        return (self.target,)


@dataclass(frozen=True, slots=True)
class Filter(Node):
    target: Node
    condition: Node
    pos: int = _pos()
    level = POSTFIX

    def to_feel(self) -> str:
        return f"{wrap(self.target, POSTFIX)}[{self.condition.to_feel()}]"

    def children(self):
        return (self.target, self.condition)


@dataclass(frozen=True, slots=True)
class Call(Node):
    function: Node
    args: tuple[Node, ...]
    names: tuple[str, ...] | None = None  # parameter names, for a named invocation
    pos: int = _pos()
    level = POSTFIX

    def to_feel(self) -> str:
        if self.names is None:
            inner = ", ".join(a.to_feel() for a in self.args)
        else:
            inner = ", ".join(f"{n}: {a.to_feel()}" for n, a in zip(self.names, self.args, strict=True))
        return f"{wrap(self.function, POSTFIX)}({inner})"

    def children(self):
        return (self.function, *self.args)


@dataclass(frozen=True, slots=True)
class Negation(Node):
    operand: Node
    pos: int = _pos()
    level = NEGATION

    def to_feel(self) -> str:
        return "-" + wrap(self.operand, NEGATION)

    def children(self):
        return (self.operand,)


_ARITHMETIC_LEVEL = {"+": ADDITIVE, "-": ADDITIVE, "*": MULTIPLICATIVE, "/": MULTIPLICATIVE, "**": POWER}


@dataclass(frozen=True, slots=True)
class Arithmetic(Node):
    op: str
    left: Node
    right: Node
    pos: int = _pos()

    @property
    def level(self):  # type: ignore[override]
        return _ARITHMETIC_LEVEL[self.op]

    def to_feel(self) -> str:
        level = self.level
        # left-associative: the right operand needs parentheses at the same level
        return f"{wrap(self.left, level)} {self.op} {wrap(self.right, level + 1)}"

    def children(self):
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Comparison(Node):
    op: str  # = != < <= > >=
    left: Node
    right: Node
    pos: int = _pos()
    level = COMPARISON

    def to_feel(self) -> str:
        return f"{wrap(self.left, ADDITIVE)} {self.op} {wrap(self.right, ADDITIVE)}"

    def children(self):
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Between(Node):
    value: Node
    low: Node
    high: Node
    pos: int = _pos()
    level = COMPARISON

    def to_feel(self) -> str:
        return (
            f"{wrap(self.value, ADDITIVE)} between {wrap(self.low, ADDITIVE)} and {wrap(self.high, ADDITIVE)}"
        )

    def children(self):
        return (self.value, self.low, self.high)


@dataclass(frozen=True, slots=True)
class PositiveTest(Node):
    """One positive unary test: ``op`` is a comparison (``< 5``) or None for an expression test,
    which matches by equality, by membership of a list, by a range, or — when it uses ``?`` — by
    being true."""

    op: str | None
    operand: Node
    pos: int = _pos()

    def to_feel(self) -> str:
        if self.op is None:
            return self.operand.to_feel()
        return f"{self.op} {wrap(self.operand, ADDITIVE)}"

    def children(self):
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class In(Node):
    value: Node
    tests: tuple[PositiveTest, ...]
    pos: int = _pos()
    level = COMPARISON

    def to_feel(self) -> str:
        if len(self.tests) == 1:
            test = self.tests[0]
            text = test.to_feel() if test.op else wrap(test.operand, ADDITIVE)
            return f"{wrap(self.value, ADDITIVE)} in {text}"
        return f"{wrap(self.value, ADDITIVE)} in ({', '.join(t.to_feel() for t in self.tests)})"

    def children(self):
        return (self.value, *self.tests)


@dataclass(frozen=True, slots=True)
class InstanceOf(Node):
    value: Node
    type_name: str
    pos: int = _pos()
    level = COMPARISON

    def to_feel(self) -> str:
        return f"{wrap(self.value, ADDITIVE)} instance of {self.type_name}"

    def children(self):
        return (self.value,)


@dataclass(frozen=True, slots=True)
class And(Node):
    left: Node
    right: Node
    pos: int = _pos()
    level = AND

    def to_feel(self) -> str:
        return f"{wrap(self.left, AND)} and {wrap(self.right, COMPARISON)}"

    def children(self):
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Or(Node):
    left: Node
    right: Node
    pos: int = _pos()
    level = OR

    def to_feel(self) -> str:
        return f"{wrap(self.left, OR)} or {wrap(self.right, AND)}"

    def children(self):
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node
    pos: int = _pos()
    level = TEXTUAL

    def to_feel(self) -> str:
        return f"if {self.condition.to_feel()} then {self.then.to_feel()} else {self.otherwise.to_feel()}"

    def children(self):
        return (self.condition, self.then, self.otherwise)


@dataclass(frozen=True, slots=True)
class Iteration(Node):
    """``name in domain`` (or ``name in start..end``) of a for or quantified expression."""

    name: str
    domain: Node
    end: Node | None = None
    pos: int = _pos()

    def to_feel(self) -> str:
        if self.end is None:
            return f"{self.name} in {wrap(self.domain, COMPARISON)}"
        return f"{self.name} in {wrap(self.domain, ADDITIVE)}..{wrap(self.end, ADDITIVE)}"

    def children(self):
        return (self.domain, self.end)


@dataclass(frozen=True, slots=True)
class For(Node):
    iterations: tuple[Iteration, ...]
    body: Node
    pos: int = _pos()
    level = TEXTUAL

    def to_feel(self) -> str:
        return f"for {', '.join(i.to_feel() for i in self.iterations)} return {self.body.to_feel()}"

    def children(self):
        return (*self.iterations, self.body)


@dataclass(frozen=True, slots=True)
class Quantified(Node):
    kind: str  # some | every
    iterations: tuple[Iteration, ...]
    condition: Node
    pos: int = _pos()
    level = TEXTUAL

    def to_feel(self) -> str:
        iterations = ", ".join(i.to_feel() for i in self.iterations)
        return f"{self.kind} {iterations} satisfies {self.condition.to_feel()}"

    def children(self):
        return (*self.iterations, self.condition)


@dataclass(frozen=True, slots=True)
class ListNode(Node):
    items: tuple[Node, ...]
    pos: int = _pos()

    def to_feel(self) -> str:
        return "[" + ", ".join(i.to_feel() for i in self.items) + "]"

    def children(self):
        return self.items


@dataclass(frozen=True, slots=True)
class ContextNode(Node):
    entries: tuple[tuple[str, Node], ...]
    pos: int = _pos()

    def to_feel(self) -> str:
        return "{" + ", ".join(f"{format_key(k)}: {v.to_feel()}" for k, v in self.entries) + "}"

    def children(self):
        return tuple(v for _k, v in self.entries)


@dataclass(frozen=True, slots=True)
class RangeNode(Node):
    start: Node
    end: Node
    start_included: bool
    end_included: bool
    pos: int = _pos()

    def to_feel(self) -> str:
        return (
            ("[" if self.start_included else "(")
            + wrap(self.start, ADDITIVE)
            + ".."
            + wrap(self.end, ADDITIVE)
            + ("]" if self.end_included else ")")
        )

    def children(self):
        return (self.start, self.end)


@dataclass(frozen=True, slots=True)
class FunctionDefinition(Node):
    params: tuple[str, ...]
    body: Node
    pos: int = _pos()
    level = TEXTUAL

    def to_feel(self) -> str:
        return f"function({', '.join(self.params)}) {self.body.to_feel()}"

    def children(self):
        return (self.body,)


@dataclass(frozen=True, slots=True)
class UnaryTests(Node):
    """A decision-table input entry: ``-`` (any), or positive tests, possibly inside ``not(…)``."""

    tests: tuple[PositiveTest, ...]
    negated: bool = False
    pos: int = _pos()

    @property
    def is_any(self) -> bool:
        return not self.tests

    def to_feel(self) -> str:
        if not self.tests:
            return "-"
        inner = ", ".join(t.to_feel() for t in self.tests)
        return f"not({inner})" if self.negated else inner

    def children(self):
        return self.tests
