"""DMN 1.1–1.5 as other tools write it: read a definitions document, evaluate its decisions.

    model = load(xml_bytes)                        # DmnError / Unsupported naming the element
    result = model.evaluate({"Age": 18, "RiskCategory": "Medium", "isAffordable": True})
    result.value("Approval Status")                # "Approved"
    result.decisions["Approval Status"].matched    # ids of the rules that matched

What is evaluated: item definitions (base types, components, collections, allowed values), input
data, decisions whose logic is a literal expression, a decision table, a context, an invocation, a
list or a relation, business knowledge models (FEEL functions) and the requirement graph between
them — required decisions first, cycles refused. Decision tables: every hit policy (UNIQUE, ANY,
FIRST, PRIORITY, RULE ORDER, OUTPUT ORDER, COLLECT with or without SUM, COUNT, MIN, MAX), output
values and their priorities, default output entries, typed inputs and outputs.

What is refused with Unsupported: imports of other models, decision services, Java/PMML functions,
expression languages other than FEEL, and DMN 1.4+ boxed conditionals, filters and iterators.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Formatted

from .compiler import Scope
from .errors import DmnError, FeelSyntaxError, FeelUnsupported, RuleError, Unsupported
from .feel import compile_expression, compile_unary_tests
from .tables import AGGREGATIONS, HIT_POLICIES, DecisionTable, InputClause, OutputClause, TableRule
from .types import ItemType, TypeSystem
from .values import Function, from_python

MAX_BYTES = 4 * 1024 * 1024
MAX_ELEMENTS = 100_000

NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
_FEEL = re.compile(r"feel", re.I)
_BOXED_UNSUPPORTED = {"conditional", "filter", "for", "every", "some", "functionDefinition"}
_EXPRESSION_TAGS = (
    "literalExpression",
    "decisionTable",
    "context",
    "invocation",
    "list",
    "relation",
    "functionDefinition",
    "conditional",
    "filter",
    "for",
    "every",
    "some",
)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _describe(kind: str, element) -> Formatted:
    name = element.get("name") or element.get("label") or ""
    ident = element.get("id") or ""
    if name and ident:
        return Formatted(_("%(kind)s “%(name)s” (id %(id)s)"), {"kind": kind, "name": name, "id": ident})
    if name or ident:
        return Formatted(_("%(kind)s “%(name)s”"), {"kind": kind, "name": name or ident})
    return Formatted("%(kind)s", {"kind": kind})


_KINDS = {
    "decision": _("decision"),
    "inputData": _("input data"),
    "businessKnowledgeModel": _("business knowledge model"),
    "itemDefinition": _("item definition"),
    "decisionService": _("decision service"),
    "import": _("import"),
}


def _kind(tag: str):
    return _KINDS.get(tag, tag)


@dataclass
class InputData:
    id: str
    name: str
    type_ref: str | None


@dataclass
class Decision:
    id: str
    name: str
    type_ref: str | None
    logic: object  # a Logic, or None for a decision without logic (refused when evaluated)
    requires: list[str] = field(default_factory=list)  # names of decisions evaluated first
    element: object = None
    problem: DmnError | None = None  # why its logic could not be read (lenient loading only)


@dataclass
class KnowledgeModel:
    id: str
    name: str
    params: tuple[tuple[str, str | None], ...]
    body: object  # a Logic
    type_ref: str | None = None


# --- boxed expressions ------------------------------------------------------------------------


class Logic:
    """A compiled boxed expression: ``evaluate(scope, trace)`` gives a FEEL value."""

    def evaluate(self, scope: Scope, trace: Trace):  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class LiteralLogic(Logic):
    expression: object  # feel.Expression
    type_ref: str | None = None

    def evaluate(self, scope, trace):
        return self.expression.run(scope)


@dataclass
class TableLogic(Logic):
    table: DecisionTable

    def evaluate(self, scope, trace):
        return self.table.evaluate(scope, trace)


@dataclass
class ContextLogic(Logic):
    entries: list[tuple[str | None, Logic, str | None]]  # (variable, logic, typeRef); None = result

    def evaluate(self, scope, trace):
        inner = scope.child()
        result = {}
        for name, logic, type_ref in self.entries:
            value = logic.evaluate(inner, trace)
            if type_ref:
                value = trace.conform(value, type_ref, name or "")
            if name is None:
                return value
            result[name] = inner[name] = value
        return result


@dataclass
class ListLogic(Logic):
    items: list[Logic]

    def evaluate(self, scope, trace):
        return [i.evaluate(scope, trace) for i in self.items]


@dataclass
class RelationLogic(Logic):
    columns: list[str]
    rows: list[list[Logic]]

    def evaluate(self, scope, trace):
        return [
            {c: cell.evaluate(scope, trace) for c, cell in zip(self.columns, row, strict=True)}
            for row in self.rows
        ]


@dataclass
class InvocationLogic(Logic):
    function: object  # feel.Expression naming the function
    bindings: list[tuple[str, Logic | None]]

    def evaluate(self, scope, trace):
        fn = self.function.run(scope)
        if not isinstance(fn, Function):
            trace.error(Formatted(_("“%(name)s” is not a function"), {"name": self.function.source}))
            return None
        names = tuple(n for n, _l in self.bindings)
        values = [logic.evaluate(scope, trace) if logic is not None else None for _n, logic in self.bindings]
        args = fn.bind(names, values) if names else []
        if args is None:
            trace.error(
                Formatted(_("the invocation of “%(name)s” names unknown parameters"), {"name": fn.name})
            )
            return None
        return fn.call(args)


@dataclass
class FunctionLogic(Logic):
    params: tuple[tuple[str, str | None], ...]
    body: Logic
    name: str = "anonymous"

    def evaluate(self, scope, trace):
        return self.function(scope, trace)

    def function(self, scope, trace) -> Function:
        params = self.params

        def call(args):
            bindings = {}
            for (name, type_ref), value in zip(params, args, strict=False):
                bindings[name] = trace.conform(value, type_ref, name) if type_ref else value
            for name, _t in params[len(args) :]:
                bindings[name] = None
            trace.depth += 1
            try:
                if trace.depth > 64:
                    trace.error(_("functions call each other too deeply"))
                    return None
                return self.body.evaluate(scope.child(bindings), trace)
            finally:
                trace.depth -= 1

        return Function(self.name, tuple(n for n, _t in params), call)


# --- evaluation results -----------------------------------------------------------------------


class Trace:
    """What one evaluation saw: errors (messages, lazily translated) and the rules that matched."""

    def __init__(self, types: TypeSystem):
        self.types = types
        self.errors: list = []
        self.matched: list[str] = []
        self.inputs: list = []
        self.depth = 0

    def error(self, message) -> None:
        if len(self.errors) < 50:
            self.errors.append(message)

    def conform(self, value, type_ref, name: str):
        converted, ok = self.types.conform(value, type_ref)
        if not ok:
            self.error(
                Formatted(
                    _("the value of “%(name)s” is not of its type %(type)s, so it is null"),
                    {"name": name, "type": type_ref},
                )
            )
            return None
        return converted


@dataclass
class DecisionResult:
    name: str
    value: object
    errors: list  # lazy messages
    matched: list[str]  # ids (or 1-based numbers) of matched rules, for decision tables
    inputs: list  # the input values a decision table saw, in column order

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Evaluation:
    decisions: dict[str, DecisionResult]
    input_errors: list = field(default_factory=list)  # inputs that did not conform to their types

    def value(self, name: str):
        return self.decisions[name].value

    @property
    def errors(self) -> list:
        return [*self.input_errors, *(e for r in self.decisions.values() for e in r.errors)]


# --- the model --------------------------------------------------------------------------------


@dataclass
class Model:
    name: str
    namespace: str
    version: str
    types: TypeSystem
    inputs: dict[str, InputData]
    decisions: dict[str, Decision]
    knowledge: dict[str, KnowledgeModel]
    order: list[str]  # decision names, each after those it requires
    warnings: list = field(default_factory=list)

    def decision(self, key: str) -> Decision:
        if key in self.decisions:
            return self.decisions[key]
        for decision in self.decisions.values():
            if decision.id == key:
                return decision
        raise DmnError("", Formatted(_("the model has no decision “%(name)s”"), {"name": key}))

    def evaluate(self, inputs: Mapping | None = None, decisions: list[str] | None = None) -> Evaluation:
        """Evaluate the named decisions (all by default) and those they require, over ``inputs``
        keyed by input data name (plain Python values, or FEEL values)."""
        inputs = inputs or {}
        wanted = [self.decision(k).name for k in decisions] if decisions else list(self.order)
        needed = self._closure(wanted)
        scope = Scope(raw={})
        checker = Trace(self.types)
        for name, value in inputs.items():
            if name not in self.inputs:
                scope[name] = from_python(value)  # lax models read variables they never declared
        for data in self.inputs.values():
            value = from_python(inputs.get(data.name))
            scope[data.name] = checker.conform(value, data.type_ref, data.name) if data.type_ref else value
        results: dict[str, DecisionResult] = {}
        for name in self.order:
            if name not in needed:
                continue
            decision = self.decisions[name]
            trace = Trace(self.types)
            for bkm in self.knowledge.values():
                # bound per decision, so a knowledge model's errors are reported on the decision using it
                scope[bkm.name] = FunctionLogic(bkm.params, bkm.body, bkm.name).function(scope, trace)
            value = self._evaluate_decision(decision, scope, trace)
            scope[name] = value
            results[name] = DecisionResult(name, value, trace.errors, trace.matched, trace.inputs)
        return Evaluation({n: results[n] for n in wanted}, checker.errors)

    def _closure(self, wanted: list[str]) -> set[str]:
        needed: set[str] = set()
        stack = list(wanted)
        while stack:
            name = stack.pop()
            if name in needed:
                continue
            needed.add(name)
            stack.extend(self.decisions[name].requires)
        return needed

    def _evaluate_decision(self, decision: Decision, scope: Scope, trace: Trace):
        if decision.problem is not None:
            trace.error(decision.problem.message)
            return None
        if decision.logic is None:
            trace.error(_("the decision has no decision logic"))
            return None
        try:
            value = decision.logic.evaluate(scope, trace)
        except RecursionError:
            trace.error(_("the decision is nested too deeply to evaluate"))
            return None
        except RuleError as exc:
            trace.error(exc.message)
            return None
        if decision.type_ref:
            value = trace.conform(value, decision.type_ref, decision.name)
        return value


# --- reading the XML --------------------------------------------------------------------------


class _Reader:
    def __init__(self, root, ns: str):
        self.root = root
        self.ns = ns
        self.names: set[str] = set()
        self.local: set[str] = set()
        self.functions: set[str] = set()
        self.strict = True
        self.items: dict[str, ItemType] = {}
        self.types = TypeSystem(self.items)
        self.warnings: list = []

    def q(self, tag: str) -> str:
        return f"{{{self.ns}}}{tag}"

    def children(self, element, tag: str) -> list:
        return element.findall(self.q(tag))

    def text(self, element, tag: str = "text") -> str:
        child = element.find(self.q(tag))
        return (child.text or "") if child is not None else ""

    def check_language(self, element, where) -> None:
        language = element.get("expressionLanguage")
        if language and not _FEEL.search(language):
            raise Unsupported(
                where,
                Formatted(
                    _("the expression language %(language)s is not supported; only FEEL is"),
                    {"language": language},
                ),
            )

    # -- compile helpers -----------------------------------------------------------------------

    def expression(self, text: str, where):
        try:
            return compile_expression(
                text.strip(), self.scope_names(), frozenset(self.functions | self.local)
            )
        except FeelUnsupported as exc:
            raise Unsupported(where, exc.message) from None
        except FeelSyntaxError as exc:
            raise DmnError(where, exc.message) from None

    def unary_tests(self, text: str, where):
        try:
            return compile_unary_tests(
                text.strip(), self.scope_names(), frozenset(self.functions | self.local)
            )
        except FeelUnsupported as exc:
            raise Unsupported(where, exc.message) from None
        except FeelSyntaxError as exc:
            raise DmnError(where, exc.message) from None

    def scope_names(self) -> frozenset[str]:
        return frozenset(self.names | self.local)

    def with_params(self, params, read):
        """``read()`` with function parameters in scope: they are names only inside the function
        (a parameter "Person.Name" must not hide the path Person.Name elsewhere)."""
        outer = self.local
        self.local = outer | {name for name, _t in params}
        try:
            return read()
        finally:
            self.local = outer

    # -- model ---------------------------------------------------------------------------------

    def read(self) -> Model:
        root = self.root
        where = _describe(_("definitions"), root)
        self.check_language(root, where)
        type_language = root.get("typeLanguage")
        if type_language and not _FEEL.search(type_language) and "XMLSchema" not in type_language:
            raise Unsupported(
                where,
                Formatted(_("the type language %(language)s is not supported"), {"language": type_language}),
            )
        for element in self.children(root, "import"):
            raise Unsupported(
                _describe(_kind("import"), element),
                _("models that import other models are not supported; merge them into one file"),
            )
        for element in self.children(root, "decisionService"):
            self.warnings.append(
                Formatted(
                    _("%(element)s: decision services are not evaluated; the decisions in them are"),
                    {"element": _describe(_kind("decisionService"), element)},
                )
            )
        by_id: dict[str, tuple[str, str]] = {}
        for tag in ("inputData", "decision", "businessKnowledgeModel"):
            for element in self.children(root, tag):
                name = (element.get("name") or "").strip()
                if not name:
                    raise DmnError(_describe(_kind(tag), element), _("the element has no name"))
                self.names.add(name)
                if element.get("id"):
                    by_id[element.get("id")] = (tag, name)
                if tag == "businessKnowledgeModel":
                    self.functions.add(name)
        for element in self.children(root, "itemDefinition"):
            item = self.item_definition(element, top=True)
            self.items[item.name] = item
        for element in self.children(root, "itemDefinition"):
            self.item_allowed_values(element, self.items[(element.get("name") or "").strip()])
        self.collect_inner_names(root)
        inputs = {}
        for element in self.children(root, "inputData"):
            variable = element.find(self.q("variable"))
            type_ref = variable.get("typeRef") if variable is not None else element.get("typeRef")
            self.check_type(type_ref, _describe(_kind("inputData"), element))
            data = InputData(element.get("id") or "", element.get("name").strip(), type_ref)
            inputs[data.name] = data
        knowledge = {}
        for element in self.children(root, "businessKnowledgeModel"):
            bkm = self.knowledge_model(element)
            knowledge[bkm.name] = bkm
        decisions = {}
        for element in self.children(root, "decision"):
            decision = self.decision(element, by_id)
            decisions[decision.name] = decision
        order = _order(decisions, inputs)
        return Model(
            name=root.get("name") or "",
            namespace=root.get("namespace") or "",
            version=NAMESPACES[self.ns],
            types=self.types,
            inputs=inputs,
            decisions=decisions,
            knowledge=knowledge,
            order=order,
            warnings=self.warnings,
        )

    def collect_inner_names(self, root) -> None:
        """Names FEEL text may use besides the model's elements: item components, output columns,
        context entries and function parameters (they may hold spaces or symbols)."""
        for item in self.items.values():
            self._component_names(item)
        for output in root.iter(self.q("output")):
            if output.get("name"):
                self.names.add(output.get("name"))
        for variable in root.iter(self.q("variable")):
            if variable.get("name"):
                self.names.add(variable.get("name"))
        for column in root.iter(self.q("column")):
            if column.get("name"):
                self.names.add(column.get("name"))

    def _component_names(self, item: ItemType, depth: int = 0) -> None:
        if depth > 30:
            return
        for name, component in item.components.items():
            self.names.add(name)
            self._component_names(component, depth + 1)

    def check_type(self, type_ref: str | None, where) -> None:
        if type_ref and not self.types.known(type_ref):
            raise DmnError(where, Formatted(_("the type “%(type)s” is not defined"), {"type": type_ref}))

    def item_definition(self, element, *, top: bool = False, depth: int = 0) -> ItemType:
        where = _describe(_kind("itemDefinition"), element)
        if depth > 30:
            raise DmnError(where, _("item definitions are nested too deeply"))
        name = (element.get("name") or "").strip()
        if not name:
            raise DmnError(where, _("the element has no name"))
        if element.get("typeLanguage") and not _FEEL.search(element.get("typeLanguage")):
            raise Unsupported(where, _("only FEEL item definitions are supported"))
        if element.find(self.q("functionItem")) is not None:
            raise Unsupported(where, _("function types are not supported"))
        item = ItemType(name, is_collection=(element.get("isCollection") == "true"))
        base = self.text(element, "typeRef").strip() or None
        item.base = base
        for component in self.children(element, "itemComponent"):
            child = self.item_definition(component, depth=depth + 1)
            item.components[child.name] = child
        return item

    def item_allowed_values(self, element, item: ItemType, depth: int = 0) -> None:
        """Allowed values are read after every name is known, so they may use any of them."""
        where = _describe(_kind("itemDefinition"), element)
        if item.base and not item.components and not self.types.known(item.base):
            raise DmnError(where, Formatted(_("the type “%(type)s” is not defined"), {"type": item.base}))
        allowed = element.find(self.q("allowedValues"))
        if allowed is not None:
            self.check_language(allowed, where)
            source = self.text(allowed)
            item.allowed = self.unary_tests(source, where) if source.strip() else None
            item.allowed_source = source
        for component in self.children(element, "itemComponent"):
            self.item_allowed_values(
                component, item.components[(component.get("name") or "").strip()], depth + 1
            )

    def knowledge_model(self, element) -> KnowledgeModel:
        where = _describe(_kind("businessKnowledgeModel"), element)
        logic = element.find(self.q("encapsulatedLogic"))
        if logic is None:
            raise DmnError(where, _("the knowledge model has no encapsulated logic"))
        kind = logic.get("kind") or "FEEL"
        if kind.upper() != "FEEL":
            raise Unsupported(where, Formatted(_("%(kind)s functions are not supported"), {"kind": kind}))
        params = tuple(
            (p.get("name") or "", p.get("typeRef")) for p in self.children(logic, "formalParameter")
        )
        body = self.with_params(params, lambda: self.logic(logic, where))
        if body is None:
            raise DmnError(where, _("the knowledge model has no body"))
        variable = element.find(self.q("variable"))
        return KnowledgeModel(
            element.get("id") or "",
            element.get("name").strip(),
            params,
            body,
            variable.get("typeRef") if variable is not None else None,
        )

    def decision(self, element, by_id: dict) -> Decision:
        where = _describe(_kind("decision"), element)
        name = element.get("name").strip()
        variable = element.find(self.q("variable"))
        type_ref = variable.get("typeRef") if variable is not None else None
        self.check_type(type_ref, where)
        requires = []
        for requirement in self.children(element, "informationRequirement"):
            for child in requirement:
                if _local(child.tag) == "requiredDecision":
                    requires.append(self.reference(child, by_id, "decision", where))
        for requirement in self.children(element, "knowledgeRequirement"):
            for child in requirement:
                if _local(child.tag) == "requiredKnowledge":
                    self.reference(child, by_id, "businessKnowledgeModel", where)
        problem = None
        try:
            logic = self.logic(element, where, type_ref)
        except DmnError as exc:
            if self.strict:
                raise
            logic, problem = None, exc
        if logic is not None:
            # lax models read other decisions without declaring the requirement
            for free in _free_names(logic):
                if free in by_name(by_id, "decision") and free != name and free not in requires:
                    requires.append(free)
        return Decision(element.get("id") or "", name, type_ref, logic, requires, element, problem)

    def reference(self, child, by_id: dict, tag: str, where) -> str:
        href = child.get("href") or ""
        if not href.startswith("#"):
            raise Unsupported(
                where, Formatted(_("the requirement %(href)s points into another model"), {"href": href})
            )
        target = by_id.get(href[1:])
        if target is None or target[0] != tag:
            raise DmnError(
                where,
                Formatted(
                    _("the requirement %(href)s points to no %(kind)s"), {"href": href, "kind": _kind(tag)}
                ),
            )
        return target[1]

    def logic(self, element, where, type_ref: str | None = None) -> Logic | None:
        found = [
            c for c in element if _local(c.tag) in _EXPRESSION_TAGS and c.tag.startswith(f"{{{self.ns}}}")
        ]
        if not found:
            return None
        return self.boxed(found[0], where, type_ref)

    def boxed(self, element, where, type_ref: str | None = None) -> Logic:
        tag = _local(element.tag)
        self.check_language(element, where)
        if tag == "literalExpression":
            if element.find(self.q("importedValues")) is not None:
                raise Unsupported(where, _("imported values are not supported"))
            text = self.text(element)
            if not text.strip():
                raise DmnError(where, _("the literal expression is empty"))
            return LiteralLogic(self.expression(text, where), element.get("typeRef"))
        if tag == "decisionTable":
            return TableLogic(self.table(element, where, type_ref))
        if tag == "context":
            entries = []
            for entry in self.children(element, "contextEntry"):
                variable = entry.find(self.q("variable"))
                inner = self.logic(entry, where)
                if inner is None:
                    raise DmnError(where, _("a context entry has no expression"))
                name = variable.get("name") if variable is not None else None
                entries.append((name, inner, variable.get("typeRef") if variable is not None else None))
            return ContextLogic(entries)
        if tag == "list":
            return ListLogic([self.boxed(c, where) for c in element if _local(c.tag) in _EXPRESSION_TAGS])
        if tag == "relation":
            columns = [c.get("name") or "" for c in self.children(element, "column")]
            rows = []
            for row in self.children(element, "row"):
                cells = [self.boxed(c, where) for c in row if _local(c.tag) in _EXPRESSION_TAGS]
                if len(cells) != len(columns):
                    raise DmnError(where, _("a relation row does not have one cell per column"))
                rows.append(cells)
            return RelationLogic(columns, rows)
        if tag == "invocation":
            called = self.logic(element, where)
            if not isinstance(called, LiteralLogic):
                raise Unsupported(where, _("an invocation must name its function in a literal expression"))
            bindings = []
            for binding in self.children(element, "binding"):
                parameter = binding.find(self.q("parameter"))
                if parameter is None or not parameter.get("name"):
                    raise DmnError(where, _("a binding has no parameter name"))
                bindings.append((parameter.get("name"), self.logic(binding, where)))
            return InvocationLogic(called.expression, bindings)
        if tag == "functionDefinition":
            kind = element.get("kind") or "FEEL"
            if kind.upper() != "FEEL":
                raise Unsupported(where, Formatted(_("%(kind)s functions are not supported"), {"kind": kind}))
            params = tuple(
                (p.get("name") or "", p.get("typeRef")) for p in self.children(element, "formalParameter")
            )
            body = self.with_params(params, lambda: self.logic(element, where))
            if body is None:
                raise DmnError(where, _("the function has no body"))
            return FunctionLogic(params, body)
        raise Unsupported(
            where, Formatted(_("the boxed expression <%(tag)s> is not supported"), {"tag": tag})
        )

    def table(self, element, where, type_ref: str | None) -> DecisionTable:
        policy = " ".join((element.get("hitPolicy") or "UNIQUE").split()).upper()
        if policy not in HIT_POLICIES:
            raise DmnError(where, Formatted(_("unknown hit policy %(policy)s"), {"policy": policy}))
        aggregation = (element.get("aggregation") or "").strip().upper() or None
        if aggregation is not None and (aggregation not in AGGREGATIONS or policy != "COLLECT"):
            raise DmnError(
                where,
                Formatted(
                    _("the aggregation %(aggregation)s needs the COLLECT hit policy"),
                    {"aggregation": aggregation},
                ),
            )
        inputs = []
        for index, column in enumerate(self.children(element, "input"), start=1):
            at = Formatted(_("%(where)s, input %(n)d"), {"where": where, "n": index})
            expression = column.find(self.q("inputExpression"))
            if expression is None:
                raise DmnError(at, _("the input has no input expression"))
            self.check_language(expression, at)
            source = self.text(expression)
            if not source.strip():
                raise DmnError(at, _("the input expression is empty"))
            values = column.find(self.q("inputValues"))
            allowed = None
            if values is not None and self.text(values).strip():
                allowed = self.unary_tests(self.text(values), at)
            label = column.get("label") or source.strip()
            inputs.append(InputClause(label, self.expression(source, at), expression.get("typeRef"), allowed))
        outputs = []
        table_type = element.get("typeRef") or type_ref
        for index, column in enumerate(self.children(element, "output"), start=1):
            at = Formatted(_("%(where)s, output %(n)d"), {"where": where, "n": index})
            values_element = column.find(self.q("outputValues"))
            priorities = []
            if values_element is not None and self.text(values_element).strip():
                tests = self.unary_tests(self.text(values_element), at)
                priorities = _literal_values(tests, at)
            default = column.find(self.q("defaultOutputEntry"))
            default_expression = None
            if default is not None and self.text(default).strip():
                default_expression = self.expression(self.text(default), at)
            outputs.append(
                OutputClause(column.get("name") or "", column.get("typeRef"), priorities, default_expression)
            )
        if not outputs:
            raise DmnError(where, _("the decision table has no output"))
        if len(outputs) > 1 and any(not o.name for o in outputs):
            raise DmnError(where, _("a decision table with several outputs needs a name on each"))
        if aggregation and len(outputs) > 1:
            raise DmnError(where, _("an aggregation needs a table with a single output"))
        if policy in ("PRIORITY", "OUTPUT ORDER") and not any(o.priorities for o in outputs):
            raise DmnError(
                where,
                Formatted(
                    _("the %(policy)s hit policy needs output values that give the order"), {"policy": policy}
                ),
            )
        rules = []
        for number, rule in enumerate(self.children(element, "rule"), start=1):
            at = Formatted(_("%(where)s, rule %(n)d"), {"where": where, "n": number})
            entries = self.children(rule, "inputEntry")
            results = self.children(rule, "outputEntry")
            if len(entries) != len(inputs) or len(results) != len(outputs):
                raise DmnError(
                    at,
                    Formatted(
                        _(
                            "the rule has %(i)d input and %(o)d output entries; "
                            "the table has %(ti)d inputs and %(to)d outputs"
                        ),
                        {"i": len(entries), "o": len(results), "ti": len(inputs), "to": len(outputs)},
                    ),
                )
            tests = []
            for column, entry in enumerate(entries, start=1):
                cell = Formatted(_("%(where)s, input entry %(n)d"), {"where": at, "n": column})
                self.check_language(entry, cell)
                tests.append(self.unary_tests(self.text(entry), cell))
            values = []
            for column, entry in enumerate(results, start=1):
                cell = Formatted(_("%(where)s, output entry %(n)d"), {"where": at, "n": column})
                self.check_language(entry, cell)
                text = self.text(entry)
                values.append(self.expression(text, cell) if text.strip() else None)
            rules.append(TableRule(rule.get("id") or str(number), tests, values))
        return DecisionTable(
            hit_policy=policy,
            aggregation=aggregation,
            inputs=inputs,
            outputs=outputs,
            rules=rules,
            type_ref=table_type,
        )


def by_name(by_id: dict, tag: str) -> set[str]:
    return {name for kind, name in by_id.values() if kind == tag}


def _literal_values(tests, where) -> list:
    """The values of ``"a", "b", "c"`` (an output values list), in order, for priorities."""
    from .syntax import Literal, Negation

    values = []
    for test in tests.tree.tests:
        operand = test.operand
        if test.op is not None or tests.tree.negated:
            raise DmnError(where, _("output values must be a list of values"))
        if isinstance(operand, Literal):
            values.append(operand.value)
        elif isinstance(operand, Negation) and isinstance(operand.operand, Literal):
            values.append(-operand.operand.value)
        else:
            raise DmnError(where, _("output values must be a list of values"))
    return values


def _free_names(logic: Logic) -> set[str]:
    names: set[str] = set()
    stack = [logic]
    while stack:
        item = stack.pop()
        if isinstance(item, LiteralLogic):
            names |= item.expression.names
        elif isinstance(item, TableLogic):
            names |= item.table.names()
        elif isinstance(item, ContextLogic):
            stack.extend(entry for _n, entry, _t in item.entries)
        elif isinstance(item, ListLogic):
            stack.extend(item.items)
        elif isinstance(item, RelationLogic):
            stack.extend(cell for row in item.rows for cell in row)
        elif isinstance(item, InvocationLogic):
            names |= item.function.names
            stack.extend(b for _n, b in item.bindings if b is not None)
        elif isinstance(item, FunctionLogic):
            stack.append(item.body)
    return names


def _order(decisions: dict[str, Decision], inputs: dict[str, InputData]) -> list[str]:
    """Decision names, each after every decision it requires; a cycle is refused, named."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(name: str) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*path[path.index(name) :], name]
            raise DmnError(
                _describe(_kind("decision"), decisions[name].element),
                Formatted(
                    _("decisions require each other in a cycle: %(cycle)s"), {"cycle": " → ".join(cycle)}
                ),
            )
        state[name] = 1
        path.append(name)
        for required in decisions[name].requires:
            visit(required)
        path.pop()
        state[name] = 2
        order.append(name)

    for name in decisions:
        visit(name)
    return order


