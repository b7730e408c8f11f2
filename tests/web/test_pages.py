"""Pages as each kind of user meets them: navigation by role, language, care mode, forms, refusals."""

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from tongban.accounts.models import Person
from tongban.core.models import AuditEntry, CalendarOverride

PAGES = [
    "/",
    "/accounts/me",
    "/accounts/enterprises",
    "/window/lookup",
    "/window/persons/new",
    "/org/departments",
    "/org/staff",
    "/org/windows",
    "/audit/",
    "/calendar/",
]

# Which pages each login reaches (200); the others answer 403 (or 302 to login for citizens on staff pages).
REACHABLE = {
    "clerk": {
        "/",
        "/accounts/me",
        "/accounts/enterprises",
        "/window/lookup",
        "/window/persons/new",
        "/org/departments",
        "/org/staff",
        "/org/windows",
        "/calendar/",
    },
    "reviewer": {
        "/",
        "/accounts/me",
        "/accounts/enterprises",
        "/window/lookup",
        "/org/departments",
        "/org/staff",
        "/org/windows",
        "/calendar/",
    },
    "supervisor": {
        "/",
        "/accounts/me",
        "/accounts/enterprises",
        "/org/departments",
        "/org/staff",
        "/org/windows",
        "/audit/",
        "/calendar/",
    },
    "admin": set(PAGES),
}


@pytest.mark.parametrize("username", list(REACHABLE))
def test_staff_reach_exactly_their_pages(db, staff_client, username):
    client = staff_client(username)
    for path in PAGES:
        status = client.get(path).status_code
        expected = 200 if path in REACHABLE[username] else 403
        assert status == expected, (username, path, status)


def test_navigation_follows_roles(db, staff_client):
    client = staff_client("clerk")
    clerk = client.get("/").content.decode()
    assert "查找申请人" in clerk and "审计日志" not in clerk
    client.post("/accounts/logout")
    supervisor = staff_client("supervisor").get("/").content.decode()
    assert "审计日志" in supervisor and "查找申请人" not in supervisor and "管理后台" not in supervisor


def test_citizen_pages(db, citizen_client):
    client = citizen_client("zhangsan")
    home = client.get("/").content.decode()
    person = Person.objects.get(user__username="zhangsan")
    # Own numbers masked on the home page (a shared screen, a shoulder), shown when asked, journalled.
    assert person.id_number not in home and person.id_number_masked in home
    assert person.phone not in home
    assert 'data-testid="my-counts"' in home and 'data-testid="recent-cases"' not in home
    revealed = client.get("/?reveal=1").content.decode()
    assert person.id_number in revealed and person.phone in revealed
    assert AuditEntry.objects.filter(action="accounts.person.reveal_own").count() == 1
    assert "广安区示例餐饮有限公司" in client.get("/accounts/enterprises").content.decode()
    assert client.get("/org/staff").status_code == 403
    assert client.get("/audit/").status_code == 403


def test_anonymous_visitors_see_the_landing_page_and_are_sent_to_login(db, client):
    assert "通办" in client.get("/").content.decode()
    response = client.get("/org/staff")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login?next=/org/staff")


