"""Gateway conditions of the older syntax run as FEEL (one rule for missing values) and decide as
before: every condition of every demo definition, and of the test samples, over the values their
forms give, against the Python meaning they were written with."""

import ast
import itertools

import pytest

from tongban.workflow import bpmn, expressions

SAMPLES = [
    'decision == "reject"',
    'decision == "approve"',
    'area > 500 or risk == "high"',
    'amount > 500000 and applicant_kind == "enterprise"',
    'district in ["511602", "511603"] and not risk_high',
    'district not in ("511602", "511603")',
    "0 < score <= 10",
    "level != 'A' and level != None",
    'applicant.kind == "enterprise"',
    "${approved == True}",
    'note in "加急 特急"',
]


def _python(condition: expressions.Condition, data: dict) -> bool:
    """What the condition meant when it was written: Python's meaning over the data (every name
    present), a comparison Python cannot make being false."""

    def lookup(node):
        if isinstance(node, ast.Name):
            return {"true": True, "false": False, "null": None}.get(node.id, data.get(node.id))
        value = lookup(node.value)
        return value.get(node.attr) if isinstance(value, dict) else None

    class Resolve(ast.NodeTransformer):
        def visit_Attribute(self, node):
            return ast.copy_location(ast.Constant(lookup(node)), node)

        def visit_Name(self, node):
            return ast.copy_location(ast.Constant(lookup(node)), node)

    tree = ast.fix_missing_locations(Resolve().visit(ast.parse(condition.source, mode="eval")))
    try:
        return bool(eval(compile(tree, "<condition>", "eval"), {"__builtins__": {}}))  # noqa: S307 - constants only
    except TypeError:
        return False


def _values(condition: expressions.Condition) -> dict[str, list]:
    """Per name, the values a form gives it: the literals it is compared with and others of their
    type; a name used on its own is a checkbox (true/false)."""
    pools: dict[str, list] = {}
    for node in ast.walk(condition.tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        literals = []
        for operand in operands:
            if isinstance(operand, ast.Constant):
                literals.append(operand.value)
            elif isinstance(operand, ast.List | ast.Tuple):
                literals.extend(e.value for e in operand.elts if isinstance(e, ast.Constant))
        for operand in operands:
            name = ast.unparse(operand)
            if not isinstance(operand, ast.Name | ast.Attribute) or name in ("None", "True", "False"):
                continue
            pool = pools.setdefault(name, [])
            for literal in literals:
                if isinstance(literal, bool):
                    pool.extend([True, False])
                elif isinstance(literal, int | float):
                    pool.extend([literal - 1, literal, literal + 1])
                elif isinstance(literal, str):
                    pool.extend([literal, "其他", *literal.split()])
    for name in condition.names():
        if not any(path.startswith(name + ".") for path in pools):
            pools.setdefault(name, [True, False])
    return pools


def _data(assignment: dict) -> dict:
    data: dict = {}
    for path, value in assignment.items():
        *parents, last = path.split(".")
        target = data
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = value
    return data


def _demo_conditions() -> list[str]:
    """Seed the demo catalogue, write every item's and bundle's process as a case would (the
    standard process, stored on first use), and collect the conditions of every stored definition."""
    from tongban.cases.services._base import _Target, ensure_process
    from tongban.catalog.demo.loader import load_detail
    from tongban.catalog.models import BundleVersion, ItemVersion, VersionStatus
    from tongban.workflow.models import ProcessDefinition

    load_detail()
    for version in ItemVersion.objects.filter(status=VersionStatus.PUBLISHED):
        ensure_process(_Target(item=version))
    for version in BundleVersion.objects.filter(status=VersionStatus.PUBLISHED):
        ensure_process(_Target(bundle=version))
    found = []
    for definition in ProcessDefinition.objects.all():
        result = bpmn.parse(definition.bpmn_xml)
        for graph in result.processes.values():
            for flows in graph.outgoing.values():
                found.extend(f.condition.source for f in flows if f.condition is not None)
    return found


@pytest.mark.django_db
def test_every_demo_condition_decides_as_before():
    conditions = _demo_conditions()
    assert conditions, "the demo definitions have conditions"
    checked = 0
    for source in sorted(set(conditions)) + SAMPLES:
        condition = expressions.compile_condition(source)
        pools = _values(condition)
        names = sorted(pools)
        for combination in itertools.islice(itertools.product(*(pools[n] for n in names)), 400):
            data = _data(dict(zip(names, combination, strict=True)))
            assert condition.evaluate(data) == _python(condition, data), (source, condition.feel, data)
            checked += 1
    assert checked > 50


def test_the_conditions_are_feel_text():
    assert expressions.compile_condition('decision == "reject"').feel == 'decision = "reject"'
    assert (
        expressions.compile_condition('district in ["511602", "511603"] and not risk_high').feel
        == '(list contains(["511602", "511603"], district)) and (not(risk_high))'
    )
    assert expressions.compile_condition("0 < x <= 1e20").feel == "(0 < x) and (x <= 100000000000000000000)"
    assert expressions.compile_condition("a.b != None").feel == "a.b != null"


def test_a_missing_value_follows_feel_one_rule():
    holds = lambda source, data: expressions.compile_condition(source).evaluate(data)  # noqa: E731
    assert not holds('decision == "reject"', {})
    assert holds('decision != "reject"', {})  # null is a value for = and !=
    assert not holds("amount > 5", {}) and not holds("amount > 5", {"amount": "many"})
    assert not holds("not risk_high", {})  # unknown, not false: it does not hold (it did before)
    assert holds("not risk_high", {"risk_high": False})
    assert holds('district not in ["511602"]', {})
    assert not holds("a.b == 1", {"a": 3})


def test_what_was_refused_is_still_refused():
    for source in ('__import__("os").system("x")', "x[0] == 1", "f(x)", "-x < 1", "_secret == 1", ""):
        with pytest.raises(expressions.ExpressionError):
            expressions.compile_condition(source)
