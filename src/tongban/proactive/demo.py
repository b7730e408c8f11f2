"""The demo city's enterprise policies (`tongban seed`): two more shared-data resources about every
enterprise the market register knows (用工参保 from 人社, 经营与研发 from 税务), grants for the
enterprise-service section to read them for policy matching, and three realistic policies, two of
them 免申即享. Needs the exchange demo first. Idempotent.

The demo enterprises are set up to tell the story: 广安区示例餐饮有限公司 qualifies for 稳岗返还
(granted without application) and 创业担保贷款贴息 (a notice: apply), but is no high-tech firm;
广安示例建材贸易有限公司 owes tax, so no 稳岗返还, but is a high-tech firm with an award.
"""

import datetime as dt
import random

from django.utils import timezone

from tongban.accounts.models import Department
from tongban.accounts.seed import ENTERPRISES, demo_uscc
from tongban.core.authz import SystemActor
from tongban.exchange import services as exchange
from tongban.exchange.models import AdapterKind, Frequency, Grant, KeyKind, Resource

from . import services
from .models import Policy, PolicyKind

SEED_ACTOR = SystemActor("operator:seed")
DEPARTMENT = "xzspj-qyfwk"  # 行政审批局企业服务科: the proactive-services desk
GRANT_PURPOSE = "政策精准推送与免申即享（主动服务）"


def _f(key, label, level="internal", *, required=False):
    return {"key": key, "label": label, "level": level, "personal": False, "required": required}


RESOURCES = [
    {
        "code": "employment",
        "name": "企业用工与参保信息",
        "subject": "企业参保用工",
        "provider_code": "rsj",
        "key_kind": KeyKind.ENTERPRISE,
        "key_field": "uscc",
        "frequency": Frequency.MONTHLY,
        "adapter": AdapterKind.TABLE,
        "description": "人社部门：单位参保职工人数、裁员率、失业保险缴费与创业担保贷款。",
        "fields": [
            _f("uscc", "统一社会信用代码", "public", required=True),
            _f("employees", "参保职工人数"),
            _f("layoff_rate", "上年度裁员率（%）"),
            _f("unemployment_insurance_months", "连续足额缴纳失业保险月数"),
            _f("startup_loan", "创业担保贷款余额（万元）"),
            _f("updated_on", "更新日期", "public"),
        ],
        "mapping": {
            "rules": {
                "uscc": ["uscc"],
                "employees": ["int"],
                "unemployment_insurance_months": ["int"],
                "startup_loan": ["int"],
                "updated_on": ["date:%Y-%m-%d"],
            },
            "updated_on": "updated_on",
        },
    },
    {
        "code": "enterprise_finance",
        "name": "企业经营与研发信息",
        "subject": "企业所得税年度申报",
        "provider_code": "swj",
        "key_kind": KeyKind.ENTERPRISE,
        "key_field": "uscc",
        "frequency": Frequency.MONTHLY,
        "adapter": AdapterKind.TABLE,
        "description": "税务部门：企业所得税年度申报中的营业收入、研发费用占比与高新技术企业资格。",
        "fields": [
            _f("uscc", "统一社会信用代码", "public", required=True),
            _f("annual_revenue", "上年度营业收入（万元）", "sensitive"),
            _f("rd_ratio", "研发费用占营业收入比例（%）"),
            _f("high_tech", "高新技术企业（享受15%优惠税率）"),
            _f("updated_on", "更新日期", "public"),
        ],
        "mapping": {
            "rules": {
                "uscc": ["uscc"],
                "annual_revenue": ["int"],
                "high_tech": ["bool"],
                "updated_on": ["date:%Y-%m-%d"],
            },
            "updated_on": "updated_on",
        },
    },
]

GRANTS = [
    ("enterprises", ["status", "registered_on", "capital", "region"]),
    ("tax", ["arrears", "credit_rating"]),
    ("employment", ["employees", "layoff_rate", "unemployment_insurance_months", "startup_loan"]),
    ("enterprise_finance", ["annual_revenue", "rd_ratio", "high_tech"]),
]

POLICIES = [
    {
        "code": "wengang-fanhuan",
        "name": "小微企业稳岗返还",
        "kind": PolicyKind.SUBSIDY,
        "issuer": "广安区人力资源和社会保障局",
        "benefit": "返还上年度实际缴纳失业保险费的60%",
        "legal_basis": "《失业保险条例》；人社部发〔2023〕37号 关于延续实施失业保险援企稳岗政策的通知",
        "summary": (
            "不裁员或少裁员的参保小微企业，按上年度实际缴纳失业保险费的60%返还，直接拨付企业账户，无需申请。"
        ),
        "automatic": True,
        "conditions": [
            {"label": "企业登记状态为存续", "expression": 'status = "存续"'},
            {"label": "参保职工不超过300人（小微企业）", "expression": "employees <= 300"},
            {"label": "上年度裁员率不高于5.5%", "expression": "layoff_rate <= 5.5"},
            {"label": "足额缴纳失业保险满12个月", "expression": "ui_months >= 12"},
            {"label": "无欠税", "expression": "tax_arrears = false"},
        ],
    },
    {
        "code": "gaoxin-jiangli",
        "name": "高新技术企业认定奖励",
        "kind": PolicyKind.AWARD,
        "issuer": "广安区科学技术局",
        "benefit": "一次性奖励10万元",
        "legal_basis": "《高新技术企业认定管理办法》（国科发火〔2016〕32号）",
        "summary": "在有效期内的国家高新技术企业，纳税信用良好、研发投入达标的，给予一次性奖励，免申即享。",
        "automatic": True,
        "conditions": [
            {"label": "具有高新技术企业资格", "expression": "high_tech = true"},
            {"label": "企业登记状态为存续", "expression": 'status = "存续"'},
            {"label": "纳税信用等级为A级或B级", "expression": 'tax_credit in ["A", "B"]'},
            {"label": "研发费用占营业收入比例不低于3%", "expression": "rd_ratio >= 3"},
        ],
    },
    {
        "code": "chuangye-tiexi",
        "name": "创业担保贷款贴息",
        "kind": PolicyKind.INTEREST,
        "issuer": "广安区人力资源和社会保障局、广安区财政局",
        "benefit": "按贷款合同利率的50%给予贴息，最长3年",
        "legal_basis": "财金〔2020〕21号 关于进一步加大创业担保贷款贴息力度全力支持重点群体创业就业的通知",
        "summary": (
            "取得创业担保贷款的小微企业可申请贴息；需提交贷款合同与付息凭证，因此推送通知、由企业申请。"
        ),
        "automatic": False,
        "conditions": [
            {"label": "有创业担保贷款余额", "expression": "startup_loan > 0"},
            {"label": "参保职工不超过100人", "expression": "employees <= 100"},
            {"label": "企业登记状态为存续", "expression": 'status = "存续"'},
            {"label": "无欠税", "expression": "tax_arrears = false"},
        ],
    },
]

