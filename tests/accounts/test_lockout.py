"""Issue 9, defect 7: the lockout counts failures per account — whichever of its names was typed — and
per client address, so a stranger elsewhere cannot lock staff out; an administrator can unlock."""

import json

from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from typer.testing import CliRunner

from tongban.accounts.models import Person
from tongban.cli.main import app
from tongban.core.models import AuditEntry

PASSWORD = settings.TONGBAN_DEMO_PASSWORD
LIMIT = settings.AXES_FAILURE_LIMIT


def _login(username, password=PASSWORD, address="10.0.0.1"):
    return Client(REMOTE_ADDR=address).post("/accounts/login", {"username": username, "password": password})


def test_username_and_id_number_count_as_one_account(db):
    number = Person.objects.get(user__username="lisi").id_number
    names = ["lisi", number, "LISI", number.lower(), " lisi "]
    assert len(names) == LIMIT
    for name in names[:-1]:
        assert _login(name, "wrong-password").status_code == 200
    assert _login(names[-1], "wrong-password").status_code == 429
    # Locked by every name: before, the ID number still logged in after 5 failures on the username.
    assert _login("lisi").status_code == 429
    assert _login(number).status_code == 429
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"lisi"}


def test_the_lock_holds_only_for_the_address_it_came_from(db):
    for _ in range(LIMIT):
        _login("section_head", "wrong-password", address="203.0.113.9")
    assert _login("section_head", address="203.0.113.9").status_code == 429
    # The staff member at their own desk is not locked out by a guesser elsewhere.
    response = _login("section_head", address="10.1.2.3")
    assert response.status_code == 302 and "/accounts/mfa/verify" in response["Location"]
    entry = AuditEntry.objects.filter(action="accounts.login.locked").latest("seq")
    assert entry.object_ref == "section_head" and entry.client_ip == "203.0.113.9"


def test_the_locked_page_says_what_is_locked_and_who_can_lift_it(db):
    for _ in range(LIMIT):
        _login("reviewer_rs", "wrong-password")
    page = _login("reviewer_rs").content.decode()
    assert "tongban account unlock" in page and "锁定" in page


def test_failed_logins_keep_no_id_number_in_clear(db):
    number = Person.objects.get(user__username="zhangsan").id_number
    _login(number, "wrong-password")
    _login("110105194912310021", "wrong-password")  # a number no account is bound to
    _login("11010519491231002X", "wrong-password")
    rows = list(AccessAttempt.objects.values_list("username", "post_data"))
    assert {username for username, _post in rows} >= {"zhangsan"}
    assert all(number not in post and "11010519491231002X" not in post for _u, post in rows)
    assert all("11010519491231002X" not in username for username, _post in rows)


def test_an_administrator_unlocks_from_the_staff_page(db, staff_client):
    for _ in range(LIMIT):
        _login("reviewer", "wrong-password")
    assert _login("reviewer").status_code == 429
    admin = staff_client("admin")
    page = admin.get("/org/staff/reviewer").content.decode()
    assert 'data-testid="login-locks"' in page and "10.0.0.1" in page
    assert admin.post("/org/staff/reviewer/unlock").status_code == 302
    assert _login("reviewer").status_code == 302
    entry = AuditEntry.objects.filter(action="accounts.login.unlock").latest("seq")
    assert (entry.object_ref, entry.actor_label, entry.detail["cleared"]) == ("reviewer", "admin", 1)


def test_unlock_needs_authority_over_the_account(db, staff_client):
    for _ in range(LIMIT):
        _login("reviewer", "wrong-password")
    clerk = staff_client("clerk")
    assert clerk.post("/org/staff/reviewer/unlock").status_code in (403, 404)
    refused = clerk.post("/api/v1/logins/reviewer/unlock", content_type="application/json")
    assert refused.status_code in (403, 404)
    assert _login("reviewer").status_code == 429
    # A window clerk may lift a citizen's lock (the citizen is at the desk).
    for _ in range(LIMIT):
        _login("lisi", "wrong-password")
    locks = clerk.get("/api/v1/logins/lisi/locks").json()
    assert locks[0]["locked"] is True and locks[0]["failures"] == LIMIT
    assert clerk.post("/api/v1/logins/lisi/unlock", content_type="application/json").json() == {"cleared": 1}
    assert _login("lisi").status_code == 302
    citizen = Client()
    citizen.post("/accounts/login", {"username": "zhangsan", "password": PASSWORD})
    assert json.loads(citizen.post("/api/v1/logins/lisi/unlock").content)["error"]["code"] == "not_permitted"


def test_the_operator_unlocks_at_the_command_line(db):
    for _ in range(LIMIT):
        _login("division_head", "wrong-password")
    runner = CliRunner()
    shown = runner.invoke(app, ["account", "locks", "division_head"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "10.0.0.1" in shown.output and "locked" in shown.output
    result = runner.invoke(app, ["account", "unlock", "DIVISION_HEAD"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert _login("division_head").status_code == 302
    assert runner.invoke(app, ["account", "unlock", "nobody-here"]).exit_code == 1
