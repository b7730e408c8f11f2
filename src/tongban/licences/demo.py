"""The nine licence types of the demo city (`tongban seed`), each with the department that issues
it there. Idempotent: a type that exists is left as it is."""

from tongban.accounts.models import Department

from .models import HolderKind, LicenceType

_TEXT, _DATE = "text", "date"


def _f(key: str, label: str, kind: str = _TEXT, required: bool = True, source: tuple = ()) -> dict:
    """A licence field; `source` names the application-form keys a case's result fills it from."""
    spec = {"key": key, "label": label, "type": kind, "required": required}
    if source:
        spec["from"] = list(source)
    return spec


TYPES = [
    (
        "business_licence",
        "营业执照",
        HolderKind.ENTERPRISE,
        "xzspj",
        None,
        [
            _f("legal_representative", "法定代表人", source=("legal_representative_name", "applicant_name")),
            _f("address", "住所", source=("registered_address", "business_address")),
            _f("scope", "经营范围", source=("business_scope",)),
            _f("founded", "成立日期", _DATE, required=False),
        ],
    ),
    (
        "food_business_licence",
        "食品经营许可证",
        HolderKind.ENTERPRISE,
        "xzspj",
        5,
        [
            _f("business_form", "主体业态", source=("business_form",)),
            _f("business_items", "经营项目", source=("business_items",)),
            _f("address", "经营场所", source=("business_address",)),
            _f("food_safety_manager", "食品安全管理人员", required=False, source=("food_safety_manager",)),
        ],
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
        "birth_medical_certificate",
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
        "household_register",
        "户口登记",
        HolderKind.PERSON,
        "gaj",
        None,
        [_f("address", "住址"), _f("relation", "与户主关系")],
    ),
    (
        "resident_id",
        "居民身份证",
        HolderKind.PERSON,
        "gaj",
        20,
        [_f("address", "住址"), _f("issuing_authority", "签发机关")],
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
        # Issued by 秒批 of 就业登记 (the catalogue's item names this type).
        "employment_certificate",
        "就业登记证明",
        HolderKind.PERSON,
        "rsj",
        None,
        [
            _f("employment_type", "就业形式", source=("employment_type",)),
            _f("employer", "就业单位", required=False, source=("enterprise_name",)),
            _f("employed_on", "就业日期", _DATE, source=("employment_date",)),
        ],
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


def load_licences(now=None) -> int:
    """Licences the demo people already hold — ID cards, business licences, a marriage certificate —
    so 免提交 and the wallet have something to show; one revoked, one expired. Idempotent: a holder
    who has a licence of a type is given no second one."""
    import datetime as dt

    from django.utils import timezone

    from tongban.accounts.seed import CITIZENS, ENTERPRISES, SEED_ACTOR, demo_id_number, demo_uscc

    from . import services
    from .models import Licence

    now = now or timezone.now()
    today = timezone.localdate(now)

    def years_ago(n: int) -> dt.date:
        return today.replace(year=today.year - n, day=min(today.day, 28))

    people = {name: demo_id_number(region, born, seq) for _u, name, region, born, seq, _p in CITIZENS}
    home = "四川省广安市广安区示例路 8 号"
    wanted = [
        (
            "resident_id",
            number,
            name,
            {"address": home, "issuing_authority": "广安市公安局广安区分局"},
            years_ago(3),
        )
        for name, number in people.items()
    ]
    zhang, wang = people["张三"], people["王五"]
    wanted += [
        ("social_security_card", zhang, "张三", {"card_number": "S51160200000013"}, years_ago(2)),
        (
            "marriage_certificate",
            zhang,
            "张三",
            {"spouse": "李四", "registered_on": "2015-10-01"},
            years_ago(9),
        ),
        # 王五's card expired: the wallet shows it as such.
        ("social_security_card", wang, "王五", {"card_number": "S51162100000035"}, years_ago(11)),
    ]
    for body, name, legal_rep, _agent in ENTERPRISES:
        scope = "餐饮服务；食品销售" if "餐饮" in name else "建材批发、零售"
        fields = {
            "legal_representative": legal_rep,
            "address": "四川省广安市广安区示例大道 18 号",
            "scope": scope,
        }
        wanted.append(("business_licence", demo_uscc(body), name, fields, years_ago(4)))
    # A food licence of the building-materials company, revoked after an inspection.
    building, building_name = demo_uscc(ENTERPRISES[1][0]), ENTERPRISES[1][1]
    food = {
        "business_form": "食品销售经营者",
        "business_items": "预包装食品销售",
        "address": "广安区示例大道 18 号",
    }
    wanted.append(("food_business_licence", building, building_name, food, years_ago(1)))
    revoked = {("food_business_licence", building): "现场核查发现经营场所与许可内容不符，依法撤销"}

    types = dict(LicenceType.objects.values_list("code", "holder_kind"))
    created = 0
    for type_code, holder, name, fields, valid_from in wanted:
        if type_code not in types:
            continue
        index = services.holder_index(types[type_code], holder)
        if Licence.objects.filter(licence_type__code=type_code, holder_index=index).exists():
            continue
        licence = services.issue(
            SEED_ACTOR,
            type_code,
            holder_id=holder,
            holder_name=name,
            fields=fields,
            valid_from=valid_from,
            now=now,
        )
        if reason := revoked.get((type_code, holder)):
            services.revoke(SEED_ACTOR, licence.code, reason=reason, now=now)
        created += 1
    return created
