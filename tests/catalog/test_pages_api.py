"""The public portal and guides, the staff catalogue console, and the catalogue API."""

import json

import pytest

from tongban.catalog import services
from tongban.catalog.models import VersionStatus
from tongban.core.authz import SYSTEM

CODE = "PAGE-001"


@pytest.fixture
def item(db):
    services.create_item(
        SYSTEM,
        code=CODE,
        department_code="scjgj",
        name="页面测试许可",
        item_type="licensing",
        statutory_limit_days=20,
        promised_limit_days=5,
        keywords="开饭店 测试",
        steps=["申请", "审查"],
        materials=[
            {"name": "营业执照", "licence_type": "business_licence"},
            {"name": "平面图", "core": False},
        ],
    )
    services.publish_item(SYSTEM, CODE)
    return CODE


def test_portal_search_and_guide_are_public(client, item):
    page = client.get("/services/?q=我想开饭店").content.decode()
    assert "页面测试许可" in page
    guide = client.get(f"/services/items/{CODE}/").content.decode()
    assert "页面测试许可" in guide and "免提交" in guide and "容缺" in guide
    assert "2026" in guide or "20" in guide  # the promised date is shown
    assert client.get("/services/items/NOPE/").status_code == 404


def test_guide_shows_the_published_version_not_the_draft(client, item):
    services.update_item(SYSTEM, CODE, name="草稿里的新名字")
    guide = client.get(f"/services/items/{CODE}/").content.decode()
    assert "页面测试许可" in guide and "草稿里的新名字" not in guide


def test_staff_console_edits_a_draft_and_publishes(staff_client, item):
    client = staff_client("admin")
    listing = client.get("/catalog/?q=PAGE").content.decode()
    assert CODE in listing
    form = {
        "name": "页面测试许可（改）",
        "item_type": "licensing",
        "statutory_limit_days": "20",
        "promised_limit_days": "3",
        "online_level": "offline",
        "visits_required": "1",
        "risk_level": "low",
        "fee": "不收费",
        "keywords": "开饭店",
    }
    assert client.post(f"/catalog/items/{CODE}/", form).status_code == 302
    assert services.get_draft(SYSTEM, CODE).promised_limit_days == 3
    assert services.get_published(CODE).promised_limit_days == 5
    bad = client.post(f"/catalog/items/{CODE}/", {**form, "promised_limit_days": "30"}).content.decode()
    assert 'data-field="promised_limit_days"' in bad
    assert client.post(f"/catalog/items/{CODE}/publish").status_code == 302
    assert services.get_published(CODE).promised_limit_days == 3


def test_staff_console_is_for_catalogue_managers_only(staff_client, item):
    clerk = staff_client("clerk")
    assert clerk.get("/catalog/").status_code == 403
    assert clerk.get(f"/catalog/items/{CODE}/").status_code == 403
    clerk.post("/accounts/logout")
    assert staff_client("admin").get(f"/catalog/items/{CODE}/").status_code == 200


def test_catalogue_api(client, staff_client, item):
    hits = client.get("/api/v1/catalog/search?q=开饭店").json()
    assert hits[0]["code"] == CODE and hits[0]["kind"] == "item"
    detail = client.get(f"/api/v1/catalog/items/{CODE}").json()
    assert detail["version"] == 1 and detail["materials"][0]["licence_type"] == "business_licence"
    assert client.get(f"/api/v1/catalog/items/{CODE}/draft").status_code == 401
    admin = staff_client("admin")
    changed = admin.patch(
        f"/api/v1/catalog/items/{CODE}/draft", json.dumps({"fee": "50元"}), content_type="application/json"
    ).json()
    assert (changed["version"], changed["status"], changed["fee"]) == (2, VersionStatus.DRAFT, "50元")
    bad = admin.patch(
        f"/api/v1/catalog/items/{CODE}/draft",
        json.dumps({"promised_limit_days": "soon"}),
        content_type="application/json",
    )
    assert bad.status_code == 422 and "promised_limit_days" in bad.json()["error"]["fields"]
    published = admin.post(f"/api/v1/catalog/items/{CODE}/publish").json()
    assert (published["version"], published["fee"]) == (2, "50元")
    versions = admin.get(f"/api/v1/catalog/items/{CODE}/versions").json()
    assert [(v["version"], v["status"]) for v in versions] == [(2, "published"), (1, "superseded")]
