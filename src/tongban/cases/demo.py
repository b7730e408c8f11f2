"""秒批 rule tables for the auto-approvable items of the demo catalogue (`tongban seed`).

Each is what an administrator would write in the rule editor: the rules read the application
form and the verification checks (cases.verification) and either approve or hand the case to a
person. Loading is idempotent: an item that already has a published table keeps it.
"""

from tongban.catalog.models import ServiceItem
from tongban.core.authz import SYSTEM

from .models import DecisionTable, TableStatus
from .services import tables

_ACCOUNT = {"key": "check.applicant_has_account", "label": "申请人已实名注册", "type": "boolean"}
_COMPLETE = {"key": "check.materials_complete", "label": "材料齐全", "type": "boolean"}
_DUPLICATE = {"key": "check.duplicate_open_case", "label": "同一事项有在办件", "type": "boolean"}
_AGE = {"key": "check.applicant_age", "label": "申请人年龄", "type": "number"}
_ENTERPRISE = {"key": "check.enterprise_registered", "label": "企业已登记", "type": "boolean"}
_DECISION = [
    {"key": "decision", "label": "结论", "type": "string"},
    {"key": "reason", "label": "理由", "type": "string"},
]


def _table(name: str, inputs: list[dict], approve_when: list[str], reason: str) -> dict:
    return {
        "name": name,
        "hit_policy": "FIRST",
        "inputs": inputs,
        "outputs": _DECISION,
        "rules": [
            {"id": "approve", "when": approve_when, "then": ["approve", reason]},
            {
                "id": "to_person",
                "when": ["-"] * len(inputs),
                "then": ["manual", "不满足秒批条件，转人工审核"],
            },
        ],
    }


DEMO_TABLES = {
    # 80周岁以上老年人高龄津贴发放: age from the ID card, nothing for a person to judge.
    "512B0003600037-511602000000-000-11511301008778298W-1-00": _table(
        "高龄津贴秒批", [_AGE, _COMPLETE, _DUPLICATE], [">= 80", "true", "false"], "年满80周岁，材料齐全"
    ),
    # 城乡居民基本养老保险待遇申领.
    "512B0359600025-511602000000-000-12511301452262044F-1-00": _table(
        "养老保险待遇申领秒批",
        [_AGE, _COMPLETE, _DUPLICATE],
        [">= 60", "true", "false"],
        "达到领取年龄，材料齐全",
    ),
    # 就业登记 and 失业登记: registration facts, checked against the account and the materials.
    "512B0066800001-511602000000-000-1151130108778239R-1-00": _table(
        "就业登记秒批", [_ACCOUNT, _COMPLETE, _DUPLICATE], ["true", "true", "false"], "实名注册，材料齐全"
    ),
    "512B0066800002-511602000000-000-1151130108778239R-1-00": _table(
        "失业登记秒批", [_ACCOUNT, _COMPLETE, _DUPLICATE], ["true", "true", "false"], "实名注册，材料齐全"
    ),
    # 公章刻制备案: the enterprise must be on record.
    "DEMO-GAJ-SEAL-FILING": _table(
        "公章刻制备案秒批", [_ENTERPRISE, _COMPLETE], ["true", "true"], "企业已登记，材料齐全"
    ),
    # 企业职工参保登记: a contribution base inside the city's published range.
    "512B0067900008-511602000000-000-1151130108778239R-1-00": _table(
        "企业职工参保登记秒批",
        [_COMPLETE, {"key": "data.contribution_base", "label": "缴费基数", "type": "number"}],
        ["true", "[3000..30000]"],
        "材料齐全，缴费基数在公布范围内",
    ),
}


def load_rules() -> int:
    """Publish the demo tables of auto-approvable items that have none yet; returns how many."""
    published = 0
    for code, table in DEMO_TABLES.items():
        item = ServiceItem.objects.select_related("current").filter(code=code).first()
        if item is None or item.current is None or not item.current.auto_approvable:
            continue
        if DecisionTable.objects.filter(item=item, status=TableStatus.PUBLISHED).exists():
            continue
        tables.save_draft(SYSTEM, code, table=table)
        tables.publish(SYSTEM, code)
        published += 1
    return published


# --- sample cases: something in every console on the first visit ----------------------------------

SAMPLE_DEPARTMENT = "scjgj-spjyk"  # the demo reviewer's and section head's section (食品经营监管科)
# 食品经营许可核发: 行政审批局 accepts it at the window; in the demo city the 审查 (on-site check)
# and 审批 are done by 市场监管局's 食品经营监管科, where the demo reviewer and section head work.
FOOD_LICENCE = "511A0005200004-511602000000-000-115113016823646795-1-00"


def load_demo_process() -> bool:
    """Publish the demo process of 食品经营许可核发 (unless one is published); True if it was."""
    from tongban.accounts.models import Department
    from tongban.workflow import builder
    from tongban.workflow import services as workflow

    item = ServiceItem.objects.select_related("current").filter(code=FOOD_LICENCE).first()
    department = Department.objects.filter(code=SAMPLE_DEPARTMENT).first()
    if item is None or item.current is None or department is None:
        return False
    key = builder.item_key(item.code)
    if workflow.published_definition(key):
        return False
    xml = builder.item_process(
        item.code, item.current.name, department.code, item.current.promised_limit_days
    )
    workflow.publish_definition(SYSTEM, key=key, bpmn_xml=xml, department=department)
    return True


