"""The insight pages and API: a supervisor imports a log, sees its process map and figures; others
are refused."""

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import shared_data_dir
from tongban.insight.models import EventLog

LOGS = Path(shared_data_dir()) / "eventlogs"


def test_a_supervisor_uploads_a_log_and_reads_its_process_map(db, settings, tmp_path, staff_client, client):
    settings.VAR_DIR = str(tmp_path)
    staff_client("supervisor")
    page = client.get("/insight/logs/")
    assert page.status_code == 200 and b'data-testid="import-form"' in page.content
    # A log has a 名称, not a person's 姓名 (issue 12, defect 12).
    body = page.content.decode()
    assert "<th>名称</th>" in body and "姓名" not in body
    upload = SimpleUploadedFile("receipt.csv", (LOGS / "receipt.csv").read_bytes(), content_type="text/csv")
    done = client.post("/insight/logs/", {"file": upload, "name": "WABO 受理"})
    log = EventLog.objects.get(name="WABO 受理")
    assert done.status_code == 302 and done["Location"] == f"/insight/logs/{log.public_id}/"
    detail = client.get(done["Location"])
    assert detail.status_code == 200
    body = detail.content.decode()
    assert 'id="process-map-data"' in body and "Confirmation of receipt" in body
    assert 'data-testid="bottlenecks"' in body and 'data-testid="variants"' in body
    xes = client.get(f"/insight/logs/{log.public_id}/export.xes")
    assert xes.status_code == 200 and xes.content.count(b"<event>") == 8577
    api = client.get(f"/api/v1/insight/logs/{log.public_id}/analysis?variants=5").json()
    assert api["cases"] == 1434 and len(api["variants"]) == 5 and len(api["edges"]) == 99
    assert client.get("/api/v1/insight/logs").json()[0]["name"] == "WABO 受理"


def test_a_bad_upload_is_refused_on_the_form_and_nothing_is_kept(
    db, settings, tmp_path, staff_client, client
):
    settings.VAR_DIR = str(tmp_path)
    staff_client("supervisor")
    bad = SimpleUploadedFile("bad.csv", b"case,activity,time\nA,,2026-11-02\n", content_type="text/csv")
    page = client.post("/insight/logs/", {"file": bad})
    assert (page.status_code == 200 and b"field-error" in page.content) or b"errorlist" in page.content
    assert not EventLog.objects.exists()


def test_staff_without_the_permission_are_refused(db, staff_client, client):
    staff_client("clerk")
    assert client.get("/insight/logs/").status_code == 403
    assert client.get("/api/v1/insight/logs").status_code == 403


def test_the_value_stream_marking_is_saved(db, settings, tmp_path, staff_client, client):
    from tests.conftest import actor
    from tongban.insight import services

    settings.VAR_DIR = str(tmp_path)
    log = services.import_log(actor("supervisor"), LOGS / "running-example.xes")
    staff_client("supervisor")
    before = client.get(f"/insight/logs/{log.public_id}/").content.decode()
    assert 'data-testid="value-stream"' in before and 'data-overhead="1.0000"' in before  # nothing marked yet
    done = client.post(
        f"/insight/logs/{log.public_id}/",
        {"form": "value_adding", "value_adding": ["decide", "check ticket"]},
    )
    assert done.status_code == 302
    log.refresh_from_db()
    assert log.value_adding == ["check ticket", "decide"]
    after = client.get(f"/insight/logs/{log.public_id}/").content.decode()
    assert 'data-overhead="1.0000"' not in after
    client.post(f"/insight/logs/{log.public_id}/", {"form": "value_adding", "value_adding": ["nope"]})
    log.refresh_from_db()
    assert log.value_adding == ["check ticket", "decide"]


def test_a_what_if_is_recorded_as_a_redesign(db, settings, tmp_path, staff_client, client):
    from tests.conftest import actor
    from tongban.insight import services
    from tongban.insight.models import Redesign

    settings.VAR_DIR = str(tmp_path)
    log = services.import_log(actor("supervisor"), LOGS / "running-example.xes")
    staff_client("supervisor")
    form = {"remove": ["reinitiate request"], "volume": "100"}
    page = client.post(f"/insight/logs/{log.public_id}/what-if", form)
    assert page.status_code == 200 and b'data-testid="save-plan"' in page.content
    saved = client.post(
        f"/insight/logs/{log.public_id}/what-if",
        {**form, "save": "1", "plan_name": "取消重新申请", "live_from": "2026-11-01"},
    )
    assert saved.status_code == 302 and saved["Location"] == "/insight/redesigns"
    assert Redesign.objects.get().predicted["cycle_time_saving"] > 0
    listing = client.get("/insight/redesigns").content.decode()
    assert "取消重新申请" in listing and 'data-testid="measured"' in listing


