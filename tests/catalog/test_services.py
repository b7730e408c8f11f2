"""Catalogue services: versioning (publish freezes, editing drafts), validation, permissions, bundles."""

import pytest

from tongban.accounts import services as account_services
from tongban.accounts.actors import Actor
from tongban.accounts.models import User
from tongban.catalog import services
from tongban.catalog.models import FrozenVersion, ItemVersion, Material, ServiceItem, VersionStatus
from tongban.core.authz import SYSTEM
from tongban.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, NotPermitted
from tongban.core.models import AuditEntry

CONTENT = {
    "name": "测试许可核发",
    "item_type": "licensing",
    "statutory_limit_days": 20,
    "promised_limit_days": 5,
    "online_level": "pre_review",
    "keywords": "测试 许可",
    "steps": ["申请", "受理", "审查", "决定"],
    "form_fields": [{"key": "applicant_name", "label": "申请人", "type": "text", "required": True}],
}
MATERIALS = [
    {"name": "身份证", "licence_type": "resident_id"},
    {"name": "场所平面图", "core": False},
]


def _actor(username):
    return Actor(User.objects.get(username=username))


def _create(code="TEST-001", department="scjgj", **overrides):
    return services.create_item(
        SYSTEM, code=code, department_code=department, materials=MATERIALS, **{**CONTENT, **overrides}
    )


def test_publish_freezes_and_editing_makes_a_new_draft(db):
    _create()
    v1 = services.publish_item(SYSTEM, "TEST-001")
    assert (v1.number, v1.status) == (1, VersionStatus.PUBLISHED)
    assert services.get_published("TEST-001").pk == v1.pk

    draft = services.update_item(SYSTEM, "TEST-001", promised_limit_days=3, name="测试许可核发（新）")
    assert (draft.number, draft.status) == (2, VersionStatus.DRAFT)
    assert [m.name for m in draft.materials.all()] == ["身份证", "场所平面图"]  # copied from v1
    # The public still sees version 1 until the draft is published.
    published = services.get_published("TEST-001")
    assert (published.pk, published.promised_limit_days, published.name) == (v1.pk, 5, "测试许可核发")

    services.set_materials(SYSTEM, "TEST-001", [{"name": "身份证", "licence_type": "resident_id"}])
    v2 = services.publish_item(SYSTEM, "TEST-001")
    v1.refresh_from_db()
    assert v1.status == VersionStatus.SUPERSEDED and v1.superseded_at is not None
    assert v2.promised_limit_days == 3 and v2.materials.count() == 1
    assert v1.materials.count() == 2  # what cases filed under v1 were judged by is still there
    assert ServiceItem.objects.get(code="TEST-001").current_id == v2.pk
    actions = list(AuditEntry.objects.filter(object_ref="TEST-001").values_list("action", flat=True))
    assert actions == [
        "catalog.item.create",
        "catalog.item.publish",
        "catalog.item.update",
        "catalog.item.set_materials",
        "catalog.item.publish",
    ]


def test_a_published_version_cannot_be_changed_even_directly(db):
    _create()
    version = services.publish_item(SYSTEM, "TEST-001")
    version.name = "偷偷改名"
    with pytest.raises(FrozenVersion):
        version.save()
    with pytest.raises(FrozenVersion):
        version.delete()
    material = version.materials.first()
    material.name = "改"
    with pytest.raises(FrozenVersion):
        material.save()
    with pytest.raises(FrozenVersion):
        Material.objects.create(version=version, name="新增")
    assert ItemVersion.objects.get(pk=version.pk).name == "测试许可核发"


def test_there_is_at_most_one_draft(db):
    _create()
    services.publish_item(SYSTEM, "TEST-001")
    first = services.update_item(SYSTEM, "TEST-001", fee="100元")
    second = services.update_item(SYSTEM, "TEST-001", risk_level="high")
    assert first.pk == second.pk
    assert ItemVersion.objects.filter(item__code="TEST-001", status=VersionStatus.DRAFT).count() == 1
    services.discard_draft(SYSTEM, "TEST-001")
    assert not ItemVersion.objects.filter(item__code="TEST-001", status=VersionStatus.DRAFT).exists()
    with pytest.raises(Conflict):
        services.publish_item(SYSTEM, "TEST-001")


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("name", "", "required"),
        ("item_type", "magic", "choice"),
        ("statutory_limit_days", -1, "range"),
        ("promised_limit_days", "x", "invalid"),
        ("online_level", "teleport", "choice"),
        ("steps", [""], "invalid"),
        ("form_fields", [{"key": "Bad Key", "label": "x", "type": "text"}], "key"),
        ("form_fields", [{"key": "a", "label": "x", "type": "select"}], "options"),
        ("colour", "red", "unknown"),
    ],
)
def test_bad_content_is_reported_per_field_and_nothing_is_written(db, field, value, code):
    items, versions = ServiceItem.objects.count(), ItemVersion.objects.count()
    with pytest.raises(InvalidInput) as exc:
        _create(**{field: value})
    assert code in [p.code for p in exc.value.fields[field]]
    assert (ServiceItem.objects.count(), ItemVersion.objects.count()) == (items, versions)


