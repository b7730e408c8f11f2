"""The demo city's data-sharing platform (`tongban seed`): five providers with generated records,
the e-licence library as a sixth resource, grants, a negative-list entry and some calls.

Records are generated from a fixed seed, so every run makes the same city: 10,000 persons (the
demo citizens of accounts.seed among them) and 2,000 enterprises. Some rows are deliberately dirty
— wrong check characters, duplicates, missing names, records not updated for years — and some are
in the shapes real registries send (15-digit legacy numbers, full-width digits, 2001/3/4 dates,
code tables), which the mapping normalises. Idempotent: a resource that has records keeps them.
"""

import csv
import datetime as dt
import random
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from tongban.accounts.models import Department
from tongban.accounts.seed import CITIZENS, ENTERPRISES, demo_id_number, demo_uscc
from tongban.core.authz import SystemActor
from tongban.core.identifiers import USCC_CHARSET

from . import services
from .models import AdapterKind, Call, Frequency, Grant, KeyKind, NegativeEntry, Resource

SEED_ACTOR = SystemActor("operator:seed")
PERSONS = 10_000
ENTERPRISE_COUNT = 2_000
DISTRICTS = ["511602", "511603", "511621", "511622", "511623", "511681"]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红梅鹏飞雪琳浩宇欣怡子涵梓轩"
STREETS = ["建设路", "中桥街", "渠江路", "思源大道", "金安大道", "北辰路", "浓洄街", "万盛街"]
TODAY = dt.date(2026, 11, 1)  # the generator's "today", so records look the same whatever the run date
# Someone the register holds who has no account: register as him to try 实名认证 in the demo.
REGISTRANT = ("赵小六", "511602", dt.date(1996, 6, 6), 65)


def _f(key, label, level, *, personal=False, required=False):
    return {"key": key, "label": label, "level": level, "personal": personal, "required": required}


