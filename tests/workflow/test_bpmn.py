"""Reading BPMN: what runs, and clear refusals for what must not."""

import pytest

from tongban.core.i18n import bilingual
from tongban.workflow import bpmn, expressions

from .bpmn_samples import CALL, COUNTERSIGN, EXCLUSIVE, PARALLEL, document


def test_a_parallel_process_is_read_with_its_extension_attributes():
    graph = bpmn.parse_one(PARALLEL)
    assert graph.id == "qykb" and graph.start == "start"
    accept = graph.node("accept")
    assert (accept.kind, accept.role, accept.department, accept.limit_days) == (
        "user",
        "clerk",
        "xzspj-zhslk",
        1,
    )
    assert [f.target for f in graph.outgoing["fork"]] == ["reg", "seal", "tax"]
    assert len(graph.incoming["join"]) == 3
    assert [n.id for n in graph.user_tasks] == ["accept", "reg", "seal", "tax", "issue"]


def test_conditions_defaults_scripts_countersigns_and_calls():
    graph = bpmn.parse_one(EXCLUSIVE)
    assert graph.node("size").default_flow == "small"
    assert graph.outgoing["size"][0].condition.evaluate({"area": 800})
    assert graph.node("mark").function == "mark_decided"
    sign = bpmn.parse_one(COUNTERSIGN).node("sign")
    assert (sign.multi_instance, sign.countersign, sign.collection) == (True, "2", "signers")
    result = bpmn.parse(CALL)
    assert result.ok and set(result.processes) == {"parent", "child"}
    assert result.processes["parent"].node("child_call").called_process == "child"


def _problems(xml: str) -> dict[str, str]:
    result = bpmn.parse(xml)
    assert not result.ok
    return {p.code: p.element for p in result.problems}


def _around(task: str, flow_in: str = "", flow_out: str = "") -> str:
    """A process: start → t (the given element) → end, with optional flow bodies."""
    return document(
        '<bpmn:process id="p"><bpmn:startEvent id="s"/>'
        f'<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t">{flow_in}</bpmn:sequenceFlow>{task}'
        f'<bpmn:sequenceFlow id="g" sourceRef="t" targetRef="e">{flow_out}</bpmn:sequenceFlow>'
        '<bpmn:endEvent id="e"/></bpmn:process>'
    )


TWO_BRANCHES = document(
    '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="x"/>'
    '<bpmn:exclusiveGateway id="x"/><bpmn:sequenceFlow id="a" sourceRef="x" targetRef="e"/>'
    '<bpmn:sequenceFlow id="b" sourceRef="x" targetRef="e"/><bpmn:endEvent id="e"/></bpmn:process>'
)


@pytest.mark.parametrize(
    "xml,code",
    [
        ("not xml at all", "xml"),
        ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "boom">]><d>&x;</d>', "unsafe"),
        ("<root/>", "not_bpmn"),
        (document(""), "no_process"),
        (document('<bpmn:process id="p"><bpmn:startEvent id="s"/></bpmn:process>'), "end"),
        (
            document('<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:endEvent id="e"/></bpmn:process>'),
            "dead_end",
        ),
        (
            document(
                '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" '
                'targetRef="nowhere"/><bpmn:endEvent id="e"/></bpmn:process>'
            ),
            "dangling",
        ),
        (_around('<bpmn:scriptTask id="t" tb:function="os.system"/>'), "function"),
        (
            _around(
                '<bpmn:scriptTask id="t" tb:function="noop">'
                "<bpmn:script>import os</bpmn:script></bpmn:scriptTask>"
            ),
            "script",
        ),
        (
            _around(
                '<bpmn:userTask id="t"/>',
                flow_out='<bpmn:conditionExpression>__import__("os").system("x")</bpmn:conditionExpression>',
            ),
            "condition_syntax",
        ),
        (_around('<bpmn:sendTask id="t"/>'), "message"),
        (_around('<bpmn:adHocSubProcess id="t"/>'), "unsupported"),
        (TWO_BRANCHES, "condition"),
        (_around('<bpmn:userTask id="t" tb:role="emperor"/>'), "role"),
    ],
)
def test_unsafe_or_unsupported_definitions_are_refused_with_a_reason(xml, code):
    problems = _problems(xml)
    assert code in problems, problems


def test_size_limit():
    big = document("<!--" + "x" * (bpmn.MAX_BYTES + 1) + "-->")
    assert "too_large" in _problems(big)


def test_problems_read_in_both_languages():
    result = bpmn.parse(document('<bpmn:process id="p"><bpmn:startEvent id="s"/></bpmn:process>'))
    messages = bilingual(result.problems[0].message)
    assert messages["zh-Hans"] != messages["en"]


@pytest.mark.parametrize(
    "source,data,expected",
    [
        ('decision == "approve"', {"decision": "approve"}, True),
        ("area > 500 and risk != 'high'", {"area": 600, "risk": "low"}, True),
        ("area > 500", {}, False),  # missing data is None, and None > 500 is simply false
        ("district in ['511602', '511603']", {"district": "511603"}, True),
        ("not applicant.is_enterprise", {"applicant": {"is_enterprise": False}}, True),
        ("amount >= -1", {"amount": 0}, True),
        ("${decision == 'reject'}", {"decision": "reject"}, True),
    ],
)
def test_conditions(source, data, expected):
    assert expressions.compile_condition(source).evaluate(data) is expected


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os')",
        "open('/etc/passwd')",
        "x.__class__",
        "(lambda: 1)()",
        "[a for a in b]",
        "a[0]",
        "f'{x}'",
        "-x",
        "1 if a else 2",
        "a + b",
        "",
        "x" * 600,
    ],
)
def test_conditions_refuse_anything_but_comparisons_of_data(source):
    with pytest.raises(expressions.ExpressionError):
        expressions.compile_condition(source)
