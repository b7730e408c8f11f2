"""The process-definition screens: list, definition page with its diagram, BPMN XML, and upload."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tongban.accounts import services as account_services
from tongban.accounts.actors import Actor
from tongban.accounts.models import Department, User
from tongban.core.authz import SYSTEM
from tongban.core.errors import NotFound, NotPermitted
from tongban.workflow import builder, services
from tongban.workflow.models import ProcessDefinition

from .bpmn_samples import EXCLUSIVE, PARALLEL, document

KEY = builder.item_key("VIEW-001")
LIST, UPLOAD = "/processes/", "/processes/upload/"


def _detail(key=KEY):
    return f"/processes/{key}/"


def _xml(key=KEY, version=1):
    return f"/processes/{key}/v{version}.bpmn"


@pytest.fixture
def definition(db):
    xml = builder.item_process("VIEW-001", "视图测试许可", "scjgj-spjyk", 6)
    return services.publish_definition(
        SYSTEM, key=KEY, bpmn_xml=xml, department=Department.objects.get(code="scjgj")
    )


def _upload(client, content, *, key=KEY, department="scjgj", name="process.bpmn", process_id=""):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        UPLOAD,
        {
            "key": key,
            "department": department,
            "process_id": process_id,
            "bpmn_file": SimpleUploadedFile(name, data, content_type="application/xml"),
        },
    )


def _problems(html: str) -> list[tuple[str, str]]:
    """(element, code) of each row of the problems table."""
    table = re.search(r'data-testid="bpmn-problems".*?</table>', html, re.S)
    if not table:
        return []
    return [
        (element, code)
        for code, element in re.findall(
            r'<tr data-code="([^"]+)"><td class="mono">([^<]*)</td>', table.group(0)
        )
    ]


# --- who may see the screens ---------------------------------------------------------------------------


def test_anonymous_people_are_sent_to_log_in(client, definition):
    for url in (LIST, _detail(), _xml(), UPLOAD):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login?next=")


def test_citizens_and_staff_without_catalogue_rights_are_refused(citizen_client, staff_client, definition):
    citizen = citizen_client("zhangsan")
    for url in (LIST, _detail(), _xml(), UPLOAD):
        assert citizen.get(url).status_code in (403, 404), url
    citizen.post("/accounts/logout")
    clerk = staff_client("clerk")
    for url in (LIST, _detail(), _xml(), UPLOAD):
        assert clerk.get(url).status_code in (403, 404), url
    assert b"VIEW-001" not in clerk.get(LIST).content
    assert _upload(clerk, PARALLEL).status_code == 403
    assert ProcessDefinition.objects.filter(key=KEY).count() == 1


def test_the_navigation_offers_processes_to_catalogue_managers_only(staff_client, definition):
    admin = staff_client("admin")
    assert f'href="{LIST}"' in admin.get("/").content.decode()
    admin.post("/accounts/logout")
    assert f'href="{LIST}"' not in staff_client("clerk").get("/").content.decode()


def test_a_department_scoped_manager_sees_only_their_departments_processes(db, definition):
    account_services.create_staff(
        SYSTEM,
        username="rs_data",
        display_name="人社数据员",
        department_code="rsj",
        roles=[("data_officer", True)],
    )
    rs = Actor(User.objects.get(username="rs_data"))
    services.publish_definition(
        SYSTEM, key="test:rsj", bpmn_xml=PARALLEL, department=Department.objects.get(code="rsj")
    )
    assert [d.key for d in services.list_definitions(rs)] == ["test:rsj"]
    with pytest.raises(NotFound):
        services.access_definition(rs, KEY)
    assert services.access_definition(rs, "test:rsj").department_code == "rsj"
    # Naming their own department does not let them replace another department's process.
    with pytest.raises(NotPermitted):
        services.upload_definition(rs, key=KEY, department_code="rsj", bpmn_xml=EXCLUSIVE)
    assert ProcessDefinition.objects.filter(key=KEY).count() == 1
    # Nor may they publish for a department they do not manage.
    with pytest.raises(NotPermitted):
        services.upload_definition(rs, key="test:new", department_code="scjgj", bpmn_xml=EXCLUSIVE)
    assert not ProcessDefinition.objects.filter(key="test:new").exists()


# --- list, definition page, XML ------------------------------------------------------------------------


def test_the_list_shows_current_versions_and_filters(staff_client, definition):
    services.publish_definition(
        SYSTEM, key="test:other", bpmn_xml=PARALLEL, department=Department.objects.get(code="gaj")
    )
    services.publish_definition(
        SYSTEM, key="test:other", bpmn_xml=PARALLEL, department=Department.objects.get(code="gaj")
    )
    admin = staff_client("admin")
    page = admin.get(LIST).content.decode()
    assert KEY in page and "视图测试许可" in page and "区市监局" in page
    rows = re.findall(r"<tr>\s*<td class=\"mono\"><a href=\"[^\"]+\">test:other</a>.*?</tr>", page, re.S)
    assert len(rows) == 1 and '<td class="num">2</td>' in rows[0]  # only the current version by default
    assert "test:other" not in admin.get(LIST, {"q": "VIEW-001"}).content.decode()
    assert KEY in admin.get(LIST, {"q": "视图测试"}).content.decode()
    superseded = admin.get(LIST, {"status": "superseded"}).content.decode()
    assert "test:other" in superseded and KEY not in superseded
    by_department = admin.get(LIST, {"status": "", "department": "gaj"}).content.decode()
    assert "test:other" in by_department and KEY not in by_department


def test_the_list_pages(staff_client, db):
    gaj = Department.objects.get(code="gaj")
    for i in range(32):
        services.publish_definition(SYSTEM, key=f"test:page{i:02d}", bpmn_xml=EXCLUSIVE, department=gaj)
    admin = staff_client("admin")
    first = admin.get(LIST, {"q": "test:page"}).content.decode()
    assert "test:page00" in first and "test:page31" not in first
    # The next-page link keeps the filters, including the default "current versions only".
    assert re.search(r'href="\?[^"]*status=published[^"]*&(amp;)?page=2" rel="next"', first)
    second = admin.get(LIST, {"q": "test:page", "page": "2"}).content.decode()
    assert "test:page31" in second and "test:page00" not in second


def test_the_definition_page_shows_versions_the_diagram_and_the_steps(staff_client, definition):
    admin = staff_client("admin")
    page = admin.get(_detail(), {"highlight": "approve", "completed": "start,review"}).content.decode()
    assert "视图测试许可" in page and "广安区市场监督管理局" in page
    diagram = re.search(r"<section class=\"process-diagram\"[^>]*>", page).group(0)
    assert f'data-bpmn-url="{_xml()}"' in diagram
    assert 'data-current="approve"' in diagram and 'data-completed="start review"' in diagram
    # The text alternative lists the steps in flow order and says which one is current.
    steps = re.findall(r'<li class="([^"]*)" data-node="([^"]+)"', page)
    assert [node for _state, node in steps] == ["start", "review", "approve", "end_rejected", "end"]
    assert dict((node, state) for state, node in steps)["approve"] == "is-current"
    assert dict((node, state) for state, node in steps)["review"] == "is-completed"
    assert 'aria-current="step"' in page
    # Assets come from our own static files, and no inline script is needed.
    assert "/static/web/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in page
    assert "/static/web/process-diagram.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert "http://" not in re.sub(r'xmlns[^"]*"[^"]*"', "", page).replace("http://testserver", "")


def test_highlight_ids_are_filtered(staff_client, definition):
    page = staff_client("admin").get(_detail(), {"highlight": 'review" onload="x'}).content.decode()
    diagram = re.search(r"<section class=\"process-diagram\".*?</section>", page, re.S).group(0)
    assert 'data-current=""' in diagram and "onload" not in diagram


def test_older_versions_can_be_viewed_and_downloaded(staff_client, definition):
    xml = builder.item_process("VIEW-001", "视图测试许可（新）", "scjgj-spjyk", 3)
    services.publish_definition(
        SYSTEM, key=KEY, bpmn_xml=xml, department=Department.objects.get(code="scjgj")
    )
    admin = staff_client("admin")
    page = admin.get(_detail()).content.decode()
    assert "视图测试许可（新）" in page and _xml(version=2) in page and _xml(version=1) in page
    old = admin.get(_detail(), {"version": "1"}).content.decode()
    assert f'data-bpmn-url="{_xml(version=1)}"' in old and "alert-warning" in old
    assert admin.get(_detail(), {"version": "9"}).status_code == 404
    assert admin.get(_detail("item:NOPE")).status_code == 404


def test_the_xml_endpoint_serves_the_stored_document(staff_client, definition):
    admin = staff_client("admin")
    response = admin.get(_xml())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="item_VIEW-001-v1.bpmn"'
    assert response.content.decode() == definition.bpmn_xml
    assert admin.get(_xml(version=7)).status_code == 404
    assert admin.get(_xml(version=10**20)).status_code == 404
    assert admin.get(_detail(), {"version": str(10**20)}).status_code == 404


# --- upload --------------------------------------------------------------------------------------------


def test_uploading_a_valid_document_publishes_the_next_version(staff_client, definition):
    admin = staff_client("admin")
    form = admin.get(UPLOAD, {"key": KEY, "department": "scjgj"}).content.decode()
    assert 'enctype="multipart/form-data"' in form and f'value="{KEY}"' in form
    response = _upload(admin, EXCLUSIVE)
    assert response.status_code == 302 and response["Location"] == _detail()
    latest = ProcessDefinition.objects.get(key=KEY, status="published")
    assert (latest.version, latest.process_id, latest.bpmn_xml) == (2, "licence", EXCLUSIVE)
    shown = admin.get(response["Location"]).content.decode()
    assert "alert-success" in shown and 'data-bpmn-url="/processes/item:VIEW-001/v2.bpmn"' in shown


def test_uploading_a_new_key(staff_client, db):
    admin = staff_client("admin")
    assert _upload(admin, PARALLEL, key="test:upload-new", department="gaj").status_code == 302
    definition = services.access_definition(SYSTEM, "test:upload-new")
    assert (definition.version, definition.department_code) == (1, "gaj")


def _assert_nothing_saved(before):
    assert list(ProcessDefinition.objects.order_by("pk").values_list("pk", flat=True)) == before


def test_every_problem_is_shown_by_element_and_nothing_is_saved(staff_client, definition):
    before = list(ProcessDefinition.objects.order_by("pk").values_list("pk", flat=True))
    broken = document("""
  <bpmn:process id="broken" name="坏流程">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="check"/>
    <bpmn:userTask id="check" name="审查" tb:role="chef"/>
    <bpmn:sequenceFlow id="f1" sourceRef="check" targetRef="ghost"/>
    <bpmn:scriptTask id="calc" tb:function="os.system"/>
    <bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>""")
    page = _upload(staff_client("admin"), broken).content.decode()
    problems = _problems(page)
    assert ("check", "role") in problems
    assert ("f1", "dangling") in problems
    assert ("calc", "function") in problems
    assert ("calc", "unreachable") in problems
    assert "nothing was published" in page or "未发布" in page or "均未保存" in page
    _assert_nothing_saved(before)


def test_malformed_xml_is_reported(staff_client, definition):
    before = list(ProcessDefinition.objects.order_by("pk").values_list("pk", flat=True))
    page = _upload(staff_client("admin"), "<bpmn:definitions><unclosed>").content.decode()
    assert _problems(page) == [("document", "xml")]
    _assert_nothing_saved(before)


def test_entity_expansion_is_refused(staff_client, definition):
    before = list(ProcessDefinition.objects.order_by("pk").values_list("pk", flat=True))
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
        + PARALLEL.split("\n", 1)[1].replace('name="企业开办"', 'name="&lol3;"')
    )
    page = _upload(staff_client("admin"), bomb).content.decode()
    assert _problems(page) == [("document", "unsafe")]
    _assert_nothing_saved(before)


def test_oversized_and_wrongly_typed_files_are_refused_before_reading(staff_client, definition):
    before = list(ProcessDefinition.objects.order_by("pk").values_list("pk", flat=True))
    admin = staff_client("admin")
    big = PARALLEL.replace("</bpmn:definitions>", "<!--" + "x" * (1024 * 1024) + "--></bpmn:definitions>")
    page = _upload(admin, big).content.decode()
    assert 'data-field="bpmn_file"' in page and ("1 MB" in page)
    page = _upload(admin, PARALLEL, name="process.exe").content.decode()
    assert 'data-field="bpmn_file"' in page
    page = _upload(admin, "é".encode("latin-1") + PARALLEL.encode()).content.decode()
    assert 'data-field="bpmn_file"' in page
    page = _upload(admin, PARALLEL, key="bad key/with slash").content.decode()
    assert 'data-field="key"' in page
    page = _upload(admin, PARALLEL, department="").content.decode()
    assert 'data-field="department"' in page
    _assert_nothing_saved(before)


def test_an_ambiguous_document_asks_for_the_process_id(staff_client, db):
    two = document(
        '<bpmn:process id="a"><bpmn:startEvent id="s"/>'
        '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/><bpmn:endEvent id="e"/></bpmn:process>',
        '<bpmn:process id="b"><bpmn:startEvent id="s2"/><bpmn:sequenceFlow id="f2" sourceRef="s2" '
        'targetRef="e2"/><bpmn:endEvent id="e2"/></bpmn:process>',
    )
    admin = staff_client("admin")
    page = _upload(admin, two, key="test:two").content.decode()
    assert 'data-field="process_id"' in page
    assert not ProcessDefinition.objects.filter(key="test:two").exists()
    assert _upload(admin, two, key="test:two", process_id="b").status_code == 302
    assert ProcessDefinition.objects.get(key="test:two").process_id == "b"