RESOURCES = [
    {
        "code": "population",
        "name": "人口基础信息",
        "subject": "户籍人口",
        "provider_code": "gaj",
        "key_kind": KeyKind.PERSON,
        "key_field": "id_number",
        "frequency": Frequency.DAILY,
        "adapter": AdapterKind.TABLE,
        "description": "公安户籍人口库：身份、户籍地址与人员状态。",
        "stale_after_days": 3 * 365,
        "fields": [
            _f("id_number", "公民身份号码", "sensitive", personal=True, required=True),
            _f("name", "姓名", "sensitive", personal=True, required=True),
            _f("sex", "性别", "internal", personal=True),
            _f("birth_date", "出生日期", "internal", personal=True),
            _f("ethnicity", "民族", "important", personal=True),
            _f("region", "户籍地行政区划", "internal"),
            _f("address", "户籍地址", "sensitive", personal=True),
            _f("relation", "与户主关系", "internal", personal=True),
            _f("status", "人员状态", "internal", required=True),
            _f("updated_on", "更新日期", "public"),
        ],
        "mapping": {
            "columns": {
                "公民身份号码": "id_number",
                "姓名": "name",
                "性别": "sex",
                "出生日期": "birth_date",
                "民族": "ethnicity",
                "户籍地区划": "region",
                "住址": "address",
                "与户主关系": "relation",
                "人员状态": "status",
                "更新日期": "updated_on",
            },
            "rules": {
                "id_number": ["id_number"],
                "name": ["halfwidth", "strip"],
                "sex": ["code:sex"],
                "birth_date": ["date:%Y%m%d"],
                "region": ["halfwidth", "strip"],
                "status": ["code:status"],
                "updated_on": ["date:%Y/%m/%d"],
            },
            "codes": {"sex": {"1": "男", "2": "女"}, "status": {"0": "正常", "1": "死亡", "2": "迁出"}},
            "updated_on": "updated_on",
        },
        "predicates": {
            "registered": {"label": "户籍登记有效（在册、健在）", "all": [["status", "eq", "正常"]]},
            # 实名认证 (accounts.identity, L1): the name given matches the number, and the person lives.
            "real_name": {
                "label": "姓名与公民身份号码一致且人员状态正常（实名核验）",
                "params": ["name"],
                "all": [["name", "eq", "$name"], ["status", "eq", "正常"]],
            },
            "alive_in_district": {
                "label": "健在且户籍在指定区县",
                "params": ["district"],
                "all": [["status", "eq", "正常"], ["region", "eq", "$district"]],
            },
        },
    },
    {
        "code": "enterprises",
        "name": "市场主体登记信息",
        "subject": "市场主体",
        "provider_code": "scjgj",
        "key_kind": KeyKind.ENTERPRISE,
        "key_field": "uscc",
        "frequency": Frequency.DAILY,
        "adapter": AdapterKind.FILE,
        "description": "市场监管登记注册库，每日以 CSV 快照投递到交换目录。",
        "stale_after_days": 2 * 365,
        "fields": [
            _f("uscc", "统一社会信用代码", "public", required=True),
            _f("name", "企业名称", "public", required=True),
            _f("legal_representative", "法定代表人", "internal", personal=True, required=True),
            _f("legal_representative_id", "法定代表人身份号码", "sensitive", personal=True),
            _f("region", "登记机关区划", "public"),
            _f("registered_on", "成立日期", "public"),
            _f("status", "登记状态", "public", required=True),
            _f("capital", "注册资本（万元）", "internal"),
            _f("updated_on", "更新日期", "public"),
        ],
        "mapping": {
            "columns": {
                "统一社会信用代码": "uscc",
                "企业名称": "name",
                "法定代表人": "legal_representative",
                "法定代表人证件号码": "legal_representative_id",
                "登记机关": "region",
                "成立日期": "registered_on",
                "登记状态": "status",
                "注册资本": "capital",
                "更新日期": "updated_on",
            },
            "rules": {
                "uscc": ["uscc"],
                "legal_representative_id": ["id_number"],
                "registered_on": ["date:%Y年%m月%d日|%Y-%m-%d"],
                "status": ["code:status"],
                "capital": ["int"],
                "updated_on": ["date:%Y-%m-%d"],
            },
            "codes": {"status": {"1": "存续", "2": "注销", "3": "吊销"}},
            "updated_on": "updated_on",
        },
        "predicates": {"active": {"label": "企业存续", "all": [["status", "eq", "存续"]]}},
    },
    {
        "code": "tax",
        "name": "纳税人税收状态",
        "subject": "纳税人状态",
        "provider_code": "swj",
        "key_kind": KeyKind.ENTERPRISE,
        "key_field": "uscc",
        "frequency": Frequency.MONTHLY,
        "adapter": AdapterKind.TABLE,
        "description": "税务征管系统：欠税状态与纳税信用等级。",
        "stale_after_days": 365,
        "fields": [
            _f("uscc", "统一社会信用代码", "public", required=True),
            _f("name", "纳税人名称", "public", required=True),
            _f("arrears", "是否欠税", "internal", required=True),
            _f("arrears_amount", "欠税金额（元）", "sensitive"),
            _f("credit_rating", "纳税信用等级", "internal"),
            _f("updated_on", "更新日期", "public"),
        ],
        "mapping": {
            "rules": {
                "uscc": ["uscc"],
                "arrears": ["bool"],
                "arrears_amount": ["int"],
                "updated_on": ["date:%Y-%m-%d"],
            },
            "updated_on": "updated_on",
        },
        "predicates": {
            "no_arrears": {"label": "无欠税", "all": [["arrears", "eq", False]]},
            "good_credit": {"label": "纳税信用 A 或 B 级", "all": [["credit_rating", "in", ["A", "B"]]]},
        },
    },
    {
        "code": "social_insurance",
        "name": "社会保险参保信息",
        "subject": "社会保险参保",
        "provider_code": "rsj",
        "key_kind": KeyKind.PERSON,
        "key_field": "id_number",
        "frequency": Frequency.MONTHLY,
        "adapter": AdapterKind.TABLE,
        "description": "人社参保缴费与就业失业登记。",
        "stale_after_days": 2 * 365,
        "fields": [
            _f("id_number", "公民身份号码", "sensitive", personal=True, required=True),
            _f("name", "姓名", "sensitive", personal=True, required=True),
            _f("insured", "是否参保", "internal"),
            _f("employment_status", "就业状态", "internal", personal=True),
            _f("contribution_months", "累计缴费月数", "internal", personal=True),
            _f("employer_uscc", "参保单位", "internal"),
            _f("updated_on", "更新日期", "public"),
        ],
        "mapping": {
            "rules": {
                "id_number": ["id_number"],
                "insured": ["bool"],
                "contribution_months": ["int"],
                "updated_on": ["date:%Y-%m-%d"],
            },
            "updated_on": "updated_on",
        },
        "predicates": {
            "insured": {"label": "正在参保", "all": [["insured", "eq", True]]},
            "unemployed": {"label": "已办理失业登记", "all": [["employment_status", "eq", "失业"]]},
            "contributed_months": {
                "label": "累计缴费不少于 N 个月",
                "params": ["months"],
                "all": [["contribution_months", "gte", "$months"]],
            },
        },
    },
    {
        "code": "civil_affairs",
        "name": "婚姻登记与死亡信息",
        "subject": "婚姻与死亡登记",
        "provider_code": "mzj",
        "key_kind": KeyKind.PERSON,
        "key_field": "id_number",
        "frequency": Frequency.WEEKLY,
        "adapter": AdapterKind.TABLE,
        "description": "民政婚姻登记与殡葬（死亡）信息。",
        "stale_after_days": 3 * 365,
        "fields": [
            _f("id_number", "公民身份号码", "sensitive", personal=True, required=True),
            _f("name", "姓名", "sensitive", personal=True, required=True),
            _f("marital_status", "婚姻状况", "sensitive", personal=True),
            _f("spouse_name", "配偶姓名", "sensitive", personal=True),
            _f("deceased", "是否死亡", "internal"),
            _f("death_date", "死亡日期", "internal", personal=True),
            _f("updated_on", "更新日期", "public"),
        ],
        "mapping": {
            "rules": {
                "id_number": ["id_number"],
                "marital_status": ["code:marital"],
                "deceased": ["bool"],
                "death_date": ["date:%Y-%m-%d"],
                "updated_on": ["date:%Y-%m-%d"],
            },
            "codes": {"marital": {"10": "未婚", "20": "已婚", "30": "丧偶", "40": "离婚"}},
            "updated_on": "updated_on",
        },
        "predicates": {
            "alive": {"label": "健在", "all": [["deceased", "eq", False]]},
            "married": {"label": "已婚", "all": [["marital_status", "eq", "已婚"]]},
        },
    },
    {
        "code": "licences",
        "name": "电子证照持证信息",
        "subject": "电子证照",
        "provider_code": "ggb-sjzy",
        "key_kind": KeyKind.ANY,
        "key_field": "holder",
        "frequency": Frequency.REALTIME,
        "adapter": AdapterKind.LICENCE,
        "description": "电子证照库：持证人当前有效的证照类型（实时）。",
        "fields": [
            _f("holder", "持证人证件号码", "sensitive", personal=True, required=True),
            _f("licence_types", "有效证照类型", "internal"),
            _f("licence_count", "有效证照数", "internal"),
        ],
        "predicates": {
            "holds_licence": {
                "label": "持有指定类型的有效证照",
                "params": ["type"],
                "all": [["licence_types", "contains", "$type"]],
            }
        },
    },
]

