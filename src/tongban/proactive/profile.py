"""The data items a policy condition may read about an enterprise, and where each comes from.

Each item is one field of one exchange resource, with the type the rule language sees (records
carry dates as ISO text; a condition compares them as dates). This list is also what the
"what we know and why" view shows: nothing outside it is ever read for matching.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Item:
    name: str  # the name a condition uses
    resource: str  # exchange resource code
    field: str  # its field
    kind: str  # number | string | boolean | date
    label: object


ENTERPRISE_ITEMS = [
    Item("status", "enterprises", "status", "string", _("registration status (登记状态)")),
    Item("registered_on", "enterprises", "registered_on", "date", _("date founded (成立日期)")),
    Item("capital", "enterprises", "capital", "number", _("registered capital, 10k yuan (注册资本)")),
    Item("region", "enterprises", "region", "string", _("registration region (登记机关区划)")),
    Item("tax_arrears", "tax", "arrears", "boolean", _("owes tax (是否欠税)")),
    Item("tax_credit", "tax", "credit_rating", "string", _("tax credit rating (纳税信用等级)")),
    Item("employees", "employment", "employees", "number", _("insured employees (参保职工人数)")),
    Item("layoff_rate", "employment", "layoff_rate", "number", _("last year's layoff rate, % (裁员率)")),
    Item(
        "ui_months",
        "employment",
        "unemployment_insurance_months",
        "number",
        _("months of unemployment insurance paid in full (失业保险缴费月数)"),
    ),
    Item(
        "startup_loan",
        "employment",
        "startup_loan",
        "number",
        _("start-up guaranteed loan, 10k yuan (创业担保贷款)"),
    ),
    Item(
        "revenue",
        "enterprise_finance",
        "annual_revenue",
        "number",
        _("last year's revenue, 10k yuan (营业收入)"),
    ),
    Item(
        "rd_ratio",
        "enterprise_finance",
        "rd_ratio",
        "number",
        _("R&D spending share of revenue, % (研发费用占比)"),
    ),
    Item(
        "high_tech",
        "enterprise_finance",
        "high_tech",
        "boolean",
        _("recognised high-tech enterprise (高新技术企业)"),
    ),
]

ITEMS = {item.name: item for item in ENTERPRISE_ITEMS}


def by_resource(names) -> dict[str, list[Item]]:
    """The items of these names, grouped by the resource they come from."""
    grouped: dict[str, list[Item]] = {}
    for name in sorted(names):
        item = ITEMS.get(name)
        if item is not None:
            grouped.setdefault(item.resource, []).append(item)
    return grouped


def typed(item: Item, value):
    """A record's value as the rule language should compare it; None when it is not of the kind."""
    if value is None or value == "":
        return None
    if item.kind == "date":
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return None
    if item.kind == "number":
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float | Decimal):
            return value
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    if item.kind == "boolean":
        return value if isinstance(value, bool) else None
    return str(value)