def test_the_model_is_validated_on_the_page_and_kpis_come_from_the_api(
    db, settings, tmp_path, staff_client, client
):
    import datetime as dt

    from tests.conftest import actor
    from tests.insight.factories import three_bureaus, write_facts
    from tongban.insight import services

    settings.VAR_DIR = str(tmp_path)
    log = services.import_log(actor("supervisor"), LOGS / "receipt.csv")
    staff_client("supervisor")
    page = client.post(f"/insight/logs/{log.public_id}/", {"form": "validate"}).content.decode()
    assert 'data-testid="validation" data-ok="true"' in page
    write_facts(tmp_path / "insight" / "facts.parquet", three_bureaus())
    today = dt.date.today()
    body = client.get(f"/api/v1/insight/kpis?start={today - dt.timedelta(days=29)}&end={today}").json()
    assert body["region"]["figures"]["closed_cases"] == 45
    rsj = next(u for u in body["units"] if u["unit"] == "rsj")
    assert rsj["status"]["on_time_rate"] == "red" and rsj["rank"] == 3
    assert client.get("/api/v1/insight/kpis?start=2026-12-01&end=2026-11-01").status_code == 422


def test_an_ocel_upload_asks_for_the_case_notion_then_imports(db, settings, tmp_path, staff_client, client):
    import json

    from tests.insight.test_eventlog_import import OCEL

    settings.VAR_DIR = str(tmp_path)
    staff_client("supervisor")
    content = json.dumps(OCEL).encode()
    page = client.post("/insight/logs/", {"file": SimpleUploadedFile("orders.jsonocel", content)})
    body = page.content.decode()
    assert page.status_code == 200 and not EventLog.objects.exists()
    assert 'data-testid="object-type"' in body and '<option value="order">order（2 个对象）</option>' in body
    assert "请选择作为案件的对象类型：item、order、package。" in body
    done = client.post(
        "/insight/logs/",
        {"file": SimpleUploadedFile("orders.jsonocel", content), "name": "订单", "object_type": "order"},
    )
    log = EventLog.objects.get(name="订单")
    assert done.status_code == 302 and (log.cases, log.events) == (2, 3)
    detail = client.get(done["Location"]).content.decode()
    assert 'data-testid="case-notion"' in detail and "以“order”类型的对象作为案件" in detail


def test_a_log_without_timestamps_is_shown_with_a_notice(db, settings, tmp_path, staff_client, client):
    settings.VAR_DIR = str(tmp_path)
    staff_client("supervisor")
    upload = SimpleUploadedFile(
        "order.csv", "case,activity\nA,受理\nA,决定\n".encode(), content_type="text/csv"
    )
    done = client.post("/insight/logs/", {"file": upload})
    assert done.status_code == 302
    detail = client.get(done["Location"])
    assert detail.status_code == 200 and b'data-testid="no-timestamps"' in detail.content
    assert client.get("/insight/logs/").status_code == 200


def test_our_own_cases_are_mined_with_the_labels_people_know(db, settings, tmp_path, staff_client, client):
    """Issue 12, defect 6: mining and the what-if form showed activity codes (case.submitted,
    work.escalated, work:审查); every screen shows the registered labels (the codes stay the keys)."""
    import json
    import re

    from tongban.accounts.actors import Actor
    from tongban.accounts.models import User
    from tongban.cases import demo as case_demo
    from tongban.catalog.demo import loader
    from tongban.insight import services

    settings.VAR_DIR = str(tmp_path)
    loader.load_detail()
    case_demo.load_sample_cases()
    log = services.import_subject_events(Actor(User.objects.get(username="supervisor")), "case")
    staff_client("supervisor")
    body = client.get(f"/insight/logs/{log.public_id}/").content.decode()
    cells = re.findall(r"<td>([^<]*)</td>", body)
    assert cells and not [c for c in cells if re.search(r"\b(case|work)[.:]", c)], cells
    nodes = json.loads(re.search(r'id="process-map-data"[^>]*>(.*?)</script>', body, re.S)[1])["nodes"]
    by_name = {n["name"]: n["label"] for n in nodes}
    assert by_name["case.submitted"] != "case.submitted"
    assert all(not label.startswith(("case.", "work:", "work.")) for label in by_name.values())
    what_if = client.get(f"/insight/logs/{log.public_id}/what-if").content.decode()
    assert '<option value="case.submitted"' in what_if and ">case.submitted<" not in what_if