# (consumer, resource, fields, purpose, legal basis, state) — state: approved, provider_approved, pending
GRANTS = [
    ("rsj", "population", ["status", "region", "name"], "社保经办核验户籍", "《社会保险法》", "approved"),
    ("ybj", "population", ["status"], "医保参保登记核验户籍", "《社会保险法》", "approved"),
    (
        "ybj",
        "social_insurance",
        ["insured", "contribution_months"],
        "医保关系转移接续",
        "《社会保险法》",
        "approved",
    ),
    ("mzj", "population", ["status", "region"], "婚姻登记与社会救助核验户籍", "《婚姻登记条例》", "approved"),
    (
        "zrzyj",
        "civil_affairs",
        ["marital_status"],
        "不动产登记核验婚姻状况",
        "《不动产登记暂行条例》",
        "approved",
    ),
    ("zrzyj", "population", ["status"], "不动产登记核验身份", "《不动产登记暂行条例》", "approved"),
    (
        "xzspj",
        "enterprises",
        ["status", "name", "legal_representative"],
        "企业开办核验主体",
        "《市场主体登记管理条例》",
        "approved",
    ),
    ("xzspj", "tax", ["arrears"], "行政许可核验欠税", "《优化营商环境条例》", "approved"),
    ("xzspj", "licences", ["licence_types"], "审批核验已有证照", "《优化营商环境条例》", "approved"),
    ("xzspj", "population", ["status", "region"], "综合受理核验户籍", "《优化营商环境条例》", "approved"),
    ("gaj", "civil_affairs", ["deceased"], "户籍注销核验死亡信息", "《户口登记条例》", "approved"),
    ("cl", "population", ["status"], "残疾人证办理核验户籍", "《残疾人保障法》", "approved"),
    (
        "ggb",
        "population",
        ["name", "status"],
        "统一身份认证：实名核验（可用不可见）",
        "《网络安全法》第二十四条；《优化营商环境条例》",
        "approved",
    ),
    ("swj", "enterprises", ["status"], "税务登记核验主体存续", "《税收征收管理法》", "approved"),
    (
        "scjgj",
        "tax",
        ["arrears", "credit_rating"],
        "信用监管核验纳税信用",
        "《企业信息公示暂行条例》",
        "provider_approved",
    ),
    (
        "wjj",
        "population",
        ["name", "status", "birth_date"],
        "出生医学证明签发核验父母身份",
        "《母婴保健法》",
        "pending",
    ),
]
NEGATIVE = [("population", "ethnicity", "民族属于敏感个人信息，不在共享范围（负面清单）")]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _i in range(rng.choice((1, 2))))


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _persons(rng: random.Random) -> list[dict]:
    """The population: demo citizens first, then generated people (unique, valid ID numbers)."""
    people, seen = [], set()
    named = [(name, region, birth, seq) for _u, name, region, birth, seq, _p in CITIZENS] + [REGISTRANT]
    for name, region, birth, seq in named:
        number = demo_id_number(region, birth, seq)
        seen.add(number)
        people.append(
            {"id": number, "name": name, "region": region, "birth": birth, "status": "0", "demo": True}
        )
    while len(people) < PERSONS:
        region = rng.choice(DISTRICTS)
        birth = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(0, 32000))
        number = demo_id_number(region, birth, rng.randrange(1, 999))
        if number in seen:
            continue
        seen.add(number)
        status = rng.choices(["0", "1", "2"], weights=[93, 4, 3])[0]
        people.append({"id": number, "name": _name(rng), "region": region, "birth": birth, "status": status})
    return people