SAMPLE_NAMES = ["川味小馆", "老街面馆", "渠江鱼庄", "邻里便利店", "学苑食堂", "晨光烘焙"]


def _sample_enterprise(n: int, applicant) -> str:
    """The n-th sample restaurant, registered with its applicant as legal representative (a licence
    goes only to an enterprise its applicant may act for); returns its credit code."""
    from tongban.accounts import services as accounts
    from tongban.accounts.models import Enterprise
    from tongban.accounts.seed import demo_uscc

    uscc = demo_uscc(f"511602MA62K3L{n:02d}")
    if not Enterprise.objects.filter(uscc=uscc).exists():
        accounts.register_enterprise(
            SYSTEM,
            uscc=uscc,
            name=f"广安区{SAMPLE_NAMES[n % len(SAMPLE_NAMES)]}",
            legal_representative_id_number=applicant.person.id_number,
        )
    return uscc


def _sample_data(n: int, uscc: str = "", legal_representative: str = "张三") -> dict:
    """The 食品经营许可 form of the n-th sample applicant's restaurant."""
    from tongban.accounts.seed import demo_uscc

    names = SAMPLE_NAMES
    return {
        "enterprise_name": f"广安区{names[n % len(names)]}",
        "uscc": uscc or demo_uscc(f"511602MA62K3L{n:02d}"),
        "legal_representative_name": legal_representative,
        "business_address": f"广安区中桥街道建设路{12 + n}号",
        "business_form": "食品销售经营者" if "便利店" in names[n % len(names)] else "餐饮服务经营者",
        "business_items": "热食类食品制售；冷食类食品制售",
        "food_safety_manager": "王安全",
        "phone": "13800000001",
    }


def load_sample_cases(now=None) -> int:
    """A few 食品经营许可 cases, driven through the services to where a visitor
    should find them: one waiting at the window, steps green and red in the worklist, one waiting
    for 补正, one issued and rated. Idempotent (keyed like any client's retries); returns how many
    were created."""
    import datetime as dt

    from django.utils import timezone

    from tongban.accounts.actors import Actor
    from tongban.accounts.models import User
    from tongban.core import calendar

    from . import services
    from .models import Case

    if Case.objects.filter(idempotency_key__startswith="demo-sample-").exists():
        return 0
    item = ServiceItem.objects.select_related("current").filter(code=FOOD_LICENCE).first()
    if item is None or item.current is None or not item.current.form_fields:
        return 0
    load_demo_process()
    users = {
        u.username: Actor(u)
        for u in User.objects.filter(username__in=["zhangsan", "lisi", "clerk", "reviewer", "section_head"])
    }
    if len(users) < 5:
        return 0
    now = now or timezone.now()
    cal = calendar.get_calendar()
    # Filed this many working days ago (0 = today), and how far the services take each.
    plan = [
        ("waiting", 0, "zhangsan"),
        ("review", 0, "lisi"),
        ("review_claimed", 1, "zhangsan"),
        ("overdue", 25, "lisi"),
        ("supplement", 2, "zhangsan"),
        ("rated", 6, "zhangsan"),
    ]
    for n, (state, days_ago, applicant) in enumerate(plan):
        filed = (
            timezone.make_aware(dt.datetime.combine(cal.add_working_days(now, -days_ago), dt.time(9, 30)))
            if days_ago
            else now - dt.timedelta(minutes=30)
        )
        uscc = _sample_enterprise(n, users[applicant])
        # A fresh actor: one made before the enterprise existed has its representations cached.
        case = services.apply_online(
            Actor(users[applicant].user),
            item_code=item.code,
            enterprise_uscc=uscc,
            data=_sample_data(n, uscc, users[applicant].person.name),
            idempotency_key=f"demo-sample-{n}",
            reuse_consent=True,
            now=filed,
        )
        if state == "waiting":
            continue
        services.accept(users["clerk"], case.number, now=filed + dt.timedelta(minutes=20))
        if state in ("review", "overdue"):
            continue
        step = services.open_work(users["clerk"], case.number)[0]
        services.claim_work(users["reviewer"], step.public_id)
        if state == "supplement":
            services.request_supplement(
                users["reviewer"],
                case.number,
                items=[{"material": "经营场所平面布局图", "reason": "请补充标明功能分区的平面图"}],
                work_id=step.public_id,
            )
        elif state == "rated":  # reviewed, decided and issued today, rated at once
            services.complete_work(
                users["reviewer"], step.public_id, decision="approve", opinion="材料齐全，同意"
            )
            step = services.open_work(users["clerk"], case.number)[0]
            services.claim_work(users["section_head"], step.public_id)
            services.complete_work(users["section_head"], step.public_id, decision="approve", opinion="同意")
            services.issue(users["clerk"], case.number, delivery="online")
            services.rate(users[applicant], case.number, score=5, comment="办得很快")
    return len(plan)
