"""消息: the inbox each user sees, and the navigation that leads to it."""

from tongban.accounts import services
from tongban.accounts.models import Notification, User


def _note(username, title, kind="case"):
    services.notify(
        [User.objects.get(username=username)], kind=kind, title=title, subject="C-1", link="/my/cases/"
    )


def test_the_inbox_shows_only_ones_own_messages_and_marks_them_read(db, citizen_client):
    _note("zhangsan", "补正通知")
    _note("lisi", "别人的消息")
    client = citizen_client("zhangsan")
    page = client.get("/inbox/").content.decode()
    assert "补正通知" in page and "别人的消息" not in page and 'data-testid="unread-count"' in page
    mine = Notification.objects.get(title="补正通知")
    theirs = Notification.objects.get(title="别人的消息")
    client.post("/inbox/", {"id": [mine.pk, theirs.pk]})  # someone else's id is ignored
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None
    assert "unread-count" not in client.get("/inbox/").content.decode()


def test_the_inbox_needs_a_login(db, client):
    response = client.get("/inbox/")
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_staff_see_reminders_and_the_back_office_navigation(db, staff_client):
    _note("section_head", "超期：审查", kind="escalation")
    client = staff_client("section_head")
    page = client.get("/inbox/").content.decode()
    assert "超期：审查" in page
    assert 'href="/work/"' in page and 'href="/work/overdue"' in page  # heads oversee overdue steps


def test_reviewers_have_a_worklist_but_no_overdue_supervision(db, staff_client):
    page = staff_client("reviewer").get("/inbox/").content.decode()
    assert 'href="/work/"' in page and 'href="/work/overdue"' not in page