def _dirty_id(rng: random.Random, number: str) -> str:
    wrong = [c for c in "0123456789X" if c != number[17]]
    return number[:17] + rng.choice(wrong)


def _population_rows(rng: random.Random, people: list[dict]) -> list[dict]:
    rows = []
    for n, p in enumerate(people):
        number = p["id"]
        born_1900s = p["birth"].year < 2000
        roll = rng.random() if not p.get("demo") else 1.0
        if roll < 0.03:
            number = _dirty_id(rng, number)  # a wrong check character, as real registries hold
        elif roll < 0.05 and born_1900s:
            number = number[:6] + number[8:17]  # a legacy 15-digit number
        elif roll < 0.07:
            number = _fullwidth(number)
        updated = TODAY - dt.timedelta(days=rng.randrange(0, 900))
        if rng.random() < 0.03 and not p.get("demo"):
            updated = TODAY - dt.timedelta(days=rng.randrange(1200, 4000))  # stale
        row = {
            "公民身份号码": number,
            "姓名": "" if (rng.random() < 0.01 and not p.get("demo")) else p["name"],
            "性别": "1" if int(p["id"][16]) % 2 else "2",
            "出生日期": p["birth"].strftime("%Y%m%d"),
            "民族": "汉族" if rng.random() < 0.95 else "土家族",
            "户籍地区划": p["region"],
            "住址": f"{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
            "与户主关系": "户主" if n % 3 == 0 else rng.choice(["配偶", "子", "女", "父亲", "母亲"]),
            "人员状态": p["status"],
            "更新日期": f"{updated.year}/{updated.month}/{updated.day}",
        }
        rows.append(row)
        if rng.random() < 0.005 and not p.get("demo"):
            rows.append(dict(row, 更新日期=f"{updated.year - 2}/{updated.month}/1"))  # a duplicate entry
    return rows


