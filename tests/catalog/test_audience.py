"""服务对象 and the portal's 个人服务 / 法人服务 tabs with life-event tiles, on the real 广安区 list."""

import re

import pytest

from tongban.catalog.audience import ENTERPRISE_EVENTS, PERSON_EVENTS, guess_audience
from tongban.catalog.models import Audience, ItemVersion, ServiceItem

from .test_search import (
    BIRTH_CERTIFICATE,
    COMPANY,
    FOOD,
    MARRIAGE,
    SOCIAL_SECURITY_CARD,
    _catalogue,
    catalogue,
    real_list,
)

__all__ = ["_catalogue", "catalogue", "real_list"]  # the module's catalogue, loaded once


@pytest.mark.parametrize(
    ("name", "audience"),
    [
        ("食品经营许可（新办）", Audience.ENTERPRISE),
        ("个人独资企业设立登记", Audience.ENTERPRISE),
        ("建筑起重机械使用登记", Audience.ENTERPRISE),
        ("户口注销", Audience.PERSON),
        ("结婚登记预约", Audience.PERSON),
        ("最低生活保障", Audience.PERSON),
        ("普通护照签发", Audience.PERSON),
        ("困难残疾人生活补贴", Audience.PERSON),
        ("企业职工基本养老保险个人账户储存额一次性申领", Audience.BOTH),
        ("动物诊疗许可", Audience.BOTH),
    ],
)
def test_whom_an_item_serves_is_judged_from_its_name(name, audience):
    assert guess_audience(name) == audience


def _audience(code: str) -> str:
    return ServiceItem.objects.get(code=code).current.audience


def test_the_real_list_is_judged_at_import_and_editors_can_change_it(real_list):
    assert _audience(FOOD) == Audience.ENTERPRISE and _audience(COMPANY) == Audience.ENTERPRISE
    assert _audience(SOCIAL_SECURITY_CARD) == Audience.PERSON and _audience(MARRIAGE) == Audience.PERSON
    counts = {a: ItemVersion.objects.filter(audience=a, status="published").count() for a in Audience.values}
    # Every tab has a real share of the district's 1,135 items, not everything and not nothing.
    assert all(n > 100 for n in counts.values()), counts


def _event_links(html: str) -> list[str]:
    section = html.split('data-testid="life-events"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"event=([a-z_]+)", section)


def _event_codes(html: str) -> list[str]:
    section = html.split('data-testid="event-results"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'/services/(?:items|bundles)/([^/"]+)/', section)


@pytest.mark.parametrize(
    ("audience", "events"), [("person", PERSON_EVENTS), ("enterprise", ENTERPRISE_EVENTS)]
)
def test_every_life_event_tile_finds_items_serving_its_tab(client, real_list, audience, events):
    page = client.get(f"/services/?for={audience}").content.decode()
    assert _event_links(page) == [e.key for e in events]
    assert re.search(rf'href="\?for={audience}"[^>]*aria-current="page"', page)
    for event in events:
        html = client.get(f"/services/?for={audience}&event={event.key}").content.decode()
        found = _event_codes(html)
        assert len(found) >= 2, (event.key, found)
        items = [c for c in found if ServiceItem.objects.filter(code=c).exists()]
        serves = {_audience(c) for c in items}
        assert serves <= {audience, Audience.BOTH}, (event.key, serves)


def test_the_birth_tile_leads_to_the_birth_certificate(client, real_list):
    html = client.get("/services/?for=person&event=birth").content.decode()
    assert BIRTH_CERTIFICATE in _event_codes(html) or "BUNDLE-XSECS" in _event_codes(html)


def test_unknown_tabs_and_events_fall_back_quietly(client, real_list):
    for query in (
        "?for=<script>",
        "?for=person&event=../../x",
        "?event=birth&for=",
        "?for=enterprise&event=birth",
    ):
        response = client.get("/services/" + query)
        assert response.status_code == 200
        assert "<script>" not in response.content.decode().split('data-testid="life-events"')[0][-2000:]
    # An event of the other tab is not shown under this one.
    assert (
        'data-testid="event-results"'
        not in client.get("/services/?for=enterprise&event=birth").content.decode()
    )


def test_the_api_lists_items_by_audience(client, real_list):
    response = client.get("/api/v1/catalog/items?audience=enterprise&page=1")
    assert response.status_code == 200
    codes = [row["code"] for row in response.json()["items"]]
    assert codes and all(_audience(c) in (Audience.ENTERPRISE, Audience.BOTH) for c in codes)
    assert client.get("/api/v1/catalog/items?audience=martians").status_code == 422
