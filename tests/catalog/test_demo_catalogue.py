"""The demo catalogue: the detail file of high-frequency items and bundles, and the real district list."""

import csv
import tomllib

import pytest

from tests.conftest import shared_data_dir
from tongban.catalog import services
from tongban.catalog.demo import loader
from tongban.catalog.models import (
    TASK_TYPE_CODES,
    Bundle,
    BundleVersion,
    ItemVersion,
    Material,
    OnlineLevel,
    ServiceItem,
    VersionStatus,
)

DETAIL = tomllib.loads(loader.DETAIL_FILE.read_text(encoding="utf-8"))
ITEMS = {spec["code"]: spec for spec in DETAIL["item"]}
BUNDLES = {spec["code"]: spec for spec in DETAIL["bundle"]}
LIST_ROWS = 1135

# Documents the government issues or holds itself: a bundle member must not ask for them on paper.
HELD_DOCUMENTS = (
    "身份证",
    "营业执照",
    "户口簿",
    "结婚证",
    "出生医学证明",
    "不动产权属证书",
    "不动产权证书",
    "社会保障卡",
    "完税",
    "网签",
)

SHARED_FIELDS = {
    "BUNDLE-QYKB": ["enterprise_name", "legal_representative_name", "phone"],
    "BUNDLE-XSECS": ["child_name", "birth_date", "mother_id_number", "phone"],
    "BUNDLE-ESFJY": ["property_address", "buyer_name", "buyer_id_number", "seller_name", "phone"],
}


def _is_held_document(material) -> bool:
    """A required copy of a held document — not a form to fill in (…登记表) that merely names one."""
    return (
        material.required
        and any(word in material.name for word in HELD_DOCUMENTS)
        and not material.name.endswith("表")
    )


def _needs_shared_data():
    if shared_data_dir() is None:
        pytest.skip("shared data (../shared/data, or TONGBAN_DATA_DIR) is not here: real-list tests skipped")


def _counts() -> dict[str, int]:
    return {
        "items": ServiceItem.objects.count(),
        "versions": ItemVersion.objects.count(),
        "materials": Material.objects.count(),
        "bundles": Bundle.objects.count(),
        "bundle_versions": BundleVersion.objects.count(),
    }


# --- the detail file on its own -------------------------------------------------------------------


def test_detail_file_describes_about_forty_high_frequency_items_and_three_bundles():
    assert 38 <= len(ITEMS) == len(DETAIL["item"]) <= 45  # codes are unique
    assert set(BUNDLES) == {"BUNDLE-QYKB", "BUNDLE-XSECS", "BUNDLE-ESFJY"}
    for code, spec in ITEMS.items():
        assert spec["high_frequency"] is True, code
        assert spec["keywords"] and spec["steps"] and spec["form_fields"] and spec["materials"], code
        assert services.CODE_PATTERN.match(code), code
    for bundle in BUNDLES.values():
        assert set(bundle["item_codes"]) <= set(ITEMS), bundle["code"]


def test_a_form_field_key_means_the_same_thing_in_every_item():
    """Shared keys are what lets a merged form ask a question once, so a key keeps its type."""
    types: dict[str, set[str]] = {}
    for spec in ITEMS.values():
        for field in spec["form_fields"]:
            types.setdefault(field["key"], set()).add(field.get("type", "text"))
    assert {key: kinds for key, kinds in types.items() if len(kinds) > 1} == {}


def test_detail_loads_on_the_demo_city_alone(db):
    items, bundles = loader.load_detail()
    assert (items, bundles) == (len(ITEMS), len(BUNDLES))

    for code, spec in ITEMS.items():
        item = ServiceItem.objects.select_related("current", "department").get(code=code)
        version = item.current
        assert version is not None and version.status == VersionStatus.PUBLISHED, code
        assert version.number >= 1
        assert item.department.code == spec["department"], code
        assert version.name == spec["name"] and version.high_frequency, code
        assert version.promised_limit_days is not None and version.statutory_limit_days is not None, code
        assert version.promised_limit_days <= version.statutory_limit_days, code
        if version.online_level == OnlineLevel.FULL_ONLINE:
            assert version.visits_required == 0, code
        assert version.materials.count() == len(spec["materials"]), code
        for material in version.materials.all():
            assert material.required or not material.core, (code, material.name)  # 容缺 only non-core

    # Simple registrations are auto-approved (秒批); the food and public-place licences take 告知承诺.
    by_name = {spec["name"]: services.get_published(code) for code, spec in ITEMS.items()}
    assert by_name["企业职工参保登记"].auto_approvable and by_name["就业登记"].auto_approvable
    assert by_name["食品(含保健食品)经营许可核发"].commitment_allowed
    assert by_name["公共场所卫生许可新办审批（县级）"].commitment_allowed
    assert by_name["公司设立登记"].licence_type == "business_licence"
    assert ItemVersion.objects.filter(status=VersionStatus.PUBLISHED, promised_limit_days=0).count() >= 5


def test_bundles_are_published_and_their_members_reuse_what_the_government_holds(db):
    loader.load_detail()
    for code, spec in BUNDLES.items():
        version = services.get_published_bundle(code)
        assert version.bundle.lead_department.code == spec["lead_department_code"]
        members = [m.item_version for m in version.members.select_related("item_version__item")]
        assert [v.item.code for v in members] == spec["item_codes"]
        for member in members:
            assert member.promised_limit_days <= version.promised_limit_days, (code, member.item.code)
            for material in member.materials.all():
                if _is_held_document(material):
                    assert material.satisfiable_without_paper, (code, member.name, material.name)