def test_consistency_rules(db):
    with pytest.raises(InvalidInput) as exc:
        _create(statutory_limit_days=5, promised_limit_days=10)
    assert exc.value.fields["promised_limit_days"][0].code == "above_statutory"
    with pytest.raises(InvalidInput) as exc:
        _create(online_level="full_online", visits_required=1)
    assert exc.value.fields["visits_required"][0].code == "online"
    with pytest.raises(InvalidInput) as exc:
        services.create_item(
            SYSTEM,
            code="TEST-002",
            department_code="scjgj",
            materials=[{"name": "x", "core": True, "required": False}],
            **CONTENT,
        )
    assert "materials.0.core" in exc.value.fields


def test_codes_are_validated_and_unique(db):
    with pytest.raises(InvalidInput) as exc:
        _create(code="a b")
    assert exc.value.fields["code"][0].code == "format"
    _create()
    with pytest.raises(InvalidInput) as exc:
        _create()
    assert exc.value.fields["code"][0].code == "exists"


def test_only_catalogue_managers_of_the_department_change_items(db):
    _create()
    services.publish_item(SYSTEM, "TEST-001")  # an item of 市场监管局 (scjgj)
    account_services.create_staff(
        SYSTEM,
        username="scjg_data",
        display_name="市监数据员",
        department_code="scjgj",
        roles=[("data_officer", True)],
    )
    account_services.create_staff(
        SYSTEM,
        username="rs_data",
        display_name="人社数据员",
        department_code="rsj",
        roles=[("data_officer", True)],
    )
    services.update_item(_actor("scjg_data"), "TEST-001", fee="不收费")
    services.update_item(_actor("admin"), "TEST-001", fee="不收费")
    for username in ("rs_data", "reviewer", "bureau_head", "clerk", "zhangsan"):
        with pytest.raises(NotPermitted):
            services.update_item(_actor(username), "TEST-001", fee="1元")
    with pytest.raises(NotAuthenticated):
        services.update_item(None, "TEST-001", fee="1元")
    with pytest.raises(NotPermitted):
        services.create_item(_actor("scjg_data"), code="TEST-RS", department_code="rsj", **CONTENT)
    # Reading published content is public; drafts are not.
    assert services.get_published("TEST-001").name == "测试许可核发"
    with pytest.raises(NotPermitted):
        services.get_draft(_actor("zhangsan"), "TEST-001")
    with pytest.raises(NotFound):
        services.get_published("NO-SUCH-ITEM")


def test_bundle_merges_shared_fields_and_materials(db):
    shared_field = {"key": "enterprise_name", "label": "企业名称", "type": "text", "required": True}
    _create(
        code="B-ONE", form_fields=[shared_field, {"key": "capital", "label": "注册资本", "type": "number"}]
    )
    _create(code="B-TWO", department="swj", form_fields=[{**shared_field, "required": False}])
    services.publish_item(SYSTEM, "B-ONE")
    services.publish_item(SYSTEM, "B-TWO")
    with pytest.raises(InvalidInput) as exc:
        services.create_bundle(
            SYSTEM, code="BUNDLE-1", lead_department_code="xzspj", name="测试一件事", item_codes=["B-ONE"]
        )
    assert "item_codes" in exc.value.fields
    bundle = services.create_bundle(
        SYSTEM,
        code="BUNDLE-1",
        lead_department_code="xzspj",
        name="测试一件事",
        item_codes=["B-ONE", "B-TWO"],
        publish=True,
    )
    merged = services.merged_form(bundle.current)
    assert [f["key"] for f in merged.fields] == ["enterprise_name", "capital"]
    assert merged.fields[0]["items"] == ["B-ONE", "B-TWO"] and merged.fields[0]["required"] is True
    assert [m["name"] for m in merged.materials] == ["身份证", "场所平面图"]  # asked once for both items
    assert merged.asked_separately == 3 + 4 and merged.saved == 7 - 2 - 2

    # The bundle pins the member versions it was published with.
    services.update_item(SYSTEM, "B-ONE", name="改名后")
    services.publish_item(SYSTEM, "B-ONE")
    names = [m.item_version.name for m in services.get_published_bundle("BUNDLE-1").members.all()]
    assert names == ["测试许可核发", "测试许可核发"]
