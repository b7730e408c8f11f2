"""Multi-instance embedded subprocesses: all instances at once, or one after the other; compared with
SpiffWorkflow, run through the services, and what would tell the instances apart refused."""

from pathlib import Path

import pytest
from django.db import transaction

from tests.conftest import actor, shared_data_dir
from tongban.accounts.models import Department
from tongban.core.authz import SYSTEM
from tongban.core.i18n import bilingual
from tongban.workflow import bpmn, check, engine, services
from tongban.workflow.models import WorkItem

from .bpmn_samples import document
from .test_bpmn_elements import SUBPROCESS
from .test_differential import approve, ours, spiff

AT_ONCE = SUBPROCESS.replace(
    '<bpmn:subProcess id="sub" name="联合审查">',
    '<bpmn:subProcess id="sub" name="联合审查"><bpmn:multiInstanceLoopCharacteristics isSequential="false">'
    "<bpmn:loopCardinality>2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>",
)

ONE_AFTER_THE_OTHER = document("""
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:subProcess id="sub" name="逐户核查">
      <bpmn:multiInstanceLoopCharacteristics isSequential="true">
        <bpmn:loopDataInputRef>households</bpmn:loopDataInputRef>
      </bpmn:multiInstanceLoopCharacteristics>
      <bpmn:startEvent id="ss"/>
      <bpmn:parallelGateway id="fork"/>
      <bpmn:userTask id="visit" name="入户"/>
      <bpmn:userTask id="photo" name="拍照"/>
      <bpmn:parallelGateway id="join"/>
      <bpmn:userTask id="sign" name="签字"/>
      <bpmn:endEvent id="es"/>
      <bpmn:sequenceFlow id="s1" sourceRef="ss" targetRef="fork"/>
      <bpmn:sequenceFlow id="s2" sourceRef="fork" targetRef="visit"/>
      <bpmn:sequenceFlow id="s3" sourceRef="fork" targetRef="photo"/>
      <bpmn:sequenceFlow id="s4" sourceRef="visit" targetRef="join"/>
      <bpmn:sequenceFlow id="s5" sourceRef="photo" targetRef="join"/>
      <bpmn:sequenceFlow id="s6" sourceRef="join" targetRef="sign"/>
      <bpmn:sequenceFlow id="s7" sourceRef="sign" targetRef="es"/>
    </bpmn:subProcess>
    <bpmn:userTask id="after" name="汇总"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sub"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="after"/>
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="e"/>
  </bpmn:process>""")


@pytest.mark.parametrize(
    ("xml", "data"),
    [
        (AT_ONCE, {}),
        (ONE_AFTER_THE_OTHER, {"households": ["张家", "李家", "王家"]}),
        (ONE_AFTER_THE_OTHER, {"households": []}),
    ],
    ids=["at once", "one after the other", "no instance"],
)
def test_multi_instance_subprocesses_run_as_in_spiffworkflow(xml, data):
    mine = ours(xml, data, approve)
    assert mine == spiff(xml, data, approve)
    assert mine[1]  # and they end


def test_instances_at_once_open_their_steps_together_and_the_last_one_out_goes_on():
    graph = bpmn.parse_one(AT_ONCE)
    effects, joins = engine.start(graph, {})
    assert sorted(w.node.id for w in effects.work) == ["a", "a", "b", "b"] and effects.token_delta == 4
    for node_id in ("a", "a", "b"):
        step = engine.leave(graph, node_id, {}, joins)
        assert step.work == [] and step.token_delta == -1
    last = engine.leave(graph, "b", {}, joins)
    assert [w.node.id for w in last.work] == ["after"] and last.token_delta == 0
    assert joins == {}


def test_a_completion_condition_ends_instances_one_after_the_other_early():
    xml = ONE_AFTER_THE_OTHER.replace(
        "</bpmn:loopDataInputRef>",
        "</bpmn:loopDataInputRef><bpmn:completionCondition>found = true</bpmn:completionCondition>",
    )
    graph = bpmn.parse_one(xml)
    data = {"households": ["张家", "李家", "王家"]}
    _effects, joins = engine.start(graph, data)
    engine.leave(graph, "visit", data, joins)
    engine.leave(graph, "photo", data, joins)
    data["found"] = True
    assert [w.node.id for w in engine.leave(graph, "sign", data, joins).work] == ["after"]
    assert joins == {}


