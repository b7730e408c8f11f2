"""The demo 12345 centre: the taxonomy (read in place from the shared data), the bureaus the
first-level categories go to, the category → department map, and a few orders in every state.

Idempotent like the rest of the demo: what exists is kept. The sample orders are invented.
"""

import csv
from pathlib import Path

from django.conf import settings

from tongban.accounts import services as accounts
from tongban.accounts.models import Department, DepartmentKind
from tongban.core.authz import SystemActor

from . import services
from .models import Category, WorkOrder

SEED_ACTOR = SystemActor("operator:seed")

# Bureaus the demo city lacks but its hotline needs (code, name, short name).
BUREAUS = [
    ("jtj", "广安区交通运输局", "区交通局"),
    ("jyj", "广安区教育和体育局", "区教体局"),
    ("sthj", "广安市广安区生态环境局", "区生态环境局"),
    ("swjx", "广安区商务和经济信息化局", "区商经局"),
]
# The centre's first map: first-level category → department.
CATEGORY_MAP = {
    "城乡建设": "zjj",
    "劳动和社会保障": "rsj",
    "教育文体": "jyj",
    "商贸旅游": "swjx",
    "环境保护": "sthj",
    "卫生计生": "wjj",
    "交通运输": "jtj",
    "民政": "mzj",
    "国土资源": "zrzyj",
}

SAMPLES = [
    # (text, type, urgency, category, name, phone, address, how far it goes)
    (
        "建设路12号小区门口垃圾三天没人清运，天热臭味很大，请尽快处理。",
        "complaint",
        "normal",
        "城乡建设",
        "赵六",
        "13800001234",
        "广安区建设路12号",
        "registered",
    ),
    (
        "公司拖欠三个月工资不发，老板联系不上，工友二十多人。",
        "complaint",
        "urgent",
        "劳动和社会保障",
        "钱七",
        "13800005678",
        "广安区北辰街道工业园",
        "dispatched",
    ),
    (
        "北辰街道路口红绿灯坏了一整天，早晚高峰很危险。",
        "help",
        "critical",
        "交通运输",
        "",
        "13900001111",
        "广安区北辰街道中心路口",
        "replied",
    ),
    (
        "小区二次供水水箱长年不洗，自来水有霉味，请环保部门检测。",
        "complaint",
        "normal",
        "城乡建设",
        "孙八",
        "13900002222",
        "广安区浓洄街道华庭小区",
        "closed",
    ),
]


def taxonomy_file() -> Path:
    return Path(settings.DATA_DIR) / "hotline" / "taxonomy.csv"


def taxonomy_rows(path: Path | None = None) -> list[tuple[str, str, str]]:
    """The taxonomy's rows (一级分类, 二级分类, 三级分类), read in place; the first levels of the
    map alone when the shared data is absent."""
    path = path or taxonomy_file()
    if not path.exists():
        return [(name, "", "") for name in CATEGORY_MAP]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [(r["一级分类"], r["二级分类"], r["三级分类"]) for r in csv.DictReader(handle)]


def load_hotline() -> dict:
    """Seed the demo centre; returns what it counted."""
    report = {"categories": 0, "mapped": 0, "orders": 0}
    for code, name, short in BUREAUS:
        if not Department.objects.filter(code=code).exists():
            accounts.create_department(
                SEED_ACTOR,
                code=code,
                name=name,
                short_name=short,
                kind=DepartmentKind.BUREAU,
                region_code="511602",
                parent_code="gov",
            )
    report["categories"] = services.import_taxonomy(SEED_ACTOR, taxonomy_rows())
    for path, code in CATEGORY_MAP.items():
        node = Category.objects.filter(path=path).first()
        if node is not None and node.department_id is None:
            services.map_category(SEED_ACTOR, path, code)
            report["mapped"] += 1
    if not WorkOrder.objects.exists():
        report["orders"] = _sample_orders()
    return report


def _sample_orders() -> int:
    from tongban.accounts.actors import Actor
    from tongban.accounts.models import User

    operator = User.objects.filter(username="operator").first()
    if operator is None:
        return 0
    centre = Actor(operator)
    made = 0
    for text, order_type, urgency, category, name, phone, address, stage in SAMPLES:
        order = services.create_order(
            centre,
            channel="phone",
            text=text,
            order_type=order_type,
            urgency=urgency,
            requester_name=name,
            anonymous=not name,
            phone=phone,
            address=address,
            region_code="511602",
            category=category,
        )
        made += 1
        if stage == "registered":
            continue
        services.dispatch(SEED_ACTOR, order.number, lead=order.department.code)
        if stage == "dispatched":
            continue
        services.accept(SEED_ACTOR, order.number)
        services.record_contact(SEED_ACTOR, order.number)
        services.reply(SEED_ACTOR, order.number, text="已派人现场处置，问题已解决。", outcome="solved")
        if stage == "replied":
            continue
        services.review(SEED_ACTOR, order.number, accept=True)
        services.callback(SEED_ACTOR, order.number, contacted=True, solved="solved", satisfaction="satisfied")
    return made


def ensure_router() -> str:
    """Train the demo's router on the shared labelled messages unless a usable model exists."""
    from . import router

    if router.load() is not None:
        return "12345 router: a trained model is already there."
    shared = Path(settings.DATA_DIR) / "hotline" / "labeled_messages_segmented.csv"
    if not shared.exists():
        return f"12345 router not trained: no labelled messages at {shared}."
    texts, labels = router.read_labelled(shared)
    model = router.train(texts, labels, sources=[str(shared)], folds=3)
    router.save(model)
    return (
        f"12345 router v{model.version} trained on {model.rows} messages "
        f"(3-fold cross-validation macro-F1 {model.cv.get('macro_f1', 0):.3f})."
    )
