"""BPMN as people draw it: every element is recognised; what we do not run is refused once, by name,
in both languages; conditions are FEEL; drawn models are reference models (docs/workflow.md)."""

import itertools

import pytest

from tongban.core.i18n import bilingual
from tongban.workflow import bpmn, check, engine

from .bpmn_samples import document

FOREIGN_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
    'targetNamespace="https://example.org/x">\n'
)


def flow(flow_id: str, source: str, target: str) -> str:
    return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"/>'


def foreign(*processes: str) -> str:
    """A document another tool wrote: no tongban namespace, so conditions must be FEEL."""
    return FOREIGN_HEAD + "\n".join(processes) + "\n</bpmn:definitions>\n"


def chain(*elements: str, executable: str = "true", wrap=document) -> str:
    """start → each element (given as XML with id e1, e2, …) → end, in one process."""
    ids = ["s"] + [f"e{i + 1}" for i in range(len(elements))] + ["end"]
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(itertools.pairwise(ids))
    )
    return wrap(
        f'<bpmn:process id="p" isExecutable="{executable}"><bpmn:startEvent id="s"/>{"".join(elements)}'
        f'<bpmn:endEvent id="end"/>{flows}</bpmn:process>'
    )


@pytest.mark.parametrize(
    "element,label",
    [
        (
            '<bpmn:intermediateThrowEvent id="e1" name="补偿"><bpmn:compensateEventDefinition/>'
            "</bpmn:intermediateThrowEvent>",
            "补偿中间抛出事件",
        ),
        ('<bpmn:complexGateway id="e1"/>', "复杂网关"),
        (
            '<bpmn:scriptTask id="e1" name="审查"><bpmn:standardLoopCharacteristics/></bpmn:scriptTask>',
            "标准循环",
        ),
        ('<bpmn:transaction id="e1"/>', "事务子流程"),
    ],
)
def test_an_element_we_do_not_run_is_one_problem_naming_it_in_both_languages(element, label):
    result = bpmn.parse(chain(element))
    assert [(p.element, p.code) for p in result.problems] == [("e1", "unsupported")]  # no follow-on noise
    messages = bilingual(result.problems[0].message)
    assert label in messages["zh-Hans"] and "tongban" in messages["en"]
    assert "not run" not in messages["zh-Hans"]


def test_a_boundary_event_is_refused_once_and_its_path_raises_nothing_else():
    xml = document(
        '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:userTask id="t" name="审查"/>'
        '<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:cancelEventDefinition/></bpmn:boundaryEvent>'
        '<bpmn:userTask id="late" name="催办"/><bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>'
        + flow("f1", "s", "t")
        + flow("f2", "t", "e")
        + flow("f3", "b", "late")
        + flow("f4", "late", "e2")
        + "</bpmn:process>"
    )
    problems = bpmn.parse(xml).problems
    assert [(p.element, p.code) for p in problems] == [("b", "unsupported")]
    assert "取消边界事件" in bilingual(problems[0].message)["zh-Hans"]


def test_artifacts_and_data_without_execution_semantics_are_accepted():
    xml = chain(
        '<bpmn:userTask id="e1"><bpmn:ioSpecification><bpmn:dataInput id="i"/><bpmn:inputSet/>'
        "<bpmn:outputSet/></bpmn:ioSpecification></bpmn:userTask>",
    ).replace(
        '<bpmn:startEvent id="s"/>',
        '<bpmn:startEvent id="s"/><bpmn:dataObject id="o"/>'
        '<bpmn:dataObjectReference id="r" dataObjectRef="o"/>'
        '<bpmn:group id="g"/><bpmn:textAnnotation id="a"><bpmn:text>注</bpmn:text></bpmn:textAnnotation>',
    )
    assert bpmn.parse(xml).ok


def test_scripts_for_another_engine_in_extension_elements_are_refused():
    xml = chain(
        '<bpmn:userTask id="e1" name="填写"><bpmn:extensionElements>'
        '<spiffworkflow:preScript xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core">'
        "x = 1</spiffworkflow:preScript></bpmn:extensionElements></bpmn:userTask>"
    )
    problems = bpmn.parse(xml).problems
    assert [(p.element, p.code) for p in problems] == [("e1", "script")]
    assert "preScript" in str(problems[0].message)


