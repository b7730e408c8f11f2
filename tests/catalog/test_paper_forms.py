"""The application form on paper (空白表格) and as an example (样表), drawn from the item's form
fields, downloadable from the guide and the application page (issue 12: citizens expect both)."""

import io

import pytest
from pypdf import PdfReader

from tongban.catalog import services
from tongban.catalog.paper_forms import sample_value
from tongban.core.authz import SYSTEM
from tongban.core.identifiers import normalize_id_number, normalize_uscc

CODE = "PAPER-001"
FIELDS = [
    {"key": "enterprise_name", "label": "经营者名称", "type": "text", "required": True},
    {"key": "operator_id", "label": "负责人身份证号码", "type": "id_number", "required": True},
    {"key": "uscc", "label": "统一社会信用代码", "type": "uscc", "required": True},
    {"key": "kind", "label": "经营类别", "type": "select", "options": ["热食类", "冷食类"], "required": True},
    {"key": "area", "label": "经营面积", "type": "number", "required": False, "example": "85"},
]


def _text(body: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


@pytest.fixture
def item(db):
    services.create_item(
        SYSTEM,
        code=CODE,
        department_code="scjgj",
        name="纸质表格测试许可",
        item_type="licensing",
        statutory_limit_days=20,
        promised_limit_days=5,
        form_fields=FIELDS,
        materials=[{"name": "营业执照"}, {"name": "平面图", "required": False, "core": False}],
    )
    services.publish_item(SYSTEM, CODE)
    return CODE


def test_the_blank_form_has_every_field_and_material_and_no_answers(item):
    name, body = services.application_form_paper(CODE, sample=False)
    assert name == "纸质表格测试许可申请表.pdf" and body.startswith(b"%PDF")
    text = _text(body)
    for label in (
        "经营者名称",
        "负责人身份证号码",
        "统一社会信用代码",
        "经营类别",
        "经营面积",
        "营业执照",
        "平面图",
    ):
        assert label in text
    assert "热食类" in text and "冷食类" in text  # a choice is printed as boxes to tick
    assert "样" not in text.split("申请表")[0] and "广安区示例" not in text


def test_the_sample_is_filled_in_with_valid_looking_values(item):
    name, body = services.application_form_paper(CODE, sample=True)
    assert name.endswith("（样表）.pdf")
    text = _text(body).replace(" ", "")
    assert "样表" in text and "85" in text  # the catalogue's own example wins
    id_number = sample_value(FIELDS[1], None)
    uscc = sample_value(FIELDS[2], None)
    assert normalize_id_number(id_number) == id_number and normalize_uscc(uscc) == uscc  # check digits hold
    assert id_number in text and uscc in text and "热食类" in text


def test_the_forms_are_deterministic_and_follow_the_published_version(item):
    first = services.application_form_paper(CODE, sample=True)[1]
    assert services.application_form_paper(CODE, sample=True)[1] == first
    services.update_item(
        SYSTEM, CODE, form_fields=[*FIELDS, {"key": "seats", "label": "座位数", "type": "number"}]
    )
    assert "座位数" not in _text(
        services.application_form_paper(CODE, sample=False)[1]
    )  # a draft is not public
    services.publish_item(SYSTEM, CODE)
    assert "座位数" in _text(services.application_form_paper(CODE, sample=False)[1])


def test_downloads_are_public_pdfs_linked_from_the_guide(client, item):
    guide = client.get(f"/services/items/{CODE}/").content.decode()
    assert f"/services/items/{CODE}/form.pdf" in guide and f"/services/items/{CODE}/sample.pdf" in guide
    for suffix in ("form.pdf", "sample.pdf"):
        response = client.get(f"/services/items/{CODE}/{suffix}")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "filename*=utf-8''" in response["Content-Disposition"].lower()


def test_unknown_items_and_items_without_a_form_are_404(client, db):
    assert client.get("/services/items/NOPE/form.pdf").status_code == 404
    services.create_item(
        SYSTEM,
        code="PAPER-NOFORM",
        department_code="scjgj",
        name="无表单事项",
        item_type="licensing",
        statutory_limit_days=20,
        promised_limit_days=5,
    )
    services.publish_item(SYSTEM, "PAPER-NOFORM")
    assert client.get("/services/items/PAPER-NOFORM/sample.pdf").status_code == 404
    guide = client.get("/services/items/PAPER-NOFORM/").content.decode()
    assert "form.pdf" not in guide
