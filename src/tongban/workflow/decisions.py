"""What a business rule task does: evaluate a DMN decision over the process variables and merge its
outputs into them. Pure — the DMN models come from whoever runs the process (stored decision
definitions for services, the DMN files beside a BPMN file for `tongban workflow check`).

How a decision's result becomes process variables:
- with a result variable (zeebe:calledDecision resultVariable, camunda:resultVariable): the result
  goes there — Camunda 8's decision output as it is; Camunda 7's mapped by camunda:mapDecisionResult
  (singleEntry, singleResult, collectEntries, resultList — its default);
- otherwise (SpiffWorkflow, tb:decision) the outputs are merged: a table with several outputs sets
  each output by its name, a table with one output sets that output's name (the decision's name
  when the output has none), any other decision sets the decision's name. A multi-hit table
  (COLLECT, RULE ORDER, OUTPUT ORDER) sets lists. When no rule matches, the outputs become null:
  a decision evaluated again never leaves the answer of the time before.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Formatted
from tongban.rules import DmnError, RuleError, Unsupported, dmn
from tongban.rules.dmn import TableLogic
from tongban.rules.values import to_python

MAPPINGS = ("singleEntry", "singleResult", "collectEntries", "resultList")


class DecisionFailed(Exception):
    """A decision could not give an answer; `reason` is a lazily translated message."""

    def __init__(self, reason):
        self.reason = reason
        super().__init__(str(reason))


@dataclass(frozen=True)
class Found:
    model: dmn.Model
    decision: dmn.Decision
    source: str  # where it came from: "<file>" or "<decision id> v<version>"


def decisions_of(model: dmn.Model) -> list[dmn.Decision]:
    return list(model.decisions.values())


def evaluate(found: Found, data: dict, *, result_variable: str = "", mapping: str = "") -> dict:
    """The process variable updates a business rule task makes with this decision over `data`."""
    try:
        evaluation = found.model.evaluate(data, [found.decision.name])
    except (DmnError, Unsupported, RuleError) as exc:
        raise DecisionFailed(exc.message) from None
    errors = evaluation.errors
    if errors:
        raise DecisionFailed(
            Formatted(
                _("the decision “%(decision)s” (%(source)s) gave no answer: %(error)s"),
                {
                    "decision": found.decision.id or found.decision.name,
                    "source": found.source,
                    "error": errors[0],
                },
            )
        )
    value = to_python(evaluation.value(found.decision.name))
    logic = found.decision.logic
    table = logic.table if isinstance(logic, TableLogic) else None
    if result_variable and mapping:
        return {result_variable: _mapped(found, table, value, mapping)}
    if result_variable:
        return {result_variable: value}
    if table is None:
        return {found.decision.name: value}
    names = [o.name or found.decision.name for o in table.outputs]
    if len(names) == 1:
        return {names[0]: value}
    if isinstance(value, list):  # several rules matched: one list per output
        return {n: [row.get(n) if isinstance(row, dict) else None for row in value] for n in names}
    if isinstance(value, dict):
        return {n: value.get(n) for n in names}
    return dict.fromkeys(names)


def _mapped(found: Found, table, value, mapping: str):
    """Camunda 7's camunda:mapDecisionResult over the matched rules' outputs."""
    name = found.decision.name
    if table is not None:
        single = table.hit_policy in ("UNIQUE", "ANY", "FIRST", "PRIORITY") or table.aggregation
        outputs = [o.name or name for o in table.outputs]
    else:
        single, outputs = True, [name]
    items = [value] if single else list(value or [])
    rows = [
        item if isinstance(item, dict) and len(outputs) > 1 else {outputs[0]: item}
        for item in items
        if item is not None
    ]
    if mapping == "resultList":
        return rows
    if mapping == "collectEntries":
        if any(len(row) != 1 for row in rows):
            raise DecisionFailed(_("collectEntries needs a decision with one output"))
        return [next(iter(row.values())) for row in rows]
    if len(rows) > 1:
        raise DecisionFailed(
            Formatted(
                _("%(mapping)s needs at most one matching rule; %(n)s matched"),
                {"mapping": mapping, "n": len(rows)},
            )
        )
    if mapping == "singleResult":
        return rows[0] if rows else None
    if not rows:
        return None
    if len(rows[0]) != 1:
        raise DecisionFailed(_("singleEntry needs a decision with one output"))
    return next(iter(rows[0].values()))


class Library:
    """DMN decisions by id (and by name, as SpiffWorkflow also finds them), from loaded models."""

    def __init__(self):
        self._by_key: dict[str, Found] = {}

    def add(self, model: dmn.Model, source: str) -> list[str]:
        """Add every decision of a model; the ids added."""
        added = []
        for decision in decisions_of(model):
            found = Found(model, decision, source)
            for key in {decision.id, decision.name} - {""}:
                self._by_key.setdefault(key, found)
            added.append(decision.id or decision.name)
        return added

    def find(self, decision_id: str) -> Found | None:
        return self._by_key.get(decision_id)

    def __contains__(self, decision_id: str) -> bool:
        return decision_id in self._by_key

    def __len__(self) -> int:
        return len({id(f) for f in self._by_key.values()})
