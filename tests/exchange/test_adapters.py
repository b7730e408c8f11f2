"""Providers behind one interface: a drop folder (CSV in UTF-8 or GB18030, XLSX), another system's
HTTP JSON endpoint, the e-licence library; mapping and normalisation are configuration."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from openpyxl import Workbook

from tests.exchange.conftest import LISI, ZHANGSAN, spec
from tongban.accounts.seed import demo_id_number, demo_uscc
from tongban.core.authz import SYSTEM
from tongban.exchange import services, store
from tongban.exchange.models import Call, Record, Resource
from tongban.exchange.normalise import Malformed, id_number_form, normalise_row

HEADER = [
    "统一社会信用代码",
    "企业名称",
    "法定代表人",
    "法定代表人证件号码",
    "登记机关",
    "成立日期",
    "登记状态",
    "注册资本",
    "更新日期",
]
USCC = demo_uscc("511602MA62K3LP0")
OTHER = demo_uscc("511602MA6B7QW1X")


def test_normalisation_is_configuration():
    mapping = {
        "columns": {"证件号": "id", "日期": "day", "婚姻": "marital", "名称": "name", "月数": "months"},
        "rules": {
            "id": ["id_number"],
            "day": ["date:%Y年%m月%d日|%Y/%m/%d"],
            "marital": ["code:marital"],
            "name": ["halfwidth", "strip"],
            "months": ["int"],
        },
        "codes": {"marital": {"20": "已婚"}},
    }
    keys = {"id", "day", "marital", "name", "months"}
    record, problems = normalise_row(
        {
            "证件号": "511602850312013",
            "日期": "2001年3月4日",
            "婚姻": "２０",
            "名称": " ＡＢＣ公司 ",
            "月数": "１２",
        },
        mapping,
        keys,
    )
    assert problems == []
    assert record == {"id": ZHANGSAN, "day": "2001-03-04", "marital": "已婚", "name": "ABC公司", "months": 12}
    assert normalise_row({"日期": "2001/3/4"}, mapping, keys)[0]["day"] == "2001-03-04"
    assert normalise_row({"日期": dt.date(2001, 3, 4)}, mapping, keys)[0]["day"] == "2001-03-04"
    _record, problems = normalise_row({"日期": "March 4", "婚姻": "99", "月数": "x"}, mapping, keys)
    assert [p.field for p in problems] == ["day", "marital", "months"]
    assert all(isinstance(p, Malformed) for p in problems)
    assert id_number_form(" 51160219850312001x ") == "51160219850312001X"


@pytest.fixture
def enterprises(db, tmp_path):
    resource = spec("enterprises")
    resource["adapter_config"] = {"folder": str(tmp_path)}
    services.save_resource(SYSTEM, **resource)
    return tmp_path


def _row(uscc, name="广安区川味小馆", status="1", founded="2020年5月1日"):
    return [uscc, name, "张三", ZHANGSAN, "511602", founded, status, "100", "2026-10-01"]


def test_a_gb18030_csv_in_the_drop_folder_is_imported_and_moved_to_done(enterprises, grant_for):
    path = enterprises / "scjg_20261101.csv"
    text = "\n".join(",".join(r) for r in [HEADER, _row(USCC.lower()), _row(OTHER, "建材公司", status="2")])
    path.write_bytes(text.encode("gb18030"))
    report = services.scan_drop_folder(SYSTEM, "enterprises")
    assert (report.rows, report.imported, report.dirty) == (2, 2, 0)
    assert not path.exists() and (enterprises / "done" / path.name).exists()
    assert services.scan_drop_folder(SYSTEM, "enterprises") is None  # nothing new
    grant_for("xzspj", "enterprises", ["status", "name", "registered_on"])
    answer = services.query(
        SYSTEM,
        "enterprises",
        subject=USCC,
        fields=["name", "registered_on"],
        purpose="开办",
        department_code="xzspj",
    )
    assert answer.record == {"name": "广安区川味小馆", "registered_on": "2020-05-01"}
    assert (
        services.verify(
            SYSTEM, "enterprises", "active", subject=OTHER, purpose="x", department_code="xzspj"
        ).answer
        is False
    )


def test_a_malformed_file_is_rejected_whole_with_its_report(enterprises):
    good = enterprises / "a.csv"
    good.write_text("\n".join(",".join(r) for r in [HEADER, _row(USCC)]), encoding="utf-8")
    services.scan_drop_folder(SYSTEM, "enterprises")
    bad = enterprises / "b.csv"
    bad.write_text(
        "\n".join(
            [
                ",".join(HEADER),
                ",".join(_row(OTHER, founded="去年")),
                ",".join(_row(USCC)),
                "91511602,只有两格",
            ]
        ),
        encoding="utf-8",
    )
    with pytest.raises(services.ImportRejected) as rejected:
        services.scan_drop_folder(SYSTEM, "enterprises")
    assert [(r, f) for r, f, _m in rejected.value.report.errors] == [(1, "registered_on"), (3, "__row__")]
    report_file = enterprises / "rejected" / "b.csv.report.txt"
    assert report_file.exists() and "row 1\tregistered_on" in report_file.read_text(encoding="utf-8")
    assert Record.objects.filter(resource__code="enterprises").count() == 1  # the earlier snapshot stays
    assert Resource.objects.get(code="enterprises").record_count == 1
    # An older snapshot that was never imported is not taken after a newer one.
    (enterprises / "a0.csv").write_text(
        "\n".join(",".join(r) for r in [HEADER, _row(OTHER)]), encoding="utf-8"
    )
    (enterprises / "c.csv").write_text(
        "\n".join(",".join(r) for r in [HEADER, _row(USCC), _row(OTHER)]), "utf-8"
    )
    assert services.scan_drop_folder(SYSTEM, "enterprises").imported == 2
    assert (enterprises / "superseded" / "a0.csv").exists() and (enterprises / "done" / "c.csv").exists()


def test_an_xlsx_snapshot_with_date_cells(enterprises):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    row = _row(USCC)
    row[5] = dt.datetime(2019, 8, 8)
    sheet.append(row)
    sheet.append(_row(USCC))  # the same enterprise twice: flagged, not rejected
    book.save(enterprises / "snapshot.xlsx")
    report = services.scan_drop_folder(SYSTEM, "enterprises")
    assert (report.imported, report.dirty) == (2, 2)
    assert services.quality_report(SYSTEM, "enterprises").duplicates == 2


class _Registry(BaseHTTPRequestHandler):
    """Another system's endpoint: POST {"sfzh": …} → its own JSON shape, or 404."""

    records = {ZHANGSAN: {"xm": "张三", "zt": "1", "csrq": "1985/03/12"}}
    seen: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.path, body, self.headers.get("X-Api-Key")))
        if body.get("sfzh") == "boom":
            self.send_response(500)
            self.end_headers()
            return
        found = self.records.get(body.get("sfzh"))
        payload = json.dumps({"code": 0, "data": {"sfzh": body["sfzh"], **found}} if found else {}).encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def registry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_http_adapter_asks_another_system_and_maps_its_answer(db, registry, grant_for):
    services.save_resource(
        SYSTEM,
        code="pension",
        name="养老待遇领取资格",
        subject="养老待遇资格",
        provider_code="rsj",
        key_kind="person",
        key_field="id_number",
        adapter="http",
        frequency="realtime",
        fields=[
            {
                "key": "id_number",
                "label": "身份号码",
                "level": "sensitive",
                "personal": True,
                "required": True,
            },
            {"key": "name", "label": "姓名", "level": "sensitive", "personal": True},
            {"key": "status", "label": "资格状态", "level": "internal"},
            {"key": "birth_date", "label": "出生日期", "level": "internal", "personal": True},
        ],
        adapter_config={
            "url": registry + "/api/qualify",
            "key_param": "sfzh",
            "records_path": "data",
            "headers": {"X-Api-Key": "k1"},
            "timeout": 2,
        },
        mapping={
            "columns": {"sfzh": "id_number", "xm": "name", "zt": "status", "csrq": "birth_date"},
            "rules": {"status": ["code:zt"], "birth_date": ["date:%Y/%m/%d"]},
            "codes": {"zt": {"1": "正常领取", "2": "暂停"}},
        },
        predicates={"receiving": {"label": "正常领取", "all": [["status", "eq", "正常领取"]]}},
    )
    grant_for("mzj", "pension", ["name", "status", "birth_date"])
    answer = services.query(
        SYSTEM,
        "pension",
        subject=ZHANGSAN,
        fields=["name", "birth_date"],
        purpose="高龄津贴",
        department_code="mzj",
    )
    assert answer.record == {"name": "张三", "birth_date": "1985-03-12"}
    assert services.verify(
        SYSTEM, "pension", "receiving", subject=ZHANGSAN, purpose="x", department_code="mzj"
    ).answer
    missing = services.verify(
        SYSTEM, "pension", "receiving", subject=LISI, purpose="x", department_code="mzj"
    )
    assert not missing.found
    path, body, key = _Registry.seen[0]
    assert (path, body, key) == ("/api/qualify", {"sfzh": ZHANGSAN}, "k1")  # the number is in the body
    Resource.objects.filter(code="pension").update(
        adapter_config={"url": registry + "/x", "key_param": "sfzh"}
    )
    _Registry.records["boom"] = {}
    resource = Resource.objects.get(code="pension")
    from tongban.exchange.adapters import AdapterFailure, HttpAdapter

    with pytest.raises(AdapterFailure):
        HttpAdapter().lookup(resource, "boom")
    Resource.objects.filter(code="pension").update(
        adapter_config={"url": "http://127.0.0.1:9/", "timeout": 0.5}
    )
    store.bump_policy()  # QuerySet.update() bypasses the signal that does this (exchange/apps.py)
    from tongban.core.errors import DomainError

    with pytest.raises(DomainError) as failed:
        services.verify(SYSTEM, "pension", "receiving", subject=ZHANGSAN, purpose="x", department_code="mzj")
    assert failed.value.code == "provider_failed"
    assert Call.objects.order_by("-at").first().outcome == "failed"