# The demo enterprises' rows (by accounts.seed body): employment, then finance.
RESTAURANT, BUILDER = (demo_uscc(body) for body, *_rest in ENTERPRISES)
STORY = {
    RESTAURANT: (
        {"employees": "28", "layoff_rate": "0", "unemployment_insurance_months": "36", "startup_loan": "30"},
        {"annual_revenue": "650", "rd_ratio": "0.5", "high_tech": "0"},
    ),
    BUILDER: (
        {"employees": "86", "layoff_rate": "2.1", "unemployment_insurance_months": "60", "startup_loan": "0"},
        {"annual_revenue": "4200", "rd_ratio": "4.2", "high_tech": "1"},
    ),
}
TODAY = dt.date(2026, 11, 1)


def _rows(keys: list[str]) -> tuple[list[dict], list[dict]]:
    rng = random.Random(20261207)
    employment, finance = [], []
    for key in keys:
        updated = (TODAY - dt.timedelta(days=rng.randrange(0, 200))).isoformat()
        if key in STORY:
            jobs, money = STORY[key]
        else:
            employees = int(rng.lognormvariate(3, 1.2))
            jobs = {
                "employees": str(employees),
                "layoff_rate": f"{max(0.0, rng.gauss(3, 3)):.1f}",
                "unemployment_insurance_months": str(rng.randrange(0, 96)),
                "startup_loan": str(rng.choice([0] * 9 + [rng.randrange(10, 300)])),
            }
            revenue = int(employees * rng.uniform(20, 80))
            money = {
                "annual_revenue": str(revenue),
                "rd_ratio": f"{max(0.0, rng.gauss(2, 2)):.1f}",
                "high_tech": "1" if rng.random() < 0.08 else "0",
            }
            if rng.random() < 0.05:
                jobs.pop("layoff_rate")  # not reported: those firms stay undetermined for 稳岗返还
        employment.append({"uscc": key, **jobs, "updated_on": updated})
        finance.append({"uscc": key, **money, "updated_on": updated})
    return employment, finance


def load_policies() -> dict:
    """Create what is missing of the demo's policy matching; returns counts of what was made."""
    made = {"resources": 0, "records": 0, "grants": 0, "policies": 0}
    if not Resource.objects.filter(code="enterprises", record_count__gt=0).exists():
        return made  # the exchange demo is not loaded: nothing to match against
    if not Department.objects.filter(code=DEPARTMENT).exists():
        return made
    for spec in RESOURCES:
        if not Resource.objects.filter(code=spec["code"]).exists():
            exchange.save_resource(SEED_ACTOR, **spec)
            made["resources"] += 1
    if not Resource.objects.filter(code="employment", record_count__gt=0).exists():
        market = exchange.extract(
            SEED_ACTOR, "enterprises", fields=["uscc"], purpose="演示数据：企业名录", department_code="scjgj"
        )
        employment, finance = _rows(sorted(market.records))
        made["records"] += exchange.import_rows(SEED_ACTOR, "employment", employment, source="demo").imported
        made["records"] += exchange.import_rows(
            SEED_ACTOR, "enterprise_finance", finance, source="demo"
        ).imported
    until = timezone.localdate() + dt.timedelta(days=730)
    for resource, fields in GRANTS:
        if Grant.objects.filter(
            consumer__code="xzspj", resource__code=resource, purpose=GRANT_PURPOSE
        ).exists():
            continue
        grant = exchange.request_grant(
            SEED_ACTOR,
            consumer_code="xzspj",
            resource_code=resource,
            fields=fields,
            purpose=GRANT_PURPOSE,
            legal_basis="《优化营商环境条例》第三十五条；《国务院关于加快推进政务服务标准化规范化便利化的指导意见》",
            valid_until=until,
        )
        exchange.decide(SEED_ACTOR, grant.reference, approve=True, note="同意")
        exchange.decide(SEED_ACTOR, grant.reference, approve=True, note="同意，仅用于政策匹配")
        made["grants"] += 1
    for spec in POLICIES:
        if not Policy.objects.filter(code=spec["code"]).exists():
            services.save_policy(SEED_ACTOR, department_code=DEPARTMENT, **spec)
            made["policies"] += 1
    return made