def test_enterprise_bundle_is_the_national_one_day_target(db):
    loader.load_detail()
    version = services.get_published_bundle("BUNDLE-QYKB")
    assert version.promised_limit_days == 1
    assert version.bundle.lead_department.code == "xzspj"
    names = {m.item_version.name for m in version.members.all()}
    assert {"公司设立登记", "公章刻制备案", "企业职工参保登记"} <= names


@pytest.mark.parametrize("code", sorted(SHARED_FIELDS))
def test_merged_form_asks_shared_fields_once(db, code):
    loader.load_detail()
    merged = services.merged_form(services.get_published_bundle(code))
    keys = [f["key"] for f in merged.fields]
    assert len(keys) == len(set(keys))
    by_key = {f["key"]: f for f in merged.fields}
    for key in SHARED_FIELDS[code]:
        assert keys.count(key) == 1, key
        assert len(by_key[key]["items"]) >= 2, key  # asked by several members, shown once
    assert merged.saved > 0
    # Materials held as e-licences are merged too: one 营业执照 / 身份证 for the whole bundle.
    licence_keys = [m["licence_type"] for m in merged.materials if m["licence_type"]]
    assert len(licence_keys) == len(set(licence_keys))


def test_the_company_bundle_asks_for_nothing_the_company_gets_only_by_it(db):
    """Issue 12, defect 10: 企业开办一件事 asked for the credit code of a company not yet founded and
    listed its 营业执照 as a material; both come from its own 公司设立登记."""
    loader.load_detail()
    merged = services.merged_form(services.get_published_bundle("BUNDLE-QYKB"))
    assert "uscc" not in {f["key"] for f in merged.fields}
    assert "business_licence" not in {m["licence_type"] for m in merged.materials}
    assert {"name": "营业执照", "by": "公司设立登记"} in merged.produced
    # Only members after the one that issues it are spared: 税费申报 and 转移登记 itself still ask for
    # the seller's 不动产权属证书; the utilities' transfers, after it, get the new owner's.
    bundle = services.get_published_bundle("BUNDLE-ESFJY")
    second_hand = services.merged_form(bundle)
    order = [m.item_version for m in bundle.members.all()]
    issuer = next(v for v in order if v.licence_type == "real_estate_certificate")
    title = next(m for m in second_hand.materials if m["licence_type"] == "real_estate_certificate")
    assert title["items"] == [
        v.item.code for v in order[: order.index(issuer) + 1] if v.item.code in title["items"]
    ]
    assert not set(title["items"]) & {v.item.code for v in order[order.index(issuer) + 1 :]}
    assert {"name": "不动产权属证书", "by": "不动产转移登记（存量房买卖）"} in second_hand.produced


def test_enterprise_name_is_asked_once_though_most_members_ask_it(db):
    loader.load_detail()
    merged = services.merged_form(services.get_published_bundle("BUNDLE-QYKB"))
    asking = [f for f in merged.fields if f["key"] == "enterprise_name"]
    assert len(asking) == 1 and len(asking[0]["items"]) >= 5
    assert merged.saved >= 20


def test_loading_the_detail_twice_creates_nothing_new(db):
    assert loader.load_detail() == (len(ITEMS), len(BUNDLES))
    before = _counts()
    assert loader.load_detail() == (0, 0)
    assert _counts() == before
    assert ItemVersion.objects.filter(status=VersionStatus.DRAFT).count() == 0


# --- the real district list -----------------------------------------------------------------------


def test_real_list_then_detail_gives_listed_items_a_second_version(db):
    """The whole list of 广安区 (1,135 items) through the bulk import."""
    _needs_shared_data()
    assert loader.load_catalogue_list() == (LIST_ROWS, LIST_ROWS)
    assert ServiceItem.objects.filter(source="catalogue:guangan", current__isnull=False).count() == LIST_ROWS

    assert loader.load_detail() == (len(ITEMS), len(BUNDLES))
    demo_codes = {code for code in ITEMS if code.startswith("DEMO-")}
    assert ServiceItem.objects.count() == LIST_ROWS + len(demo_codes)
    for code in ITEMS:
        item = ServiceItem.objects.select_related("current").get(code=code)
        expected = 1 if code in demo_codes else 2  # listed items keep their list version 1
        assert item.current.number == expected, code
        if expected == 2:
            assert item.versions.get(number=1).status == VersionStatus.SUPERSEDED

    before = _counts()
    assert loader.load_catalogue_list() == (LIST_ROWS, 0)
    assert loader.load_detail() == (0, 0)
    assert _counts() == before


def test_detail_codes_departments_and_types_agree_with_the_real_list(db):
    _needs_shared_data()
    departments = loader._department_codes()
    with open(loader.catalogue_path(), encoding="utf-8-sig", newline="") as fh:
        listed = {row["事项编码"].strip(): row for row in csv.DictReader(fh)}
    for code, spec in ITEMS.items():
        if code.startswith("DEMO-"):
            assert code not in listed
            continue
        assert code in listed, f"{spec['name']}: code not in the district list"
        assert departments[listed[code]["部门"].strip()] == spec["department"], code
        assert TASK_TYPE_CODES[listed[code]["taskType"].strip()] == spec["item_type"], code


def test_demo_catalogue_skips_the_list_cleanly_when_the_data_is_missing(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "no-shared-data"
    report = loader.load_demo_catalogue()
    assert report.catalogue_rows == 0 and report.created == 0
    assert "not found" in report.skipped_reason
    assert (report.detailed, report.bundles) == (len(ITEMS), len(BUNDLES))
    assert not ServiceItem.objects.filter(source="catalogue:guangan").exists()
