"""Conformance against a BPMN model: a strict model of the running example catches the cases that
leave it, receipt.bpmn (a permissive model) lets every case of receipt.csv through."""

from pathlib import Path

import pytest

from tests.conftest import shared_data_dir
from tongban.insight import conformance, eventlog

LOGS = Path(shared_data_dir()) / "eventlogs"

# register → (examine casually | examine thoroughly) → check ticket → decide → (pay | reject)
STRICT = b"""<?xml version="1.0"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">
<startEvent id="s"/><task id="r" name="register request"/>
<exclusiveGateway id="g1"/><task id="c" name="examine casually"/><task id="t" name="examine thoroughly"/>
<exclusiveGateway id="g2"/><task id="k" name="check ticket"/><task id="d" name="decide"/>
<exclusiveGateway id="g3"/><task id="p" name="pay compensation"/><task id="j" name="reject request"/>
<endEvent id="e"/>
<sequenceFlow id="f1" sourceRef="s" targetRef="r"/><sequenceFlow id="f2" sourceRef="r" targetRef="g1"/>
<sequenceFlow id="f3" sourceRef="g1" targetRef="c"/><sequenceFlow id="f4" sourceRef="g1" targetRef="t"/>
<sequenceFlow id="f5" sourceRef="c" targetRef="g2"/><sequenceFlow id="f6" sourceRef="t" targetRef="g2"/>
<sequenceFlow id="f7" sourceRef="g2" targetRef="k"/><sequenceFlow id="f8" sourceRef="k" targetRef="d"/>
<sequenceFlow id="f9" sourceRef="d" targetRef="g3"/><sequenceFlow id="f10" sourceRef="g3" targetRef="p"/>
<sequenceFlow id="f11" sourceRef="g3" targetRef="j"/><sequenceFlow id="f12" sourceRef="p" targetRef="e"/>
<sequenceFlow id="f13" sourceRef="j" targetRef="e"/>
</process></definitions>"""


def _load(tmp_path, name):
    source = LOGS / name
    out = tmp_path / "log.parquet"
    if name.endswith(".xes"):
        eventlog.import_xes(source, out)
    else:
        eventlog.import_table(source, out)
    con = eventlog.connect()
    eventlog.load(con, out)
    return con


def test_a_strict_model_finds_the_cases_that_leave_it(tmp_path):
    model = conformance.footprint(STRICT)
    assert (conformance.START, "register request") in model.pairs
    assert ("examine casually", "check ticket") in model.pairs and (
        "decide",
        "pay compensation",
    ) in model.pairs
    result = conformance.check(_load(tmp_path, "running-example.xes"), model)
    # Cases 1 (examine thoroughly → check ticket → decide → reject) and 6 fit; 2 and 4 check the
    # ticket before examining; 3 and 5 reinitiate, which the model does not know.
    assert result.cases == 6 and result.fitting_cases == 2
    assert {w["case"] for w in result.worst} == {"2", "3", "4", "5"}
    assert result.unknown_activities == ["reinitiate request"]
    # Case 2: register → check ticket → examine casually → decide → pay: three of six moves wrong.
    assert result.per_case["2"] == pytest.approx(1 - 3 / 6)
    moves = {(d["from"], d["to"]): d["cases"] for d in result.deviations}
    assert moves[("register request", "check ticket")] == 2


def test_receipt_fits_its_own_model_and_bad_models_are_refused(tmp_path):
    model = conformance.footprint((LOGS / "receipt.bpmn").read_bytes())
    assert len(model.tasks) == 27 and not model.parallel
    result = conformance.check(_load(tmp_path, "receipt.csv"), model)
    assert result.cases == 1434 and result.unknown_activities == []
    assert result.fitting_share == 1.0  # receipt.bpmn allows every move of the log
    with pytest.raises(conformance.ModelError):
        conformance.footprint(b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>")
    with pytest.raises(conformance.ModelError):
        conformance.footprint(b"<definitions/>")


def test_the_page_checks_an_uploaded_model(db, settings, tmp_path, staff_client, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import actor
    from tongban.insight import services

    settings.VAR_DIR = str(tmp_path)
    log = services.import_log(actor("supervisor"), LOGS / "running-example.xes")
    staff_client("supervisor")
    page = client.post(f"/insight/logs/{log.public_id}/", {"model": SimpleUploadedFile("m.bpmn", STRICT)})
    body = page.content.decode()
    assert page.status_code == 200 and 'data-testid="deviations"' in body and "33.3 %" in body
    bad = client.post(f"/insight/logs/{log.public_id}/", {"model": SimpleUploadedFile("m.bpmn", b"nonsense")})
    assert 'data-field="model"' in bad.content.decode()


def test_a_supervisor_checks_against_a_published_process_without_editing_rights(
    db, settings, tmp_path, staff_client, client
):
    """Issue 12, defect 11: the supervisor got 403 on an item's process model, yet conformance asked
    them to upload it. Published processes are offered by name and read for the check."""
    from django.utils import timezone

    from tests.conftest import actor
    from tongban.accounts.models import Department
    from tongban.core.errors import NotPermitted
    from tongban.insight import services
    from tongban.workflow import services as workflow
    from tongban.workflow.models import DefinitionStatus, ProcessDefinition

    ProcessDefinition.objects.create(
        key="running-example",
        version=1,
        status=DefinitionStatus.PUBLISHED,
        name="赔偿申请（示例）",
        process_id="p",
        bpmn_xml=STRICT.decode(),
        checksum="x",
        department=Department.objects.get(code="scjgj"),
        published_at=timezone.now(),
    )
    settings.VAR_DIR = str(tmp_path)
    log = services.import_log(actor("supervisor"), LOGS / "running-example.xes")
    checked = services.conformance(actor("supervisor"), log.public_id, process_key="running-example")
    assert checked.deviations and round(checked.fitting_share, 3) == 0.333
    with pytest.raises(NotPermitted):
        workflow.models_for_analysis(actor("clerk"))
    staff_client("supervisor")
    assert client.get("/processes/running-example/").status_code == 403  # still not theirs to edit
    page = client.get(f"/insight/logs/{log.public_id}/").content.decode()
    assert '<option value="running-example">赔偿申请（示例）' in page
    done = client.post(f"/insight/logs/{log.public_id}/", {"process": "running-example"}).content.decode()
    assert 'data-testid="deviations"' in done and "33.3 %" in done
    unknown = client.post(f"/insight/logs/{log.public_id}/", {"process": "nope"}).content.decode()
    assert 'data-field="model"' in unknown and 'data-testid="deviations"' not in unknown
