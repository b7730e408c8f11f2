"""Near-duplicates, merging, following, hotspots and reply suggestions (issue 13)."""

import datetime as dt

import pytest

from tongban.core import events
from tongban.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from tongban.hotline import duplicates, services, similar
from tongban.hotline.models import (
    DuplicateProposal,
    HotspotWarning,
    OrderBand,
    OrderStatus,
    ProposalStatus,
    WorkOrder,
)

from ..conftest import actor

pytestmark = pytest.mark.django_db

LAMP = "幸福小区3号楼门口路灯坏了一周了，晚上很黑，老人出行不安全，请尽快修理。"
LAMP_AGAIN = "幸福小区3号楼门口的路灯不亮一周了，晚上出行很不安全，请尽快派人修理"
OTHER = "想咨询一下社保卡丢了怎么补办，需要带哪些材料，去哪里办理？"


def call(operator, text=LAMP, **overrides) -> WorkOrder:
    fields = dict(
        channel="phone",
        text=text,
        order_type="complaint",
        requester_name="赵六",
        phone="13800001234",
        address="广安区幸福小区3号楼",
    )
    fields.update(overrides)
    return services.create_order(operator, **fields)


def activities(order) -> list[str]:
    return [e.activity.removeprefix("work_order.") for e in events.history("work_order", order.number)]


def test_similarity_and_the_band_index_agree():
    assert similar.similarity(LAMP, LAMP_AGAIN) > 0.4
    assert similar.similarity(LAMP, OTHER) < 0.1
    # punctuation, whitespace and full-width forms do not matter
    assert similar.similarity(LAMP, LAMP.replace("，", " , ").replace("3", "３")) == 1.0
    a, b = similar.band_keys(similar.text_of(LAMP)), similar.band_keys(similar.text_of(LAMP_AGAIN))
    assert len(a) == similar.BANDS and set(a) & set(b)
    assert not set(a) & set(similar.band_keys(similar.text_of(OTHER)))
    assert similar.band_keys("") == []


def test_a_repeat_at_the_same_place_is_proposed_and_merged(operator):
    first = call(operator)
    assert OrderBand.objects.filter(order=first).count() == similar.BANDS
    assert not DuplicateProposal.objects.exists()
    second = call(operator, text=LAMP_AGAIN, requester_name="钱七", phone="13900002222")
    proposal = DuplicateProposal.objects.get(order=second)
    assert proposal.target == first and proposal.score >= 0.45
    assert "duplicate_suspected" in activities(second)
    assert [p.target for p in duplicates.proposals(operator, second.number)] == [first]
    # an unrelated message, or the same one somewhere else, is no duplicate
    call(operator, text=OTHER)
    call(operator, address="", latitude="30.1", longitude="106.6", text=LAMP_AGAIN)
    far = call(operator, address="", latitude="30.6", longitude="106.6", text=LAMP_AGAIN)
    assert not DuplicateProposal.objects.filter(order=far).exclude(target__latitude=None).exists()
    assert DuplicateProposal.objects.filter(target=first).count() >= 1

    merged = duplicates.merge(operator, second.number, into=first.number)
    assert merged.status == OrderStatus.MERGED and merged.merged_into == first
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.MERGED
    extra = duplicates.requesters(operator, first)
    assert [(r.role, r.name, r.contact_phone) for r in extra] == [("merged", "钱七", "13900002222")]
    assert "requester_added" in activities(first) and "merged" in activities(merged)
    # a merged order is not open any more, and cannot be merged again
    with pytest.raises(Conflict):
        duplicates.merge(operator, second.number, into=first.number)


def test_merge_input_is_checked_field_by_field(operator):
    first = call(operator)
    second = call(operator, text=LAMP_AGAIN)
    for into, code in (("H000", "unknown"), (second.number, "same")):
        with pytest.raises(InvalidInput) as caught:
            duplicates.merge(operator, second.number, into=into)
        assert caught.value.fields["into"][0].code == code
    with pytest.raises(NotPermitted):
        duplicates.merge(actor("supervisor"), second.number, into=first.number)
    with pytest.raises(NotFound):
        duplicates.merge(actor("handler_zj"), second.number, into=first.number)
    with pytest.raises(InvalidInput):
        duplicates.reject_duplicate(operator, first.number, target=second.number)
    rejected = duplicates.reject_duplicate(operator, second.number, target=first.number)
    assert rejected.status == ProposalStatus.REJECTED
    assert duplicates.proposals(operator, second.number) == []


