"""Business rule tasks evaluating DMN decisions: how other tools name the decision, the checker with
DMN files beside the BPMN files, stored decisions (versioned by decision id) at run time, and the API
that publishes them."""

from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from typer.testing import CliRunner

from tests.conftest import shared_data_dir
from tongban.accounts.models import Department
from tongban.core.authz import SYSTEM
from tongban.core.errors import Conflict, InvalidInput
from tongban.core.i18n import bilingual
from tongban.workflow import bpmn, check, decisions, engine, services
from tongban.workflow.models import DecisionDefinition, WorkItem

from .bpmn_samples import document

DMN_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" '
    'namespace="https://tongban.dev/test/dmn">\n'
)


def risk_dmn(threshold: int = 500000, decision_id: str = "risk") -> str:
    """A decision table as a DMN modeler writes it: the risk level of an application by its amount."""
    return (
        DMN_HEAD
        + f"""
  <decision id="{decision_id}" name="Risk">
    <decisionTable id="t" hitPolicy="UNIQUE">
      <input id="i1" label="Amount">
        <inputExpression id="e1" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <output id="o1" name="level" typeRef="string"/>
      <rule id="r1">
        <inputEntry id="u1"><text>&gt; {threshold}</text></inputEntry>
        <outputEntry id="x1"><text>"high"</text></outputEntry>
      </rule>
      <rule id="r2">
        <inputEntry id="u2"><text>&lt;= {threshold}</text></inputEntry>
        <outputEntry id="x2"><text>"low"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""
    )


CAMUNDA = 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '


def routed(reference: str = 'camunda:decisionRef="risk"') -> str:
    """A process that asks the decision, then routes by its output."""
    return document(f"""
  <bpmn:process id="loan" name="贷款贴息" isExecutable="true" {CAMUNDA}>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="assess"/>
    <bpmn:businessRuleTask id="assess" name="风险评估" {reference}/>
    <bpmn:sequenceFlow id="f1" sourceRef="assess" targetRef="route"/>
    <bpmn:exclusiveGateway id="route" default="normal"/>
    <bpmn:sequenceFlow id="high" sourceRef="route" targetRef="head">
      <bpmn:conditionExpression>level = "high"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="normal" sourceRef="route" targetRef="clerk"/>
    <bpmn:userTask id="head" name="科长审核" tb:role="section_head" tb:department="scjgj-spjyk"/>
    <bpmn:userTask id="clerk" name="经办审查" tb:department="scjgj-spjyk"/>
    <bpmn:sequenceFlow id="h1" sourceRef="head" targetRef="end"/>
    <bpmn:sequenceFlow id="c1" sourceRef="clerk" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>""")


def _library(*documents: str) -> decisions.Library:
    library = decisions.Library()
    for number, xml in enumerate(documents):
        ids, problem = check.load_dmn(xml.encode(), f"{number}.dmn", library)
        assert problem is None and ids, problem
    return library


# --- reading the reference ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "decision", "variable"),
    [
        ('camunda:decisionRef="risk"', "risk", ""),
        ('tb:decision="risk"', "risk", ""),
        ('camunda:decisionRef="risk" camunda:resultVariable="outcome"', "risk", "outcome"),
    ],
)
def test_the_decision_is_read_from_each_modeler_s_attribute(reference, decision, variable):
    graph = bpmn.parse_one(routed(reference))
    node = graph.node("assess")
    assert (node.kind, node.decision, node.result_variable) == ("rule", decision, variable)


def test_spiffworkflow_and_zeebe_name_the_decision_in_extension_elements():
    for extension in (
        '<spiffworkflow:calledDecisionId xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core">'
        "risk</spiffworkflow:calledDecisionId>",
        '<zeebe:calledDecision xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" decisionId="risk" '
        'resultVariable="outcome"/>',
    ):
        xml = routed().replace(
            '<bpmn:businessRuleTask id="assess" name="风险评估" camunda:decisionRef="risk"/>',
            '<bpmn:businessRuleTask id="assess" name="风险评估"><bpmn:extensionElements>'
            f"{extension}</bpmn:extensionElements></bpmn:businessRuleTask>",
        )
        node = bpmn.parse_one(xml).node("assess")
        assert (node.kind, node.decision) == ("rule", "risk"), extension


@pytest.mark.parametrize(
    ("reference", "code", "quoted"),
    [
        ("", "decision", "names no decision"),
        ('camunda:decisionRef="${decisionName}"', "decision", "${decisionName}"),
        ('camunda:decisionRef="risk" camunda:decisionRefBinding="version"', "decision", "version"),
        ('camunda:class="org.example.Rules"', "script", "camunda"),
    ],
)
def test_what_cannot_be_evaluated_is_refused_naming_the_task(reference, code, quoted):
    result = bpmn.parse(routed(reference))
    assert [(p.element, p.code) for p in result.problems] == [("assess", code)]
    messages = bilingual(result.problems[0].message)
    assert messages["zh-Hans"] != messages["en"]
    if code == "decision":
        assert quoted in messages["en"]


# --- the checker -------------------------------------------------------------------------------------


def test_the_checker_resolves_decisions_from_the_dmn_files_given():
    alone = check.check(routed().encode(), "loan.bpmn")
    assert alone.status == "reference"
    assert [(p.element, p.code) for p in alone.problems] == [("assess", "decision_missing")]
    messages = bilingual(alone.problems[0].message)
    assert "“risk”" in messages["en"] and "“risk”" in messages["zh-Hans"]
    assert messages["zh-Hans"] != messages["en"]

    given = check.check(routed().encode(), "loan.bpmn", _library(risk_dmn()))
    assert given.status == "executable"
    # empty data: the amount is null, no rule matches, the level is null and the default flow is taken
    assert given.dry_run.reaches_end and given.dry_run.steps == ["经办审查"]


def test_the_cli_reads_dmn_files_in_the_folder_beside_the_bpmn_files(tmp_path):
    from tongban.cli.main import app

    (tmp_path / "loan.bpmn").write_text(routed(), encoding="utf-8")
    runner = CliRunner()
    alone = runner.invoke(app, ["workflow", "check", str(tmp_path)], env={"COLUMNS": "200"})
    assert (
        alone.output.strip().splitlines()[-1]
        == "CHECK bpmn files=1 executable=0 reference=1 refused=0 crashed=0"
    )
    (tmp_path / "risk.dmn").write_text(risk_dmn(), encoding="utf-8")
    (tmp_path / "broken.dmn").write_text("<definitions/>", encoding="utf-8")
    for argument in (tmp_path, tmp_path / "loan.bpmn"):
        result = runner.invoke(app, ["workflow", "check", str(argument)], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        lines = result.output.strip().splitlines()
        assert any(line.startswith("decisions") and "risk.dmn" in line and "(risk)" in line for line in lines)
        assert any(line.startswith("refused") and "broken.dmn" in line for line in lines)
        assert lines[-1] == "CHECK bpmn files=1 executable=1 reference=0 refused=0 crashed=0"


def _spiff(name: str) -> bytes:
    data = shared_data_dir()
    path = Path(data) / "bpmn" / "spiffworkflow" / name if data else None
    if path is None or not path.is_file():
        pytest.skip("shared data (../shared/data, or TONGBAN_DATA_DIR) has no bpmn/spiffworkflow: skipped")
    return path.read_bytes()


def test_spiffworkflow_files_with_business_rule_tasks():
    # call_activity_nested: a camunda:decisionRef and a spiffworkflow:calledDecisionId, both Level2c
    nested = _spiff("tests_SpiffWorkflow_bpmn_data_call_activity_nested_call_activity_nested.bpmn")
    alone = check.check(nested, "nested")
    assert alone.status == "reference"
    assert [(p.element, p.code) for p in alone.problems] == [("Activity_0gg4414", "decision_missing")]
    assert "Level2c" in bilingual(alone.problems[0].message)["zh-Hans"]
    given = check.check(nested, "nested", _library(risk_dmn(decision_id="Level2c")))
    assert given.status == "executable"
    # its call activities call processes of other files
    assert "Level2" in bilingual(given.dry_run.message)["en"]

    # Python elsewhere in the file is what refuses these; the business rule task itself is read
    for name, rule_task in (
        ("tests_SpiffWorkflow_spiff_data_business_rule_task.bpmn", "Activity_0diq2z1"),
        ("tests_SpiffWorkflow_camunda_data_ExclusiveGatewayIfElseAndDecision.bpmn", "TaskDecision"),
        ("tests_SpiffWorkflow_camunda_data_invalid_InvalidDecision.bpmn", "InvalidDecisionTaskId"),
    ):
        report = check.check(_spiff(name), name)
        assert report.status == "refused", name
        assert {p.code for p in report.problems} <= check.FOREIGN, (name, report.problems)
        assert rule_task not in {p.element for p in report.problems}, name
        result = bpmn.parse(_spiff(name))
        assert rule_task not in {p.element for p in result.problems}


# --- the engine --------------------------------------------------------------------------------------


def _engine_run(amount, library) -> list[str]:
    graph = bpmn.parse_one(routed())
    graph.decide = check.deciding(library)
    effects, _joins = engine.start(graph, {"amount": amount})
    return [w.node.id for w in effects.work], effects.data


def test_the_engine_routes_by_the_decision_s_output():
    library = _library(risk_dmn())
    assert _engine_run(600000, library) == (["head"], {"level": "high"})
    assert _engine_run(1000, library) == (["clerk"], {"level": "low"})
    # no decisions to evaluate: the step cannot go on, and says why
    graph = bpmn.parse_one(routed())
    with pytest.raises(engine.ProcessError) as exc:
        engine.start(graph, {"amount": 1})
    assert exc.value.node_id == "assess"


def test_outputs_merge_by_name_or_go_to_the_result_variable():
    two_outputs = risk_dmn().replace(
        '<output id="o1" name="level" typeRef="string"/>',
        '<output id="o1" name="level" typeRef="string"/><output id="o2" name="limit" typeRef="number"/>',
    )
    two_outputs = two_outputs.replace(
        '<outputEntry id="x1"><text>"high"</text></outputEntry>',
        '<outputEntry id="x1"><text>"high"</text></outputEntry>'
        '<outputEntry id="y1"><text>3</text></outputEntry>',
    ).replace(
        '<outputEntry id="x2"><text>"low"</text></outputEntry>',
        '<outputEntry id="x2"><text>"low"</text></outputEntry>'
        '<outputEntry id="y2"><text>10</text></outputEntry>',
    )
    found = _library(two_outputs).find("risk")
    assert decisions.evaluate(found, {"amount": 600001}) == {"level": "high", "limit": 3}
    assert decisions.evaluate(found, {}) == {"level": None, "limit": None}  # no rule matched
    assert decisions.evaluate(found, {"amount": 1}, result_variable="r") == {
        "r": {"level": "low", "limit": 10}
    }
    single = _library(risk_dmn()).find("risk")
    for mapping, expected in (
        ("singleEntry", "high"),
        ("singleResult", {"level": "high"}),
        ("collectEntries", ["high"]),
        ("resultList", [{"level": "high"}]),
    ):
        assert decisions.evaluate(single, {"amount": 600001}, result_variable="r", mapping=mapping) == {
            "r": expected
        }


def test_a_decision_that_fails_stops_the_step_with_its_reason():
    overlapping = risk_dmn().replace("&lt;= 500000", "&gt; 0")  # both rules match a large amount
    library = _library(overlapping)
    with pytest.raises(engine.ProcessError) as exc:
        _engine_run(600000, library)
    messages = bilingual(exc.value.reason)
    assert "risk" in messages["en"] and messages["zh-Hans"] != messages["en"]


# --- stored decisions --------------------------------------------------------------------------------


def _department(code="scjgj"):
    return Department.objects.get(code=code)


def _open_steps(instance):
    return sorted(
        WorkItem.objects.filter(
            instance__subject=instance.subject, status__in=("open", "claimed")
        ).values_list("node_id", flat=True)
    )


def test_a_published_process_routes_by_the_published_decision(db):
    with pytest.raises(InvalidInput) as exc:
        services.publish_definition(SYSTEM, key="test:loan", bpmn_xml=routed(), department=_department())
    [problem] = exc.value.fields["bpmn"]
    assert problem.code == "decision_missing"
    messages = bilingual(problem.message.message)
    assert "risk" in messages["zh-Hans"] and messages["zh-Hans"] != messages["en"]

    [first] = services.publish_decisions(SYSTEM, dmn_xml=risk_dmn(), department=_department())
    assert (first.key, first.version, first.status) == ("risk", 1, "published")
    definition = services.publish_definition(
        SYSTEM, key="test:loan", bpmn_xml=routed(), department=_department()
    )
    with transaction.atomic():
        big, result = services.start(definition, subject="C-BIG", data={"amount": 600000})
    assert result.data["level"] == "high" and _open_steps(big) == ["head"]
    with transaction.atomic():
        small, _result = services.start(definition, subject="C-SMALL", data={"amount": 1000})
    assert _open_steps(small) == ["clerk"]

    # a new version of the decision decides the steps taken from now on
    [second] = services.publish_decisions(SYSTEM, dmn_xml=risk_dmn(threshold=500), department=_department())
    first.refresh_from_db()
    assert (first.status, second.version, second.status) == ("superseded", 2, "published")
    with transaction.atomic():
        now_big, _result = services.start(definition, subject="C-NOW", data={"amount": 1000})
    assert _open_steps(now_big) == ["head"]


def test_a_decision_that_gives_no_answer_refuses_the_step(db):
    services.publish_decisions(
        SYSTEM, dmn_xml=risk_dmn().replace("&lt;= 500000", "&gt; 0"), department=_department()
    )
    definition = services.publish_definition(
        SYSTEM, key="test:loan", bpmn_xml=routed(), department=_department()
    )
    with pytest.raises(Conflict), transaction.atomic():
        services.start(definition, subject="C-BOTH", data={"amount": 600000})
    assert not WorkItem.objects.filter(subject="C-BOTH").exists()


# --- the API -----------------------------------------------------------------------------------------

API = "/api/v1/workflow/decisions"


def _upload(client, xml: str, department="scjgj"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("risk.dmn", xml.encode(), content_type="application/xml")
    return client.post(API, {"file": upload, "department": department})


def test_the_api_publishes_decisions_by_id(db, staff_client):
    client = staff_client("admin")
    response = _upload(client, risk_dmn())
    assert response.status_code == 201, response.content[:500]
    assert [(d["decision_id"], d["version"], d["department"]) for d in response.json()] == [
        ("risk", 1, "scjgj")
    ]
    response = _upload(client, risk_dmn(threshold=10))
    assert [(d["decision_id"], d["version"]) for d in response.json()] == [("risk", 2)]
    versions = client.get(f"{API}/risk").json()
    assert [(v["version"], v["status"]) for v in versions] == [(2, "published"), (1, "superseded")]
    assert client.get(f"{API}/nothing").status_code == 404

    broken = _upload(client, risk_dmn().replace("&gt; 500000", "&gt;&gt; 5"))
    assert broken.status_code == 422
    [problem] = broken.json()["error"]["fields"]["dmn"]
    assert problem["message"]["zh-Hans"] != problem["message"]["en"]
    nowhere = _upload(client, risk_dmn(), department="no-such-department")
    assert nowhere.status_code == 422 and "department" in nowhere.json()["error"]["fields"]
    assert DecisionDefinition.objects.filter(key="risk").count() == 2


def test_only_catalogue_managers_publish_decisions(db, staff_client):
    assert _upload(Client(), risk_dmn()).status_code == 401
    assert _upload(staff_client("clerk"), risk_dmn()).status_code == 403
    assert not DecisionDefinition.objects.exists()


# --- compared with SpiffWorkflow --------------------------------------------------------------------


def _spiff_first_steps(xml: str, dmn_xml: str, data: dict) -> tuple[list[str], dict]:
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.camunda.parser import CamundaParser
    from SpiffWorkflow.util.task import TaskState

    parser = CamundaParser()
    parser.add_bpmn_str(xml.encode())
    parser.add_dmn_str(dmn_xml.encode())
    workflow = BpmnWorkflow(parser.get_spec("loan"))
    workflow.task_tree.data.update(data)
    for task in workflow.get_tasks():
        task.data.update(data)
    workflow.do_engine_steps()
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    return sorted(t.task_spec.bpmn_id for t in ready), {
        k: v for k, v in ready[0].data.items() if k != "amount"
    }


@pytest.mark.parametrize("amount", [600000, 500000, 1000])
def test_business_rule_tasks_route_as_in_spiffworkflow(amount):
    # the older tongban condition language, which SpiffWorkflow's Python also reads
    xml = routed().replace('level = "high"', 'level == "high"')
    graph = bpmn.parse_one(xml)
    graph.decide = check.deciding(_library(risk_dmn()))
    effects, _joins = engine.start(graph, {"amount": amount})
    mine = (sorted(w.node.id for w in effects.work), effects.data)
    assert mine == _spiff_first_steps(xml, risk_dmn(), {"amount": amount})