def test_duplicate_ids_are_refused_even_on_data_objects():
    xml = chain("").replace(
        '<bpmn:startEvent id="s"/>',
        '<bpmn:startEvent id="s"/><bpmn:dataObjectReference id="r"/><bpmn:dataObjectReference id="r"/>',
    )
    assert ("r", "duplicate") in [(p.element, p.code) for p in bpmn.parse(xml).problems]


def _gateway(condition_a: str, wrap=foreign) -> str:
    return wrap(
        '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
        '<bpmn:exclusiveGateway id="x" default="b"/>'
        '<bpmn:userTask id="ta"/><bpmn:userTask id="tb"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="x"/>'
        f'<bpmn:sequenceFlow id="a" sourceRef="x" targetRef="ta"><bpmn:conditionExpression>{condition_a}'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="b" sourceRef="x" targetRef="tb"/>'
        + flow("g", "ta", "e")
        + flow("h", "tb", "e")
        + "</bpmn:process>"
    )


@pytest.mark.parametrize(
    "condition,language",
    [
        ("${amount &gt; 100}", "JUEL"),
        ("amount == 100 and kind == 'x'", "Python"),
        ("'a' in names", "Python"),
        ("bpmn:getDataObject('approved')", "XPath"),
    ],
)
def test_conditions_of_other_engines_are_refused_saying_feel_is_expected(condition, language):
    problems = bpmn.parse(_gateway(condition)).problems
    assert [(p.element, p.code) for p in problems] == [("a", "condition_syntax")]
    messages = bilingual(problems[0].message)
    assert "FEEL" in messages["zh-Hans"] and language in messages["en"]
    assert condition.replace("&gt;", ">") in messages["zh-Hans"]  # the expression is quoted
    assert "position" not in messages["zh-Hans"] and "unexpected" not in messages["zh-Hans"]


def test_a_condition_in_another_declared_language_is_refused():
    xml = _gateway("amount > 100").replace(
        "<bpmn:conditionExpression>", '<bpmn:conditionExpression language="javascript">'
    )
    problems = bpmn.parse(xml).problems
    assert [(p.element, p.code) for p in problems] == [("a", "condition_language")]


def test_feel_conditions_run_with_feel_rules_for_missing_values():
    graph = bpmn.parse_one(_gateway('amount > 100 and kind = "enterprise"'))
    assert engine.start(graph, {"amount": 150, "kind": "enterprise"})[0].work[0].node.id == "ta"
    assert engine.start(graph, {})[0].work[0].node.id == "tb"  # null is not true: the default flow
    zeebe = bpmn.parse_one(_gateway("= amount &gt; 100"))  # Camunda 8 marks FEEL with "="
    assert engine.start(zeebe, {"amount": 101})[0].work[0].node.id == "ta"


def test_names_of_several_words_from_the_model_may_be_used_in_feel():
    xml = _gateway('Vacation Approval = "Approved"').replace(
        '<bpmn:userTask id="ta"/>', '<bpmn:userTask id="ta" name="Vacation Approval"/>'
    )
    graph = bpmn.parse_one(xml)
    assert engine.start(graph, {"Vacation Approval": "Approved"})[0].work[0].node.id == "ta"


def test_tongban_documents_keep_their_older_condition_language():
    graph = bpmn.parse_one(_gateway('decision == "reject"', wrap=document))
    assert engine.start(graph, {"decision": "reject"})[0].work[0].node.id == "ta"
    feel = bpmn.parse_one(_gateway('decision = "reject"', wrap=document))
    assert engine.start(feel, {"decision": "reject"})[0].work[0].node.id == "ta"


# --- embedded subprocesses and milestones ---------------------------------------------------------------

SUBPROCESS = document("""
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:subProcess id="sub" name="联合审查">
      <bpmn:startEvent id="ss"/>
      <bpmn:parallelGateway id="fork"/>
      <bpmn:userTask id="a" name="甲"/>
      <bpmn:userTask id="b" name="乙"/>
      <bpmn:endEvent id="ea"/>
      <bpmn:endEvent id="eb"/>
      <bpmn:sequenceFlow id="s1" sourceRef="ss" targetRef="fork"/>
      <bpmn:sequenceFlow id="s2" sourceRef="fork" targetRef="a"/>
      <bpmn:sequenceFlow id="s3" sourceRef="fork" targetRef="b"/>
      <bpmn:sequenceFlow id="s4" sourceRef="a" targetRef="ea"/>
      <bpmn:sequenceFlow id="s5" sourceRef="b" targetRef="eb"/>
    </bpmn:subProcess>
    <bpmn:intermediateThrowEvent id="m" name="审查完成"/>
    <bpmn:userTask id="after" name="审批"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sub"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="m"/>
    <bpmn:sequenceFlow id="f3" sourceRef="m" targetRef="after"/>
    <bpmn:sequenceFlow id="f4" sourceRef="after" targetRef="e"/>
  </bpmn:process>""")


