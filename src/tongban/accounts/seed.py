"""The demo city: 广安市广安区 (the district whose real service catalogue is in shared/data).

Idempotent: each object is looked up by its public code first, so running the seed twice
changes nothing and keeps every demo user's password and TOTP secret. Objects are created
through the services, so the seed passes the same validation and leaves the same journal
entries as an operator would.

Province, city and county codes are real GB/T 2260 codes; the township codes and all people,
phone numbers, enterprises and credit codes are invented (with valid check characters).
"""

import base64
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongban.core.authz import SystemActor
from tongban.core.identifiers import id_check_char, uscc_check_char

from . import identity, services
from .models import (
    AssuranceLevel,
    Department,
    DepartmentKind,
    Enterprise,
    Person,
    Region,
    Role,
    ServiceCentre,
    Staff,
    User,
    UserKind,
    Window,
    WindowKind,
)
from .roles import SUBTREE_BY_DEFAULT

SEED_ACTOR = SystemActor("operator:seed")

REGIONS = [
    ("510000", "四川省"),
    ("511600", "广安市"),
    ("511602", "广安区"),
    ("511603", "前锋区"),
    ("511621", "岳池县"),
    ("511622", "武胜县"),
    ("511623", "邻水县"),
    ("511681", "华蓥市"),
    ("511602001", "浓洄街道（示例）"),
    ("511602002", "北辰街道（示例）"),
]

ROOT = ("gov", "广安市广安区人民政府", "广安区政府", DepartmentKind.GOVERNMENT)
# (code, name, short name, sections)
BUREAUS = [
    ("xzspj", "广安区行政审批局", "区行政审批局", [("zhslk", "综合受理科"), ("qyfwk", "企业服务科")]),
    ("scjgj", "广安区市场监督管理局", "区市监局", [("djzck", "登记注册科"), ("spjyk", "食品经营监管科")]),
    ("gaj", "广安市公安局广安区分局", "区公安分局", [("hzk", "户政科")]),
    ("rsj", "广安区人力资源和社会保障局", "区人社局", [("shbxk", "社会保险科")]),
    ("zjj", "广安区住房和城乡建设局", "区住建局", [("jzglk", "建筑管理科")]),
    ("zrzyj", "广安区自然资源和规划局", "区自然资源和规划局", [("bdcdj", "不动产登记中心")]),
    ("swj", "国家税务总局广安市广安区税务局", "广安区税务局", [("nsfwk", "纳税服务科")]),
    ("mzj", "广安区民政局", "区民政局", [("hydjc", "婚姻登记处")]),
    ("wjj", "广安区卫生健康局", "区卫健局", [("yzk", "医政医管科")]),
    ("ybj", "广安区医疗保障局", "区医疗保障局", [("dybzk", "待遇保障股")]),
    ("ggb", "广安区政务服务管理办公室", "区公管办", [("xnjc", "效能监察股"), ("sjzy", "数据资源股")]),
    ("rx", "广安区12345政务服务便民热线中心", "12345热线中心", [("zx", "话务坐席组")]),
]

CENTRE = ("gaq-zwzx", "广安区政务服务中心", "xzspj")
WINDOWS = [
    ("01", "综合受理窗口一", WindowKind.COMPREHENSIVE, ""),
    ("02", "综合受理窗口二", WindowKind.COMPREHENSIVE, ""),
    ("03", "综合受理窗口三", WindowKind.COMPREHENSIVE, ""),
    ("05", "企业开办专区", WindowKind.ENTERPRISE, ""),
    ("06", "不动产登记窗口", WindowKind.SPECIALISED, "zrzyj"),
    ("07", "社保医保窗口", WindowKind.SPECIALISED, "rsj"),
    ("08", "办不成事反映窗口", WindowKind.HELP, ""),
]


@dataclass(frozen=True)
class DemoStaff:
    username: str
    name: str
    department: str
    role: str
    scope: str  # department code the role is held over
    title: str
    window: str = ""