def _civil_rows(rng: random.Random, people: list[dict]) -> list[dict]:
    demo = {"张三": ("20", "李梅"), "李四": ("10", ""), "王五": ("30", ""), "赵小六": ("10", "")}
    rows = []
    for p in people:
        age = (TODAY - p["birth"]).days // 365
        if p.get("demo"):
            marital, spouse = demo[p["name"]]
        elif age < 22:
            marital, spouse = "10", ""
        else:
            marital = rng.choices(["10", "20", "30", "40"], weights=[15, 70, 6, 9])[0]
            spouse = _name(rng) if marital == "20" else ""
        deceased = p["status"] == "1"
        died = TODAY - dt.timedelta(days=rng.randrange(10, 2000)) if deceased else None
        rows.append(
            {
                "id_number": p["id"],
                "name": p["name"],
                "marital_status": marital,
                "spouse_name": spouse,
                "deceased": "1" if deceased else "0",
                "death_date": died.isoformat() if died else "",
                "updated_on": (TODAY - dt.timedelta(days=rng.randrange(0, 700))).isoformat(),
            }
        )
    return rows


def _social_rows(rng: random.Random, people: list[dict], employers: list[str]) -> list[dict]:
    demo = {
        "张三": ("1", "在职", 180),
        "李四": ("0", "失业", 60),
        "王五": ("1", "退休", 360),
        "赵小六": ("1", "在职", 36),
    }
    rows = []
    for p in people:
        age = (TODAY - p["birth"]).days // 365
        if p.get("demo"):
            insured, status, months = demo[p["name"]]
        elif p["status"] != "0" or age < 18 or rng.random() < 0.3:
            continue
        else:
            status = (
                "退休" if age >= 60 else rng.choices(["在职", "失业", "灵活就业"], weights=[80, 8, 12])[0]
            )
            insured = "1" if rng.random() < 0.9 else "0"
            months = min(rng.randrange(0, 480), max(0, (age - 18) * 12))
        rows.append(
            {
                "id_number": p["id"],
                "name": p["name"],
                "insured": insured,
                "employment_status": status,
                "contribution_months": str(months),
                "employer_uscc": rng.choice(employers) if status == "在职" else "",
                "updated_on": (TODAY - dt.timedelta(days=rng.randrange(0, 500))).isoformat(),
            }
        )
    return rows