def test_the_licence_library_answers_whether_a_valid_licence_is_held(db, grant_for):
    from tongban.licences import demo as licence_demo
    from tongban.licences import services as licences

    licence_demo.load_types()
    services.save_resource(SYSTEM, **spec("licences"))
    grant_for("xzspj", "licences", ["licence_types"])
    licences.issue(
        SYSTEM,
        "food_business_licence",
        holder_id=USCC,
        holder_name="广安区示例餐饮有限公司",
        fields={
            "business_form": "餐饮服务经营者",
            "business_items": "热食类食品制售",
            "address": "建设路12号",
        },
    )
    marriage = licences.issue(
        SYSTEM,
        "marriage_certificate",
        holder_id=ZHANGSAN,
        holder_name="张三",
        fields={"spouse": "李梅", "registered_on": "2012-05-20"},
    )

    def holds(subject, kind):
        return services.verify(
            SYSTEM,
            "licences",
            "holds_licence",
            subject=subject,
            params={"type": kind},
            purpose="审批",
            department_code="xzspj",
        ).answer

    assert holds(USCC, "food_business_licence") is True
    assert holds(USCC, "business_licence") is False
    assert holds(ZHANGSAN, "marriage_certificate") is True
    licences.revoke(SYSTEM, marriage.code, reason="登记错误")
    assert holds(ZHANGSAN, "marriage_certificate") is None  # no licence in force: unknown to the library


def test_a_key_of_either_kind_is_a_person_when_it_is_a_valid_id_number():
    from tongban.core.identifiers import uscc_check_char
    from tongban.exchange.normalise import kind_of

    # An all-digit ID number whose credit-code check happens to pass as well.
    number = next(
        n
        for n in (
            demo_id_number("511602", dt.date(1980, 1, 1) + dt.timedelta(days=d), 13) for d in range(2000)
        )
        if uscc_check_char(n[:17]) == n[17]
    )
    assert kind_of("any", number) == "person"
    assert kind_of("any", USCC) == "enterprise"
    assert kind_of("person", USCC) == "person"