STAFF = [
    DemoStaff("clerk", "王晓窗", "xzspj-zhslk", Role.CLERK, "xzspj-zhslk", "综合窗口受理员", "01"),
    DemoStaff("reviewer", "李审查", "scjgj-spjyk", Role.REVIEWER, "scjgj-spjyk", "审查员"),
    DemoStaff("section_head", "赵科长", "scjgj-spjyk", Role.SECTION_HEAD, "scjgj-spjyk", "科长"),
    DemoStaff("division_head", "钱处长", "scjgj", Role.DIVISION_HEAD, "scjgj", "副局长（分管审批）"),
    DemoStaff("bureau_head", "孙局长", "scjgj", Role.BUREAU_HEAD, "scjgj", "局长"),
    DemoStaff("supervisor", "周监察", "ggb-xnjc", Role.SUPERVISOR, "gov", "效能监察员"),
    DemoStaff("data_officer", "吴数据", "ggb-sjzy", Role.DATA_OFFICER, "gov", "数据管理员"),
    DemoStaff("admin", "郑管理", "ggb", Role.ADMIN, "gov", "系统管理员"),
    DemoStaff("reviewer_rs", "冯社保", "rsj-shbxk", Role.REVIEWER, "rsj-shbxk", "审查员"),
    # 12345: an operator of the hotline centre, and the bureaus' hotline handlers (接诉即办)
    DemoStaff("operator", "陈坐席", "rx-zx", Role.HOTLINE_OPERATOR, "rx", "热线坐席员"),
    DemoStaff("handler_zj", "林住建", "zjj", Role.REVIEWER, "zjj", "住建局热线办理员"),
    DemoStaff("handler_rs", "何人社", "rsj", Role.REVIEWER, "rsj", "人社局热线办理员"),
]


def demo_id_number(region: str, birth: dt.date, sequence: int) -> str:
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def demo_uscc(body15: str) -> str:
    first17 = "91" + body15
    return first17 + uscc_check_char(first17)


# (username or "", name, region, birth, sequence, phone)
CITIZENS = [
    ("zhangsan", "张三", "511602", dt.date(1985, 3, 12), 13, "13800000001"),
    ("lisi", "李四", "511602", dt.date(1990, 7, 1), 24, "13800000002"),
    ("", "王五", "511621", dt.date(1962, 11, 30), 35, "13800000003"),
]
ENTERPRISES = [
    ("511602MA62K3LP0", "广安区示例餐饮有限公司", "张三", "李四"),
    ("511602MA6B7QW1X", "广安示例建材贸易有限公司", "李四", None),
]


@dataclass
class SeedReport:
    created: int = 0
    existing: int = 0

    def count(self, created: bool) -> None:
        if created:
            self.created += 1
        else:
            self.existing += 1


def seed_demo(step=None) -> SeedReport:
    """Create what is missing of the demo city. `step(label)` is called as each part starts."""
    report = SeedReport()
    step = step or (lambda label: None)

    step("regions")
    for code, name in REGIONS:
        exists = Region.objects.filter(code=code).exists()
        if not exists:
            services.create_region(SEED_ACTOR, code=code, name=name)
        report.count(not exists)

    step("departments")
    root_code, root_name, root_short, root_kind = ROOT
    _department(report, code=root_code, name=root_name, short_name=root_short, kind=root_kind, parent_code="")
    for code, name, short, sections in BUREAUS:
        _department(
            report, code=code, name=name, short_name=short, kind=DepartmentKind.BUREAU, parent_code=root_code
        )
        for section_code, section_name in sections:
            _department(
                report,
                code=f"{code}-{section_code}",
                name=section_name,
                short_name="",
                kind=DepartmentKind.SECTION,
                parent_code=code,
            )

    step("service centre")
    centre_code, centre_name, operator = CENTRE
    exists = ServiceCentre.objects.filter(code=centre_code).exists()
    if not exists:
        services.create_service_centre(
            SEED_ACTOR, code=centre_code, name=centre_name, region_code="511602", department_code=operator
        )
    report.count(not exists)
    for number, name, kind, department in WINDOWS:
        exists = Window.objects.filter(centre__code=centre_code, number=number).exists()
        if not exists:
            services.create_window(
                SEED_ACTOR,
                centre_code=centre_code,
                number=number,
                name=name,
                kind=kind,
                department_code=department,
            )
        report.count(not exists)

    step("staff")
    for s in STAFF:
        _staff(report, s, centre_code)

    step("citizens and enterprises")
    for username, name, region, birth, seq, phone in CITIZENS:
        number = demo_id_number(region, birth, seq)
        exists = Person.objects.with_id_number(number).exists()
        if not exists:
            if username:
                services.register_citizen(
                    username=username,
                    password=settings.TONGBAN_DEMO_PASSWORD,
                    name=name,
                    id_number=number,
                    phone=phone,
                )
            else:
                services.register_person(SEED_ACTOR, name=name, id_number=number, phone=phone)
        report.count(not exists)
        if username:
            # The demo citizens use their wallets and 免提交 at once: the seed binds them at L2 and
            # records that the seed did it (IdentityVerification.method = seed), not a real check.
            user = User.objects.get(username=username)
            person = Person.objects.filter(user=user).first()
            if person is None or person.assurance_level < AssuranceLevel.PHONE:
                identity.verify_for_seed(SEED_ACTOR, user, level=AssuranceLevel.PHONE)
    by_name = {name: demo_id_number(region, birth, seq) for _u, name, region, birth, seq, _p in CITIZENS}
    for body, name, legal_rep, agent in ENTERPRISES:
        uscc = demo_uscc(body)
        exists = Enterprise.objects.filter(uscc=uscc).exists()
        if not exists:
            services.register_enterprise(
                SEED_ACTOR, uscc=uscc, name=name, legal_representative_id_number=by_name[legal_rep]
            )
            if agent:
                services.authorise_agent(SEED_ACTOR, uscc=uscc, agent_id_number=by_name[agent])
        report.count(not exists)
    return report