def test_chinese_is_the_default_whatever_the_browser_asks(db, client):
    page = client.get("/accounts/login", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="zh-Hans"' in page.content.decode() and "登录" in page.content.decode()


def test_language_switch(db, client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login"})
    assert response.status_code == 302
    page = client.get("/accounts/login").content.decode()
    assert '<html lang="en"' in page and "Log in" in page and "Username or ID number" in page
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "用户名或身份证号" in client.get("/accounts/login").content.decode()


def test_care_mode_switches_any_page_for_anyone(db, client, citizen_client):
    page = client.get("/accounts/login").content.decode()
    assert 'class="care"' not in page
    response = client.post("/care-mode", {"care": "1", "next": "/accounts/login"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login"
    page = client.get("/accounts/login").content.decode()
    assert '<html lang="zh-Hans" class="care">' in page
    assert "标准模式" in page  # the switch back
    client.post("/care-mode", {"care": "0", "next": "/"})
    assert 'class="care"' not in client.get("/accounts/login").content.decode()
    assert client.get("/care-mode").status_code == 405


def test_person_lookup_and_reveal_through_the_pages(db, staff_client):
    client = staff_client("clerk")
    person = Person.objects.get(user__username="lisi")
    found = client.post("/window/lookup", {"id_number": person.id_number}).content.decode()
    assert person.id_number_masked in found and person.id_number not in found
    bad = client.post("/window/lookup", {"id_number": "11010519491231002"}).content.decode()
    assert 'data-field="id_number"' in bad
    page = client.get(f"/window/persons/{person.public_id}").content.decode()
    assert person.id_number not in page
    no_reason = client.post(f"/window/persons/{person.public_id}", {"reason": "x"}).content.decode()
    assert person.id_number not in no_reason and 'data-field="reason"' in no_reason
    revealed = client.post(
        f"/window/persons/{person.public_id}", {"reason": "核对申请人身份"}
    ).content.decode()
    assert person.id_number in revealed
    entry = AuditEntry.objects.filter(action="accounts.person.reveal").latest("seq")
    assert entry.detail == {"reason": "核对申请人身份"} and entry.actor_label == "clerk"


def test_register_applicant_page_validates_per_field(db, staff_client):
    client = staff_client("clerk")
    count = Person.objects.count()
    page = client.post("/window/persons/new", {"name": "", "id_number": "110105194912310021", "phone": "123"})
    html = page.content.decode()
    for field in ("name", "id_number", "phone"):
        assert f'data-field="{field}"' in html
    assert "校验位错误" in html
    assert Person.objects.count() == count
    ok = client.post("/window/persons/new", {"name": "赵六", "id_number": "11010519491231002X", "phone": ""})
    assert ok.status_code == 302 and Person.objects.count() == count + 1


def test_admin_rules_on_a_calendar_day(db, staff_client):
    client = staff_client("admin")
    response = client.post(
        "/calendar/", {"day-date": "2027-01-01", "day-is_working_day": "0", "day-name": "元旦"}
    )
    assert response.status_code == 302
    assert CalendarOverride.objects.get(date="2027-01-01").name == "元旦"
    page = client.get("/calendar/?month=2027-01").content.decode()
    assert 'data-date="2027-01-01" data-working="0"' in page


def test_audit_page_verifies_the_journal(db, staff_client):
    client = staff_client("supervisor")
    response = client.post("/audit/verify", follow=True)
    assert "审计日志完整" in response.content.decode()
    filtered = client.get("/audit/?action=accounts.mfa&outcome=success").content.decode()
    assert "accounts.mfa.verify" in filtered


def test_django_admin_needs_the_second_factor_and_the_admin_role(db, client, staff_client):
    assert client.get("/admin/").status_code == 302
    admin = staff_client("admin")
    assert admin.get("/admin/").status_code == 200
    assert admin.get("/admin/core/calendaroverride/").status_code == 200
    # Edits of reference data in the admin site go to the journal like service calls.
    response = admin.post(
        "/admin/core/calendaroverride/add/",
        {"date": "2027-02-06", "is_working_day": "on", "name": "春节调休上班"},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(action="admin.core.calendaroverride.add").latest("id")
    assert (entry.actor_label, entry.object_ref) == ("admin", "2027-02-06")
    import datetime as dt

    from tongban.core.calendar import get_calendar

    assert get_calendar().is_working_day(dt.date(2027, 2, 6))  # a Saturday, now a working day


def test_unknown_page_is_a_friendly_404(db, client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "页面不存在" in page.content.decode()


def test_healthz(db, client):
    assert client.get("/healthz").json()["status"] == "ok"


def test_the_chinese_catalogue_is_complete():
    po = Path(settings.BASE_DIR) / "src/tongban/locale/zh_Hans/LC_MESSAGES/django.po"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 127:
        pytest.skip("msgfmt (Debian gettext) not installed")
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


TEMPLATE_STRING = re.compile(
    r"""\{%\s*(?:translate|trans)\s+(["'])(.+?)\1(?:\s+context\s+(["'])(.+?)\3)?[^%]*%\}"""
)


def test_every_template_string_reads_in_chinese():
    """A string written into the catalogue by hand can miss the form the template looks it up by
    (`%` is doubled at run time), and then the page shows the English; look every one up as Django
    does, in zh-Hans."""
    from django.utils import translation

    missing = set()
    for template in (Path(settings.BASE_DIR) / "src/tongban").rglob("templates/**/*.html"):
        if "/admin/" in template.as_posix():
            continue
        for match in TEMPLATE_STRING.finditer(template.read_text(encoding="utf-8")):
            msgid, context = match.group(2).replace("%", "%%"), match.group(4)
            if not re.search(r"[a-z]{2,}", msgid):
                continue
            with translation.override("zh-hans"):
                found = translation.pgettext(context, msgid) if context else translation.gettext(msgid)
            if found == msgid:
                missing.add(f"{template.relative_to(settings.BASE_DIR)}: {match.group(2)!r}")
    assert not missing, "\n".join(sorted(missing))


@pytest.mark.parametrize(
    ("raised", "status"),
    [("conflict", 409), ("invalid", 422)],
)
def test_a_refusal_no_view_expected_is_a_page_with_its_reason_not_a_500(db, rf, raised, status):
    from django.contrib.auth.models import AnonymousUser

    from tongban.core.errors import Conflict, InvalidInput
    from tongban.core.http import domain_errors

    @domain_errors
    def view(request):
        if raised == "conflict":
            raise Conflict("已办结，不能再催办。")
        raise InvalidInput.single("x", "invalid", "已办结，不能再催办。")

    request = rf.get("/anything")
    request.user = AnonymousUser()
    request.COOKIES = {}
    response = view(request)
    assert response.status_code == status
    assert "已办结，不能再催办。" in response.content.decode()
