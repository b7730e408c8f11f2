"""Decision tables (DMN 1.5, 8): rules of unary tests over input expressions, and hit policies.

A rule matches when every input entry is true for its input's value; an entry that is false or
null (unknown — e.g. ``< 18`` on a missing age) does not match. What the table gives then depends
on its hit policy:

    UNIQUE        at most one rule may match (two is an error: null)
    ANY           several may match if their outputs are equal (else an error: null)
    FIRST         the first matching rule in table order
    PRIORITY      the matching rule whose outputs come first in the output values lists
    RULE ORDER    a list of the matching rules' outputs, in table order
    OUTPUT ORDER  that list sorted by output priority
    COLLECT       that list in table order, or its SUM, COUNT, MIN or MAX

When no rule matches, the default output entries are the result (or null without them; COUNT is 0).
A table with one output gives values; with several, contexts keyed by output name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Formatted

from .builtins import REGISTRY
from .values import equal, format_value

HIT_POLICIES = ("UNIQUE", "ANY", "FIRST", "PRIORITY", "RULE ORDER", "OUTPUT ORDER", "COLLECT")
AGGREGATIONS = ("SUM", "COUNT", "MIN", "MAX")
SINGLE_HIT = ("UNIQUE", "ANY", "FIRST", "PRIORITY")
_AGGREGATE = {
    "SUM": REGISTRY["sum"],
    "COUNT": REGISTRY["count"],
    "MIN": REGISTRY["min"],
    "MAX": REGISTRY["max"],
}


@dataclass
class InputClause:
    label: str
    expression: object  # feel.Expression
    type_ref: str | None = None
    allowed: object = None  # feel.UnaryTests: the input values, or None


@dataclass
class OutputClause:
    name: str
    type_ref: str | None = None
    priorities: list = field(default_factory=list)  # the output values, highest priority first
    default: object = None  # feel.Expression of the default output entry, or None


@dataclass
class TableRule:
    id: str
    tests: list  # feel.UnaryTests, one per input
    outputs: list  # feel.Expression (or None for an empty cell), one per output
    checks: list = field(init=False)  # (input index, test) for the cells that are not "-"

    def __post_init__(self):
        self.checks = [(i, t.run) for i, t in enumerate(self.tests) if not t.is_any]


@dataclass
class DecisionTable:
    hit_policy: str
    aggregation: str | None
    inputs: list[InputClause]
    outputs: list[OutputClause]
    rules: list[TableRule]
    type_ref: str | None = None

    def names(self) -> set[str]:
        """The free names the table reads (for the requirement graph)."""
        found: set[str] = set()
        for clause in self.inputs:
            found |= clause.expression.names
        for rule in self.rules:
            for test in rule.tests:
                found |= test.names
            for output in rule.outputs:
                if output is not None:
                    found |= output.names
        for clause in self.outputs:
            if clause.default is not None:
                found |= clause.default.names
        return found

    # -- evaluation ----------------------------------------------------------------------------

    def evaluate(self, scope, trace):
        values = []
        for clause in self.inputs:
            value = clause.expression.run(scope)
            if clause.type_ref and value is not None:
                value = trace.conform(value, clause.type_ref, clause.label)
            if (
                clause.allowed is not None
                and value is not None
                and clause.allowed.run(value, scope) is not True
            ):
                trace.error(
                    Formatted(
                        _(
                            "the input “%(label)s” is %(value)s, "
                            "which is not among its input values %(allowed)s"
                        ),
                        {
                            "label": clause.label,
                            "value": format_value(value),
                            "allowed": clause.allowed.source,
                        },
                    )
                )
                trace.inputs = [*values, value]
                return None
            values.append(value)
        trace.inputs = values
        matched = []
        for rule in self.rules:
            for index, test in rule.checks:
                if test(values[index], scope) is not True:
                    break
            else:
                matched.append(rule)
                if self.hit_policy == "FIRST":
                    break
        trace.matched = [rule.id for rule in matched]
        if not matched:
            return self._no_match(scope, trace)
        return self._hit(matched, scope, trace)

    def _output(self, rule: TableRule, scope, trace):
        if len(self.outputs) == 1:
            return self._cell(self.outputs[0], rule.outputs[0], scope, trace)
        return {
            clause.name: self._cell(clause, expression, scope, trace)
            for clause, expression in zip(self.outputs, rule.outputs, strict=True)
        }

    @staticmethod
    def _cell(clause: OutputClause, expression, scope, trace):
        value = expression.run(scope) if expression is not None else None
        if clause.type_ref and value is not None:
            value = trace.conform(value, clause.type_ref, clause.name or "output")
        return value

    def _no_match(self, scope, trace):
        if self.aggregation == "COUNT":
            return _AGGREGATE["COUNT"].call([[]])
        if not any(clause.default is not None for clause in self.outputs):
            return None
        if len(self.outputs) == 1:
            value = self._cell(self.outputs[0], self.outputs[0].default, scope, trace)
        else:
            value = {clause.name: self._cell(clause, clause.default, scope, trace) for clause in self.outputs}
        if self.hit_policy in SINGLE_HIT or self.aggregation:
            return value
        return [value]

    def _priority(self, output) -> tuple:
        """Lower is higher priority: the position of each output's value in its output values."""
        key = []
        values = [output] if len(self.outputs) == 1 else [output.get(c.name) for c in self.outputs]
        for clause, value in zip(self.outputs, values, strict=True):
            if not clause.priorities:
                continue
            position = len(clause.priorities)
            for index, candidate in enumerate(clause.priorities):
                if equal(value, candidate) is True:
                    position = index
                    break
            key.append(position)
        return tuple(key)

    def _hit(self, matched: list[TableRule], scope, trace):
        policy = self.hit_policy
        if policy == "FIRST":
            return self._output(matched[0], scope, trace)
        if policy == "UNIQUE":
            if len(matched) > 1:
                trace.error(
                    Formatted(
                        _("rules %(rules)s all match, but the UNIQUE hit policy allows only one"),
                        {"rules": ", ".join(r.id for r in matched)},
                    )
                )
                return None
            return self._output(matched[0], scope, trace)
        outputs = [self._output(rule, scope, trace) for rule in matched]
        if policy == "ANY":
            first = outputs[0]
            if any(equal(first, other) is not True for other in outputs[1:]):
                trace.error(
                    Formatted(
                        _("rules %(rules)s match with different outputs, which the ANY hit policy forbids"),
                        {"rules": ", ".join(r.id for r in matched)},
                    )
                )
                return None
            return first
        if policy == "PRIORITY":
            ranked = sorted(range(len(outputs)), key=lambda i: self._priority(outputs[i]))
            trace.matched = [matched[ranked[0]].id] + [matched[i].id for i in ranked[1:]]
            return outputs[ranked[0]]
        if policy == "OUTPUT ORDER":
            return sorted(outputs, key=self._priority)
        if policy == "COLLECT" and self.aggregation:
            return _AGGREGATE[self.aggregation].call([outputs])
        return outputs  # RULE ORDER, COLLECT
