"""The pages of duplicates and hotspots: the centre merges from the order's page, the citizen sees
similar open orders while typing and follows one, the hotspot page shows clusters and warnings."""

import pytest

from tongban.hotline import duplicates, services
from tongban.hotline.models import OrderStatus, WorkOrder

from ..conftest import actor
from .test_api_demo import logged_in
from .test_duplicates import LAMP, LAMP_AGAIN, call

pytestmark = pytest.mark.django_db


def test_the_centre_merges_a_proposed_duplicate_on_the_order_page():
    operator = actor("operator")
    first, second = call(operator), call(operator, text=LAMP_AGAIN, requester_name="钱七")
    centre, _ = logged_in("operator")
    page = centre.get(f"/hotline/orders/{second.number}/").content.decode()
    assert 'data-testid="duplicate-proposals"' in page and f'data-testid="merge-{first.number}"' in page
    bad = centre.post(f"/hotline/orders/{second.number}/", {"action": "merge", "target": "H1"})
    assert bad.status_code == 302
    assert WorkOrder.objects.get(pk=second.pk).status == OrderStatus.REGISTERED
    done = centre.post(f"/hotline/orders/{second.number}/", {"action": "merge", "target": first.number})
    assert done.status_code == 302
    assert WorkOrder.objects.get(pk=second.pk).status == OrderStatus.MERGED
    merged_page = centre.get(f"/hotline/orders/{second.number}/").content.decode()
    assert 'data-testid="merged-into"' in merged_page
    target_page = centre.get(f"/hotline/orders/{first.number}/").content.decode()
    assert 'data-testid="further-requesters"' in target_page and "钱七" in target_page
    # a department cannot merge: the order is not theirs to see
    handler, _ = logged_in("handler_zj")
    assert (
        handler.post(f"/hotline/orders/{first.number}/", {"action": "merge", "target": "x"}).status_code
        == 404
    )


def test_a_citizen_sees_a_similar_open_order_and_follows_it(citizen_client):
    first = call(actor("operator"), address="广安区幸福小区")
    citizen = citizen_client("zhangsan")
    listed = citizen.post("/hotline/new/similar", {"text": LAMP_AGAIN, "address": "广安区幸福小区3号楼"})
    body = listed.content.decode()
    assert listed.status_code == 200 and f'data-testid="follow-{first.number}"' in body
    assert "赵六" not in body and "13800001234" not in body
    nothing = citizen.post("/hotline/new/similar", {"text": "社保卡补办", "latitude": "abc"})
    assert nothing.status_code == 200 and "follow-" not in nothing.content.decode()
    refused = citizen.post(f"/hotline/orders/{first.number}/follow", {"text": "完全不同的内容关于社保"})
    assert refused.status_code == 302 and refused["Location"] == "/hotline/new"
    followed = citizen.post(f"/hotline/orders/{first.number}/follow", {"text": LAMP_AGAIN})
    assert followed["Location"] == f"/hotline/orders/{first.number}/"
    page = citizen.get(f"/hotline/orders/{first.number}/").content.decode()
    assert "赵六" not in page
    assert first.number in citizen.get("/hotline/mine").content.decode()


def test_the_hotspot_page_shows_clusters_warnings_and_a_chart(citizen_client):
    operator = actor("operator")
    for i in range(12):
        call(
            operator,
            text=f"{LAMP}（{i}）",
            address="",
            latitude=f"30.45{i}",
            longitude="106.63",
            region_code="511602",
        )
    assert duplicates.warnings(operator)
    centre, _ = logged_in("operator")
    page = centre.get("/hotline/hotspots").content.decode()
    assert 'data-testid="hotspot-warnings"' in page and 'id="hotspot-data"' in page
    assert 'data-testid="hotspot-points"' in page and "echarts.min.js" in page
    assert centre.get("/hotline/hotspots?days=x&sort=growth").status_code == 200
    cluster = WorkOrder.objects.first().cluster
    listed = centre.get(f"/hotline/?cluster={cluster}").content.decode()
    assert listed.count("/hotline/orders/H") >= 12
    assert citizen_client("zhangsan").get("/hotline/hotspots").status_code == 403


def test_the_handler_sees_reply_suggestions():
    operator = actor("operator")
    duplicates.import_replies(
        operator,
        [{"ref": "9", "subject": "路灯坏了", "text": "幸福小区门口路灯坏了没人修", "reply": "已修复路灯。"}],
    )
    order = call(operator, department_code="zjj", dispatch=True)
    handler, _ = logged_in("handler_zj")
    page = handler.get(f"/hotline/orders/{order.number}/").content.decode()
    assert 'data-testid="reply-suggestions"' in page and "已修复路灯。" in page
    assert services.access_order(actor("handler_zj"), order.number) == order