def _department(report: SeedReport, *, code, name, short_name, kind, parent_code) -> None:
    exists = Department.objects.filter(code=code).exists()
    if not exists:
        services.create_department(
            SEED_ACTOR,
            code=code,
            name=name,
            short_name=short_name,
            kind=kind,
            region_code="511602",
            parent_code=parent_code,
        )
    report.count(not exists)


def _staff(report: SeedReport, s: DemoStaff, centre_code: str) -> None:
    exists = User.objects.filter(username=s.username).exists()
    if not exists:
        if s.role == Role.ADMIN:
            staff = services.create_administrator(
                SEED_ACTOR,
                username=s.username,
                display_name=s.name,
                department_code=s.department,
                password=settings.TONGBAN_DEMO_PASSWORD,
            )
            services.assign_role(
                SEED_ACTOR, username=s.username, role=s.role, department_code=s.scope, include_subtree=True
            )
        else:
            staff = services.create_staff(
                SEED_ACTOR,
                username=s.username,
                display_name=s.name,
                department_code=s.department,
                password=settings.TONGBAN_DEMO_PASSWORD,
                title=s.title,
                roles=[],
            )
            services.assign_role(
                SEED_ACTOR,
                username=s.username,
                role=s.role,
                department_code=s.scope,
                include_subtree=s.role in SUBTREE_BY_DEFAULT,
            )
        if s.window:
            staff.window = Window.objects.get(centre__code=centre_code, number=s.window)
            staff.save(update_fields=["window"])
        # Demo staff get a confirmed authenticator secret, printed by `tongban demo`, so anyone can log in.
        TOTPDevice.objects.create(user=staff.user, name="demo authenticator", confirmed=True)
    report.count(not exists)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    kind: str
    role: str
    department: str
    totp_secret: str
    otpauth_uri: str


def demo_logins() -> list[DemoLogin]:
    rows = []
    for s in STAFF:
        staff = Staff.objects.select_related("user", "department").filter(user__username=s.username).first()
        if staff is None:
            continue
        device = TOTPDevice.objects.filter(user=staff.user, confirmed=True).first()
        secret = base64.b32encode(device.bin_key).decode() if device else ""
        rows.append(
            DemoLogin(
                s.username,
                s.name,
                UserKind.STAFF,
                str(Role(s.role).label),
                staff.department.name,
                secret,
                device.config_url if device else "",
            )
        )
    for username, name, *_rest in CITIZENS:
        if username and User.objects.filter(username=username).exists():
            rows.append(DemoLogin(username, name, UserKind.CITIZEN, str(UserKind.CITIZEN.label), "", "", ""))
    return rows