def _enterprises(rng: random.Random, people: list[dict]) -> list[dict]:
    """Demo enterprises (accounts.seed and the sample cases' restaurants) first, then generated ones."""
    named = {name: demo_id_number(r, b, s) for _u, name, r, b, s, _p in CITIZENS}
    out, seen = [], set()
    for body, name, legal, _agent in ENTERPRISES:
        out.append(
            {"uscc": demo_uscc(body), "name": name, "legal": legal, "legal_id": named[legal], "demo": True}
        )
    for n in range(6):
        uscc = demo_uscc(f"511602MA62K3L{n:02d}")
        out.append(
            {
                "uscc": uscc,
                "name": f"广安区示例商户{n + 1}",
                "legal": "张三",
                "legal_id": named["张三"],
                "demo": True,
            }
        )
    seen.update(e["uscc"] for e in out)
    chars = USCC_CHARSET[:-1]
    trades = ["餐饮", "建材", "商贸", "物流", "科技", "农业", "文化传媒", "家政服务", "汽车维修", "食品"]
    while len(out) < ENTERPRISE_COUNT:
        uscc = demo_uscc(rng.choice(DISTRICTS) + "MA" + "".join(rng.choice(chars) for _i in range(7)))
        if uscc in seen:
            continue
        seen.add(uscc)
        legal = rng.choice(people)
        out.append(
            {
                "uscc": uscc,
                "name": f"广安{rng.choice('瑞恒鑫华盛兴达隆丰泰')}{rng.choice('源通宇和创远嘉')}"
                f"{rng.choice(trades)}有限公司",
                "legal": legal["name"],
                "legal_id": legal["id"],
            }
        )
    return out


def _enterprise_csv(rng: random.Random, enterprises: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
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
        )
        for e in enterprises:
            demo = e.get("demo")
            uscc = e["uscc"]
            if not demo and rng.random() < 0.03:
                uscc = uscc[:17] + rng.choice([c for c in USCC_CHARSET if c != uscc[17]])
            founded = TODAY - dt.timedelta(days=rng.randrange(30, 9000))
            updated = TODAY - dt.timedelta(days=rng.randrange(0, 600))
            if not demo and rng.random() < 0.04:
                updated = TODAY - dt.timedelta(days=rng.randrange(800, 3000))
            writer.writerow(
                [
                    uscc.lower() if rng.random() < 0.02 else uscc,
                    e["name"],
                    "" if (not demo and rng.random() < 0.02) else e["legal"],
                    e["legal_id"],
                    uscc[2:8],
                    f"{founded.year}年{founded.month}月{founded.day}日",
                    "1" if demo else rng.choices(["1", "2", "3"], weights=[88, 9, 3])[0],
                    str(rng.randrange(10, 5000)),
                    updated.isoformat(),
                ]
            )


def _tax_rows(rng: random.Random, enterprises: list[dict]) -> list[dict]:
    rows = []
    for e in enterprises:
        arrears = e["name"] == "广安示例建材贸易有限公司" or (not e.get("demo") and rng.random() < 0.06)
        rows.append(
            {
                "uscc": e["uscc"],
                "name": e["name"],
                "arrears": "1" if arrears else "0",
                "arrears_amount": str(rng.randrange(500, 200000)) if arrears else "0",
                "credit_rating": "A"
                if e.get("demo")
                else rng.choices("ABMCD", weights=[30, 40, 15, 10, 5])[0],
                "updated_on": (TODAY - dt.timedelta(days=rng.randrange(0, 390))).isoformat(),
            }
        )
    return rows