REFUSED = [
    (
        "<bpmn:loopCardinality>2</bpmn:loopCardinality>",
        "<bpmn:loopDataInputRef>sites</bpmn:loopDataInputRef><bpmn:inputDataItem id='site'/>",
        "inputDataItem",
    ),
    (
        "<bpmn:loopCardinality>2</bpmn:loopCardinality>",
        "<bpmn:loopCardinality>2</bpmn:loopCardinality>"
        "<bpmn:completionCondition>nrOfCompletedInstances = 1</bpmn:completionCondition>",
        "completionCondition",
    ),
    (
        '<bpmn:endEvent id="ea"/>',
        '<bpmn:endEvent id="ea"><bpmn:terminateEventDefinition/></bpmn:endEvent>',
        "terminate",
    ),
    (
        '<bpmn:endEvent id="ea"/>\n      <bpmn:endEvent id="eb"/>',
        '<bpmn:parallelGateway id="j"/><bpmn:endEvent id="ea"/><bpmn:sequenceFlow id="j1" sourceRef="j" '
        'targetRef="ea"/><bpmn:endEvent id="eb"/>',
        "join parallel branches",
    ),
]


@pytest.mark.parametrize(("old", "new", "said"), REFUSED, ids=[r[2] for r in REFUSED])
def test_what_would_tell_the_instances_apart_is_refused_once(old, new, said):
    xml = AT_ONCE.replace(old, new)
    if said == "join parallel branches":
        xml = xml.replace('sourceRef="a" targetRef="ea"', 'sourceRef="a" targetRef="j"').replace(
            'sourceRef="b" targetRef="eb"', 'sourceRef="b" targetRef="j"'
        )
        xml = xml.replace('<bpmn:endEvent id="eb"/>', "")
    result = bpmn.parse(xml)
    assert [(p.element, p.code) for p in result.problems] == [("sub", "unsupported")], result.problems
    messages = bilingual(result.problems[0].message)
    assert said in messages["en"] and messages["zh-Hans"] != messages["en"]


def test_the_loop_counter_of_an_instance_is_refused_in_a_condition():
    xml = ONE_AFTER_THE_OTHER.replace(
        '<bpmn:sequenceFlow id="s7" sourceRef="sign" targetRef="es"/>',
        '<bpmn:exclusiveGateway id="x" default="s8"/>'
        '<bpmn:sequenceFlow id="s7" sourceRef="sign" targetRef="x"/>'
        '<bpmn:sequenceFlow id="s8" sourceRef="x" targetRef="es"/>'
        '<bpmn:sequenceFlow id="s9" sourceRef="x" targetRef="es">'
        "<bpmn:conditionExpression>loopCounter = 1</bpmn:conditionExpression></bpmn:sequenceFlow>",
    )
    result = bpmn.parse(xml)
    assert [(p.element, p.code) for p in result.problems] == [("sub", "unsupported")]
    assert "loopCounter" in bilingual(result.problems[0].message)["en"]


def test_instances_run_through_the_services(db):
    definition = services.publish_definition(
        SYSTEM,
        key="test:instances",
        bpmn_xml=AT_ONCE.replace("<bpmn:userTask", '<bpmn:userTask tb:department="scjgj-spjyk"'),
        department=Department.objects.get(code="scjgj"),
    )
    with transaction.atomic():
        _instance, result = services.start(definition, subject="C-MI", data={})
    assert sorted(w.node_id for w in result.created) == ["a", "a", "b", "b"]
    for item in WorkItem.objects.filter(subject="C-MI", status="open").order_by("id"):
        with transaction.atomic():
            services.complete(actor("reviewer"), item.public_id, decision="approve", opinion="同意", data={})
    open_steps = list(
        WorkItem.objects.filter(subject="C-MI", status="open").values_list("node_id", flat=True)
    )
    assert open_steps == ["after"]


def test_the_spiffworkflow_correlation_files_run_their_subprocess_instances():
    data = shared_data_dir()
    folder = Path(data) / "bpmn" / "spiffworkflow" if data else None
    if folder is None or not folder.is_dir():
        pytest.skip("shared data (../shared/data, or TONGBAN_DATA_DIR) has no bpmn/spiffworkflow: skipped")
    for name in ("correlation", "correlation_two_conversations"):
        path = folder / f"tests_SpiffWorkflow_bpmn_data_{name}.bpmn"
        report = check.check(path.read_bytes(), path.name)
        assert report.status == "executable", (name, report.problems)
        assert report.dry_run.reaches_end, name
