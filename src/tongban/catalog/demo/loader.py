"""The demo catalogue of 广安区: the real 1,135-item list plus full detail for high-frequency items.

1. `shared/data/catalog/service_items_guangan.csv` (names, codes, departments, taskType) is read in
   place (TONGBAN_DATA_DIR) and imported through the same bulk import service operators use, as
   published version 1 of each item. Departments of the list that the demo city lacks are created.
2. `high_frequency.toml` (next to this file) gives ~40 high-frequency items full detail — limits,
   materials, process steps, form fields, search keywords. Items of the list get it as version 2
   (so the demo shows versioning); items the district list lacks (city-level services such as
   不动产登记 or 公积金开户) are created with codes starting "DEMO-". Bundles (一件事) follow.

Idempotent: a second run imports nothing new and leaves published versions alone.
"""

import csv
import tomllib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from tongban.accounts import services as account_services
from tongban.accounts.models import Department, DepartmentKind
from tongban.core.authz import SystemActor

from .. import services
from ..models import TASK_TYPE_CODES, Bundle, ServiceItem, VersionStatus

ACTOR = SystemActor("operator:seed")
CATALOGUE_CSV = "catalog/service_items_guangan.csv"
DETAIL_FILE = Path(__file__).with_name("high_frequency.toml")
ROOT = "gov"

# Departments in the list that the demo city (accounts.seed) does not have: code, full name.
EXTRA_DEPARTMENTS = {
    "区交通运输局": ("jtysj", "广安区交通运输局"),
    "区文广旅局": ("wglj", "广安区文化广播电视和旅游局"),
    "区教科体局": ("jktj", "广安区教育科技和体育局"),
    "区农业农村局": ("nyncj", "广安区农业农村局"),
    "区司法局": ("sfj", "广安区司法局"),
    "区林业局": ("lyj", "广安区林业局"),
    "区生态环境局": ("sthjj", "广安市广安区生态环境局"),
    "区残联": ("cl", "广安区残疾人联合会"),
    "区水务局": ("swuj", "广安区水务局"),
    "区应急管理局": ("yjglj", "广安区应急管理局"),
    "区政府办": ("zfb", "广安区人民政府办公室"),
    "区烟草专卖局": ("yczmj", "广安区烟草专卖局"),
    "区气象局": ("qxj", "广安区气象局"),
    "区退役军人事务局": ("tyjrswj", "广安区退役军人事务局"),
    "区财政局": ("czj", "广安区财政局"),
    "区委办": ("qwb", "中共广安区委办公室"),
    "区综合执法局": ("zhzfj", "广安区综合行政执法局"),
    "区发改局": ("fgj", "广安区发展和改革局"),
    "区商务局": ("swj-commerce", "广安区商务局"),
    "区委统战部": ("tzb", "中共广安区委统战部"),
    "区经信局": ("jxj", "广安区经济和信息化局"),
    "区消防大队": ("xfdd", "广安区消防救援大队"),
    "区统计局": ("tjj", "广安区统计局"),
}


@dataclass
class LoadReport:
    catalogue_rows: int = 0
    created: int = 0
    detailed: int = 0
    bundles: int = 0
    skipped_reason: str = ""


def catalogue_path() -> Path:
    return Path(settings.DATA_DIR) / CATALOGUE_CSV


def _department_codes() -> dict[str, str]:
    """Map the list's department names (区市监局 …) to department codes, creating missing bureaus."""
    by_short = {d.short_name: d.code for d in Department.objects.exclude(short_name="")}
    for short, (code, name) in EXTRA_DEPARTMENTS.items():
        if short not in by_short:
            if not Department.objects.filter(code=code).exists():
                account_services.create_department(
                    ACTOR,
                    code=code,
                    name=name,
                    short_name=short,
                    kind=DepartmentKind.BUREAU,
                    region_code="511602",
                    parent_code=ROOT,
                )
            by_short[short] = code
    return by_short


def load_catalogue_list(path: Path | None = None) -> tuple[int, int]:
    """Import the real list; returns (rows read, items created)."""
    path = path or catalogue_path()
    departments = _department_codes()
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for record in csv.DictReader(fh):
            parent = record["主事项"].strip()
            rows.append(
                {
                    "code": record["事项编码"].strip(),
                    "department_code": departments[record["部门"].strip()],
                    "name": record["事项名称"].strip(),
                    "parent_name": "" if parent == "未分类" else parent,
                    "item_type": TASK_TYPE_CODES[record["taskType"].strip()],
                }
            )
    known = set(ServiceItem.objects.values_list("code", flat=True))
    new_rows = [r for r in rows if r["code"] not in known]
    if new_rows:
        report = services.import_items(ACTOR, new_rows, publish=True, source="catalogue:guangan")
        if not report.ok:
            problems = "; ".join(f"row {p.row} {p.field}: {p.message}" for p in report.problems[:5])
            raise ValueError(f"the catalogue list does not import: {problems}")
    return len(rows), len(new_rows)


def load_detail(path: Path = DETAIL_FILE) -> tuple[int, int]:
    """Give high-frequency items full detail and create the bundles; returns (items, bundles) done now."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    _department_codes()  # items of bureaus the city lacks (残联, 交通运输局 …) need them, list or not
    detailed = 0
    for spec in data.get("item", []):
        spec = dict(spec)
        code, department = spec.pop("code"), spec.pop("department")
        materials = spec.pop("materials", [])
        item = ServiceItem.objects.filter(code=code).first()
        # Detail is published as version 2 of a listed item, or as version 1 of an item it created.
        detailed_from = 1 if item is not None and item.source == "demo" else 2
        if (
            item is not None
            and item.versions.filter(status=VersionStatus.PUBLISHED, number__gte=detailed_from).exists()
        ):
            continue  # detail already published
        if item is None:
            services.create_item(ACTOR, code=code, department_code=department, source="demo", **spec)
        else:
            services.update_item(ACTOR, code, **spec)
        services.set_materials(ACTOR, code, materials)
        services.publish_item(ACTOR, code)
        detailed += 1
    bundles = 0
    for spec in data.get("bundle", []):
        if Bundle.objects.filter(code=spec["code"]).exists():
            continue
        services.create_bundle(ACTOR, publish=True, **spec)
        bundles += 1
    return detailed, bundles


def load_demo_catalogue(step=None) -> LoadReport:
    step = step or (lambda label: None)
    report = LoadReport()
    if catalogue_path().exists():
        step("catalogue list")
        report.catalogue_rows, report.created = load_catalogue_list()
    else:
        report.skipped_reason = f"{catalogue_path()} not found (set TONGBAN_DATA_DIR)"
    step("high-frequency items")
    report.detailed, report.bundles = load_detail()
    return report