def load_exchange(step=None) -> dict:
    """Create what is missing of the demo exchange; returns counts of what was made."""
    step = step or (lambda label: None)
    made = {"resources": 0, "records": 0, "grants": 0, "calls": 0}
    for spec in RESOURCES:
        existing = Resource.objects.filter(code=spec["code"]).first()
        if existing is None and Department.objects.filter(code=spec["provider_code"]).exists():
            services.save_resource(SEED_ACTOR, **spec)
            made["resources"] += 1
        elif existing is not None and set(spec["predicates"]) - set(existing.predicates):
            # A demo made before a predicate was added (e.g. real_name, for 实名认证) gets it.
            predicates = {**spec["predicates"], **existing.predicates}
            services.save_resource(
                SEED_ACTOR, **{**spec, "adapter_config": existing.adapter_config, "predicates": predicates}
            )
    held = dict(Resource.objects.values_list("code", "record_count"))
    rng = random.Random(20261122)
    people = _persons(rng)
    enterprises = _enterprises(rng, people)
    employers = [e["uscc"] for e in enterprises[:400]]
    loaders = [
        ("population", lambda: _population_rows(random.Random(1), people)),
        ("civil_affairs", lambda: _civil_rows(random.Random(2), people)),
        ("social_insurance", lambda: _social_rows(random.Random(3), people, employers)),
        ("tax", lambda: _tax_rows(random.Random(4), enterprises)),
    ]
    for code, rows in loaders:
        if code in held and not held[code]:
            step(f"exchange: {code}")
            made["records"] += services.import_rows(SEED_ACTOR, code, rows(), source="demo").imported
    if "enterprises" in held and not held["enterprises"]:
        step("exchange: enterprises")
        folder = Path(settings.VAR_DIR) / "exchange" / "enterprises"
        folder.mkdir(parents=True, exist_ok=True)
        Resource.objects.filter(code="enterprises").update(adapter_config={"folder": str(folder)})
        _enterprise_csv(random.Random(5), enterprises, folder / f"scjg_{TODAY:%Y%m%d}.csv")
        report = services.scan_drop_folder(SEED_ACTOR, "enterprises")
        made["records"] += report.imported if report else 0
    step("exchange: grants")
    made["grants"] = _grants()
    for resource_code, field_key, reason in NEGATIVE:
        if (
            Resource.objects.filter(code=resource_code).exists()
            and not NegativeEntry.objects.filter(resource__code=resource_code, field=field_key).exists()
        ):
            services.add_negative(SEED_ACTOR, resource_code=resource_code, field_key=field_key, reason=reason)
    if not Call.objects.exists():
        made["calls"] = _sample_calls(people)
    return made


def _grants() -> int:
    made = 0
    until = timezone.localdate() + dt.timedelta(days=730)
    for consumer, resource, fields, purpose, basis, state in GRANTS:
        if not (
            Department.objects.filter(code=consumer).exists()
            and Resource.objects.filter(code=resource).exists()
        ):
            continue
        if Grant.objects.filter(consumer__code=consumer, resource__code=resource, purpose=purpose).exists():
            continue
        grant = services.request_grant(
            SEED_ACTOR,
            consumer_code=consumer,
            resource_code=resource,
            fields=fields,
            purpose=purpose,
            legal_basis=basis,
            valid_until=until,
        )
        if state in ("approved", "provider_approved"):
            services.decide(SEED_ACTOR, grant.reference, approve=True, note="同意")
        if state == "approved":
            services.decide(SEED_ACTOR, grant.reference, approve=True, note="同意，按最小必要原则使用")
        made += 1
    return made


def _sample_calls(people: list[dict]) -> int:
    """A morning's traffic, so the call log and statistics have something to show."""
    plan = [
        ("xzspj", "verify", "population", "registered", {}),
        ("xzspj", "verify", "population", "alive_in_district", {"district": "511602"}),
        ("rsj", "query", "population", ["status", "region"], {}),
        ("mzj", "verify", "population", "registered", {}),
        ("zrzyj", "query", "civil_affairs", ["marital_status"], {}),
        ("ybj", "query", "social_insurance", ["insured", "contribution_months"], {}),
        ("wjj", "query", "population", ["name", "status"], {}),  # its grant is still pending: refused
        ("zrzyj", "query", "civil_affairs", ["spouse_name"], {}),  # outside the grant: refused
    ]
    made = 0
    for n, person in enumerate(people[:40]):
        consumer, kind, resource, what, params = plan[n % len(plan)]
        try:
            if kind == "verify":
                services.verify(
                    SEED_ACTOR,
                    resource,
                    what,
                    subject=person["id"],
                    params=params,
                    purpose="演示调用",
                    department_code=consumer,
                )
            else:
                services.query(
                    SEED_ACTOR,
                    resource,
                    subject=person["id"],
                    fields=what,
                    purpose="演示调用",
                    department_code=consumer,
                )
        except services.Refused:
            pass
        made += 1
    return made