def test_a_citizen_sees_similar_open_orders_and_follows_one(operator):
    first = call(operator, region_code="511602")
    citizen = actor("zhangsan")
    found = duplicates.similar_open_orders(citizen, text=LAMP_AGAIN, region_code="511602")
    assert [m.order.number for m in found] == [first.number]
    assert duplicates.similar_open_orders(citizen, text=OTHER, region_code="511602") == []
    with pytest.raises(InvalidInput) as caught:
        duplicates.similar_open_orders(citizen, text=LAMP, latitude="x", longitude="1")
    assert "latitude" in caught.value.fields
    # the draft must match: a guessed number cannot be followed
    with pytest.raises(InvalidInput):
        duplicates.follow(citizen, first.number, text=OTHER)
    with pytest.raises(NotFound):
        services.access_order(citizen, first.number)
    duplicates.follow(citizen, first.number, text=LAMP_AGAIN)
    assert services.access_order(citizen, first.number) == first
    assert first in services.orders(citizen)
    assert services.requester_label(citizen, first) != "赵六"  # a follower sees no one's name
    with pytest.raises(Conflict):
        duplicates.follow(citizen, first.number, text=LAMP_AGAIN)
    with pytest.raises(NotPermitted):
        duplicates.follow(operator, first.number, text=LAMP_AGAIN)


def test_twenty_similar_orders_raise_a_hotspot_warning(operator, settings):
    for i in range(9):
        call(operator, text=f"{LAMP}（第{i}次反映）")
    assert not HotspotWarning.objects.exists()
    for i in range(9, 20):
        call(operator, text=f"{LAMP_AGAIN}（第{i}次反映）")
    warning = HotspotWarning.objects.get()
    assert warning.recent == 10 and warning.baseline == 0  # the tenth order of the day warns, once
    clusters = set(WorkOrder.objects.values_list("cluster", flat=True))
    assert len(clusters) == 1
    seed = WorkOrder.objects.order_by("received_at").first()
    assert clusters == {seed.number}
    assert sum("hotspot_warning" in activities(o) for o in WorkOrder.objects.all()) == 1
    ranked = duplicates.hotspots(operator)
    assert ranked[0].cluster == seed.number and ranked[0].recent == 20 and ranked[0].growth is None
    call(operator, text=OTHER)
    assert len(duplicates.hotspots(operator)) == 1  # a single order is no hotspot
    with pytest.raises(NotPermitted):
        duplicates.hotspots(actor("zhangsan"))


def test_growth_ranks_against_the_week_before(operator):
    old = call(operator)
    WorkOrder.objects.filter(pk=old.pk).update(received_at=old.received_at - dt.timedelta(days=8))
    for _ in range(2):
        call(operator, text=OTHER)
    call(operator, text=LAMP_AGAIN)
    call(operator, text=LAMP_AGAIN)
    by_growth = duplicates.hotspots(operator, sort="growth")
    lamp = next(h for h in by_growth if h.cluster == old.number)
    assert (lamp.recent, lamp.previous, lamp.growth) == (2, 1, 1.0)


def test_reply_suggestions_come_from_past_replies(operator):
    from tongban.hotline.models import PastReply

    added = duplicates.import_replies(
        operator,
        [
            {
                "ref": "1",
                "subject": "路灯不亮",
                "text": "幸福小区路灯坏了很久没人修",
                "reply": "已安排维修路灯。",
            },
            {
                "ref": "2",
                "subject": "社保卡补办",
                "text": "社保卡丢失如何补办",
                "reply": "请携带身份证到窗口。",
            },
            {"ref": "2", "subject": "dup", "text": "x", "reply": "y"},
            {"ref": "", "subject": "no ref", "text": "x", "reply": "y"},
        ],
    )
    assert added == 2 and PastReply.objects.count() == 2
    order = call(operator)
    suggestions = duplicates.suggest_replies(operator, order.number)
    assert suggestions[0].key == "reply:1" and suggestions[0].score > 0.2
    assert all(s.ref != "2" for s in suggestions)
    with pytest.raises(NotFound):
        duplicates.suggest_replies(actor("zhangsan"), order.number)


def test_the_cli_imports_past_replies(tmp_path):
    from typer.testing import CliRunner

    from tongban.cli.main import app
    from tongban.hotline.models import PastReply

    path = tmp_path / "replies.csv"
    path.write_text(
        "留言编号,留言用户,留言主题,留言时间,留言详情,答复意见,答复时间\n"
        '7,u1,路灯不亮,2019/4/25 9:32:09,"\n\t幸福小区路灯坏了\n",已维修。,2019/5/1 10:00:00\n'
        "8,u2,无答复,2019/4/25 9:32:09,有内容,,\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["hotline", "import-replies", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 past replies added" in result.output
    past = PastReply.objects.get()
    assert (past.ref, past.reply, past.asked_at.year) == ("7", "已维修。", 2019)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    refused = CliRunner().invoke(app, ["hotline", "import-replies", str(bad)])
    assert refused.exit_code == 2 and "留言编号" in refused.output
