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