def test_an_embedded_subprocess_ends_when_its_last_token_ends():
    graph = bpmn.parse_one(SUBPROCESS)
    effects, joins = engine.start(graph, {})
    assert [w.node.id for w in effects.work] == ["a", "b"]
    first = engine.leave(graph, "a", {}, joins, "approve")
    assert first.work == [] and first.ended == 0  # b is still inside
    second = engine.leave(graph, "b", {}, joins, "approve")
    assert [w.node.id for w in second.work] == ["after"] and "m" in second.passed
    assert joins == {}
    assert engine.leave(graph, "after", {}, joins, "approve").ended == 1


def test_a_flow_may_not_cross_a_subprocess_border():
    xml = SUBPROCESS.replace('sourceRef="a" targetRef="ea"', 'sourceRef="a" targetRef="after"')
    codes = {p.code for p in bpmn.parse(xml).problems}
    assert "crosses" in codes


def test_a_lane_names_the_department_of_its_tasks():
    xml = chain('<bpmn:userTask id="e1"/>').replace(
        '<bpmn:startEvent id="s"/>',
        '<bpmn:laneSet><bpmn:lane id="l" tb:department="gaj"><bpmn:flowNodeRef>e1</bpmn:flowNodeRef>'
        '</bpmn:lane></bpmn:laneSet><bpmn:startEvent id="s"/>',
    )
    assert bpmn.parse_one(xml).node("e1").department == "gaj"


# --- reference models and `tongban workflow check` ---------------------------------------------------------


def test_a_non_executable_process_is_a_reference_model_with_its_blockers():
    xml = foreign(
        '<bpmn:process id="p" isExecutable="false">'
        '<bpmn:laneSet><bpmn:lane id="l" name="窗口"/></bpmn:laneSet>'
        '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="x"/><bpmn:task id="a"/><bpmn:task id="b"/>'
        '<bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="x"/>'
        + flow("fa", "x", "a")
        + flow("fb", "x", "b")
        + flow("ga", "a", "e")
        + flow("gb", "b", "e")
        + "</bpmn:process>"
    )
    result = bpmn.parse(xml)
    assert not result.processes and [p.code for p in result.problems] == ["not_executable"]
    reference = result.references["p"]
    assert {(p.element, p.code) for p in reference.blockers} == {("l", "lane_department"), ("x", "condition")}
    report = check.check(xml.encode())
    assert report.status == "reference" and len(report.problems) == 2


def test_check_classifies_executable_reference_refused_and_never_crashes():
    runs = check.check(SUBPROCESS.encode())
    assert runs.status == "executable" and runs.dry_run.reaches_end
    assert runs.dry_run.steps == ["甲", "乙", "审批"]
    assert check.check(_gateway("${x}").encode()).status == "refused"  # another engine's condition
    assert check.check(b"<not-bpmn").status == "refused"
    unsupported = chain('<bpmn:receiveTask id="e1"/>', wrap=foreign)
    assert check.check(unsupported.encode()).status == "reference"
    broken = chain("").replace('targetRef="end"', 'targetRef="nowhere"')
    assert check.check(broken.encode()).status == "refused"
    assert check.check(b"\xff\xfe garbage").status == "refused"


def test_the_check_command_prints_one_line_per_file_and_the_totals(tmp_path):
    from typer.testing import CliRunner

    from tongban.cli.main import app

    (tmp_path / "a.bpmn").write_text(SUBPROCESS, encoding="utf-8")
    (tmp_path / "b.bpmn").write_text("nonsense", encoding="utf-8")
    result = CliRunner().invoke(app, ["workflow", "check", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("executable") and "a.bpmn" in lines[0]
    assert lines[-1] == "CHECK bpmn files=2 executable=1 reference=0 refused=1 crashed=0"
