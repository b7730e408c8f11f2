"""Compiled FEEL: parse once, evaluate many times.

    >>> condition = compile_expression('amount > 500000 and kind = "enterprise"')
    >>> condition.holds({"amount": 600000, "kind": "enterprise"})
    True
    >>> compile_unary_tests('[18..60], > 70').matches(65)
    False

Compiled expressions are immutable and cached per process (by source text and the names in
scope), so a decision table or gateway condition read on every application is parsed only once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from . import syntax as s
from .compiler import Compiled, Compiler, Scope, Test
from .parser import Names, parse_expression, parse_unary_tests


@dataclass(frozen=True, eq=False)
class Expression:
    """A compiled FEEL expression. ``names`` are the free names it reads (its inputs)."""

    source: str
    tree: s.Node
    names: frozenset[str]
    run: Compiled = field(repr=False)

    def evaluate(self, data: Mapping | None = None, scope: Scope | None = None):
        """The FEEL value of the expression over ``data`` (plain Python values, converted on use)."""
        if scope is None:
            scope = Scope(raw=data if data is not None else {})
        return self.run(scope)

    def holds(self, data: Mapping | None = None) -> bool:
        """Whether the expression is true. False and null (unknown, e.g. a missing value) are not."""
        return self.evaluate(data) is True


@dataclass(frozen=True, eq=False)
class UnaryTests:
    """A compiled decision-table input entry (FEEL unary tests)."""

    source: str
    tree: s.UnaryTests
    names: frozenset[str]
    run: Test = field(repr=False)

    @property
    def is_any(self) -> bool:
        return self.tree.is_any

    def test(self, value, data: Mapping | None = None, scope: Scope | None = None) -> bool | None:
        """True, False, or None when unknown (the value is null or cannot be compared)."""
        if scope is None:
            scope = Scope(raw=data if data is not None else {})
        return self.run(value, scope)

    def matches(self, value, data: Mapping | None = None) -> bool:
        from .values import from_python

        return self.test(from_python(value), data) is True


def _names(names) -> Names:
    return Names(names) if names else Names()


@lru_cache(maxsize=4096)
def compile_expression(
    source: str, names: frozenset[str] = frozenset(), functions: frozenset[str] = frozenset()
) -> Expression:
    """Parse and compile; raises FeelSyntaxError with the position and the quoted source.

    ``names``: names of several words (or with symbols) the text may use; ``functions``: names that
    will hold functions at evaluation time (a DMN model's knowledge models)."""
    tree = parse_expression(source, _names(names))
    compiler = Compiler(source, functions)
    run = compiler.compile(tree)
    return Expression(source, tree, frozenset(compiler.free), run)


@lru_cache(maxsize=16384)
def compile_unary_tests(
    source: str, names: frozenset[str] = frozenset(), functions: frozenset[str] = frozenset()
) -> UnaryTests:
    tree = parse_unary_tests(source, _names(names))
    compiler = Compiler(source, functions)
    run = compiler.compile(tree)
    return UnaryTests(source, tree, frozenset(compiler.free), run)


def evaluate(source: str, data: Mapping | None = None):
    """Compile (cached) and evaluate in one step."""
    return compile_expression(source).evaluate(data)
