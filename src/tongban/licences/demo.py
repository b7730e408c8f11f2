"""The seven licence types of the demo city (`tongban seed`), each with the department that issues
it there. Idempotent: a type that exists is left as it is."""

from tongban.accounts.models import Department

from .models import HolderKind, LicenceType

_TEXT, _DATE = "text", "date"


def _f(key: str, label: str, kind: str = _TEXT, required: bool = True) -> dict:
    return {"key": key, "label": label, "type": kind, "required": required}


TYPES = [
    (
        "business_licence",
        "营业执照",
        HolderKind.ENTERPRISE,
        "xzspj",
        None,
        [
            _f("legal_representative", "法定代表人"),
            _f("address", "住所"),
            _f("scope", "经营范围"),
            _f("founded", "成立日期", _DATE),
        ],
    ),
    (
        "food_business_licence",
        "食品经营许可证",
        HolderKind.ENTERPRISE,
        "xzspj",
        5,
        [_f("business_form", "主体业态"), _f("business_items", "经营项目"), _f("address", "经营场所")],
    ),
    (
        "real_estate_certificate",
        "不动产权证书",
        HolderKind.PERSON,
        "zrzyj",
        None,
        [_f("location", "坐落"), _f("unit_number", "不动产单元号"), _f("area", "面积（平方米）", "number")],
    ),
    (
        "birth_certificate",
        "出生医学证明",
        HolderKind.PERSON,
        "wjj",
        None,
        [
            _f("born_on", "出生日期", _DATE),
            _f("birthplace", "出生地点"),
            _f("mother", "母亲姓名"),
            _f("father", "父亲姓名", required=False),
        ],
    ),
    (
        "household_registration",
        "户口登记",
        HolderKind.PERSON,
        "gaj",
        None,
        [_f("address", "住址"), _f("relation", "与户主关系")],
    ),
    (
        "social_security_card",
        "社会保障卡",
        HolderKind.PERSON,
        "rsj",
        10,
        [_f("card_number", "卡号")],
    ),
    (
        "marriage_certificate",
        "结婚证",
        HolderKind.PERSON,
        "mzj",
        None,
        [_f("spouse", "配偶姓名"), _f("registered_on", "登记日期", _DATE)],
    ),
]


def load_types() -> int:
    """Create the demo licence types that are missing; returns how many were created."""
    created = 0
    departments = {d.code: d for d in Department.objects.filter(code__in={t[3] for t in TYPES})}
    for code, name, holder_kind, department, years, fields in TYPES:
        if department not in departments or LicenceType.objects.filter(code=code).exists():
            continue
        LicenceType.objects.create(
            code=code,
            name=name,
            holder_kind=holder_kind,
            department=departments[department],
            validity_years=years,
            fields=fields,
        )
        created += 1
    return created
