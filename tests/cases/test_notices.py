"""Notices to applicants and staff: stored as message keys and read in the reader's language, and the
ones an applicant must not miss (补正, 出件, 不予受理) also sent as text messages."""

import json

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from tests.cases.test_handling import _accepted, _issued, _reviewer_step
from tests.cases.test_lifecycle import _actor
from tests.cases.test_portal_views import _login
from tongban.accounts import services as account_services
from tongban.accounts.models import Notification
from tongban.cases import services
from tongban.core.i18n import Later


@pytest.fixture
def outbox(settings, tmp_path):
    settings.TONGBAN_SMS_OUTBOX = tmp_path / "sms-outbox.jsonl"

    def read():
        path = settings.TONGBAN_SMS_OUTBOX
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    return read


def _supplement(case):
    step = _reviewer_step(case)
    services.claim_work(_actor("reviewer"), step.public_id)
    services.request_supplement(
        _actor("reviewer"),
        case.number,
        items=[{"material": "平面图", "reason": "比例尺不清"}],
        work_id=step.public_id,
    )


def test_a_supplement_notice_reads_in_each_readers_language(db, outbox, django_capture_on_commit_callbacks):
    case = _accepted()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        _supplement(case)  # the reviewer works in English
    note = Notification.objects.get(recipient__username="zhangsan", subject=case.number)
    # Stored in the site's language (Chinese), whatever the sender's, and as a key for every reader.
    assert note.title == f"{case.number}需要补正（补正）" or "补正" in note.title
    assert note.message["title"]["params"] == {"n": case.number}
    with translation.override("zh-hans"):
        assert "补正" in note.title_text and "Supplement" not in note.title_text
    with translation.override("en"):
        assert note.title_text == f"Supplement needed for {case.number} (补正)"
    assert "比例尺不清" in note.body_text  # what the reviewer wrote is content, shown as written
    (text,) = outbox()
    assert text["template"] == "case.supplement" and case.number in text["text"]
    assert text["to"] == _actor("zhangsan").person.phone


def test_issuing_tells_the_applicant_how_to_get_the_result(db, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = _issued()
    note = Notification.objects.filter(recipient__username="zhangsan", subject=case.number).first()
    with translation.override("en"):
        assert note.title_text == f"{case.number} is done: the result is issued (出件)"
        assert "Download it from the case page" in note.body_text
    assert [m["template"] for m in outbox()] == ["case.issued"]


def test_a_refused_application_is_texted_and_a_failing_gateway_undoes_nothing(
    db, settings, outbox, django_capture_on_commit_callbacks
):
    from tests.cases.test_lifecycle import _data, _item

    case = services.apply_online(_actor("zhangsan"), item_code=_item(), data=_data())
    blocker = settings.TONGBAN_SMS_OUTBOX.parent / "a-file"
    blocker.write_text("")
    settings.TONGBAN_SMS_OUTBOX = blocker / "outbox.jsonl"  # under a file: the sender cannot write it
    with django_capture_on_commit_callbacks(execute=True):
        services.refuse(_actor("clerk"), case.number, reason="不属于本部门受理范围")
    case.refresh_from_db()
    assert case.status == "not_accepted"
    assert Notification.objects.filter(subject=case.number, recipient__username="zhangsan").exists()
    assert not (blocker / "outbox.jsonl").exists()


def test_the_inbox_and_the_api_show_notices_in_the_readers_language(db):
    case = _accepted()
    _supplement(case)
    zhangsan = _login("zhangsan")
    zhangsan.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = zhangsan.get("/inbox/").content.decode()
    assert f"Supplement needed for {case.number}" in page
    api = Client()
    api.force_login(_actor("zhangsan").user)
    zh = api.get("/api/v1/me/notifications").json()["items"][0]["title"]
    api.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = api.get("/api/v1/me/notifications").json()["items"][0]["title"]
    assert "补正" in zh and en == f"Supplement needed for {case.number} (补正)"


def test_a_message_whose_translation_lost_a_placeholder_still_reads():
    later = Later("No such msgid %(n)s", n="X1")
    assert str(later) == "No such msgid X1"
    assert Later.from_json({"msgid": 5}) is None and Later.from_json("x") is None


def test_plain_text_notices_still_read_as_written(db):
    user = _actor("zhangsan").user
    account_services.notify([user], kind="case", title="旧通知", body="正文")
    note = Notification.objects.get(title="旧通知")
    assert note.message == {} and note.title_text == "旧通知" and note.body_text == "正文"