def load(xml, *, strict: bool = True) -> Model:
    """A DMN model from its XML (bytes or text). Raises DmnError or Unsupported naming the element.

    With ``strict=False`` a decision whose logic cannot be read is kept: evaluating it gives null
    with its problem as the error, and the other decisions still evaluate (for test suites that
    put many independent decisions in one model)."""
    data = xml.encode() if isinstance(xml, str) else xml
    if not isinstance(data, bytes | bytearray):
        raise DmnError("", _("a DMN document must be XML text"))
    if len(data) > MAX_BYTES:
        raise DmnError(
            "", Formatted(_("the DMN file is larger than %(n)d MB"), {"n": MAX_BYTES // (1024 * 1024)})
        )
    try:
        root = SafeElementTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise DmnError("", _("the DMN file declares entities or a DTD, which are refused")) from None
    except SafeElementTree.ParseError as exc:
        raise DmnError("", Formatted(_("the file is not well-formed XML: %(e)s"), {"e": str(exc)})) from None
    for count, _element in enumerate(root.iter(), start=1):
        if count > MAX_ELEMENTS:
            raise DmnError("", _("the DMN file has too many elements"))
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if namespace not in NAMESPACES or _local(root.tag) != "definitions":
        raise DmnError("", _("this is not a DMN 1.1–1.5 definitions document"))
    reader = _Reader(root, namespace)
    reader.strict = strict
    return reader.read()
