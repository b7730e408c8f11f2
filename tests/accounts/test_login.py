"""Logging in: passwords (argon2), TOTP for staff, lockout after 5 failures, sessions, headers, CSRF."""

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.test import Client, override_settings

import tongban.settings as production_settings
from tests.conftest import totp_for
from tongban.accounts.models import Person, User
from tongban.core.models import AuditEntry

PASSWORD = settings.TONGBAN_DEMO_PASSWORD


def _let_throttle_pass(username):
    """...until the back-off has passed; move the failure into the past instead of sleeping."""
    import datetime as dt

    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user__username=username).update(
        throttling_failure_timestamp=timezone.now() - dt.timedelta(minutes=5)
    )


def _login(client, username, password=PASSWORD):
    return client.post("/accounts/login", {"username": username, "password": password})


def test_production_hashing_is_argon2(db):
    assert production_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=production_settings.PASSWORD_HASHERS):
        user = User.objects.get(username="lisi")
        user.set_password("a-new-long-password-2026")
        user.save()
        assert user.password.startswith("argon2$argon2id$")
        assert user.check_password("a-new-long-password-2026")
    assert make_password("x").startswith("md5$")  # the fast hasher is a test-only setting


def test_citizen_logs_in_with_username_or_id_number(db, client):
    assert _login(client, "zhangsan").status_code == 302
    assert client.get("/").status_code == 200
    client.post("/accounts/logout")
    number = Person.objects.get(user__username="zhangsan").id_number
    response = _login(client, number.lower() if number.endswith("X") else " " + number + " ")
    assert response.status_code == 302
    assert client.get("/accounts/me").status_code == 200


def test_staff_must_pass_totp_before_anything(db, client):
    response = _login(client, "clerk")
    assert response.status_code == 302 and "/accounts/mfa/verify" in response["Location"]
    # Not verified yet: pages redirect to verification, the API treats the session as anonymous.
    page = client.get("/org/staff")
    assert page.status_code == 302 and "/accounts/mfa/verify" in page["Location"]
    assert client.get("/api/v1/me").status_code == 401
    wrong = client.post("/accounts/mfa/verify", {"otp_token": "000000"})
    assert wrong.status_code == 200 and "动态码错误" in wrong.content.decode()
    # Right after a wrong code even the right one waits (django-otp's throttle)...
    throttled = client.post("/accounts/mfa/verify", {"otp_token": totp_for("clerk")})
    assert "错误次数过多" in throttled.content.decode()
    _let_throttle_pass("clerk")
    ok = client.post("/accounts/mfa/verify", {"otp_token": totp_for("clerk")})
    assert ok.status_code == 302
    assert client.get("/org/staff").status_code == 200
    assert client.get("/api/v1/me").json()["username"] == "clerk"
    actions = list(AuditEntry.objects.filter(object_ref="clerk").values_list("action", "outcome"))
    assert ("accounts.login", "success") in actions
    assert ("accounts.mfa.verify", "failed") in actions and ("accounts.mfa.verify", "success") in actions


def test_a_totp_code_cannot_be_replayed(db, client):
    code = totp_for("clerk")
    _login(client, "clerk")
    assert client.post("/accounts/mfa/verify", {"otp_token": code}).status_code == 302
    other = Client()
    _login(other, "clerk")
    replay = other.post("/accounts/mfa/verify", {"otp_token": code})
    assert replay.status_code == 200  # refused: django-otp accepts each time step once


def test_first_login_of_new_staff_enrols_a_totp_device(db, client):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tongban.accounts import services
    from tongban.core.authz import SYSTEM

    services.create_staff(
        SYSTEM,
        username="newclerk",
        display_name="新窗口",
        department_code="xzspj-zhslk",
        password="a-long-password-2026",
        roles=[("clerk", False)],
    )
    response = _login(client, "newclerk", "a-long-password-2026")
    assert "/accounts/mfa/setup" in response["Location"]
    page = client.get("/accounts/mfa/setup")
    assert page.status_code == 200 and b"data:image/svg+xml" in page.content
    device = TOTPDevice.objects.get(user__username="newclerk", confirmed=False)
    assert client.post("/accounts/mfa/setup", {"otp_token": "123456"}).status_code == 200
    _let_throttle_pass("newclerk")
    code = f"{totp(device.bin_key):06d}"
    assert client.post("/accounts/mfa/setup", {"otp_token": code}).status_code == 302
    assert TOTPDevice.objects.get(user__username="newclerk").confirmed
    assert client.get("/org/staff").status_code == 200


def test_five_failures_lock_the_account(db, client):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "reviewer", "wrong-password").status_code == 200
    locked = _login(client, "reviewer", "wrong-password")
    assert locked.status_code == 429
    # Even the right password is refused while locked, from any client at that address.
    again = _login(Client(), "reviewer", PASSWORD)
    assert again.status_code == 429
    assert "锁定" in again.content.decode()
    assert AuditEntry.objects.filter(action="accounts.login.locked", object_ref="reviewer").exists()
    # Another account is unaffected.
    assert _login(Client(), "section_head").status_code == 302


def test_lockout_counts_id_number_spellings_as_one_login(db):
    number = Person.objects.get(user__username="lisi").id_number
    full_width = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    spellings = [
        number,
        " " + number,
        number[:6] + " " + number[6:],
        full_width,
        number[:6] + "-" + number[6:],
    ]
    for spelling in spellings:
        _login(Client(), spelling, "wrong-password")
    assert _login(Client(), number, PASSWORD).status_code == 429


def test_failed_login_with_an_id_number_journals_it_masked(db, client):
    number = Person.objects.get(user__username="lisi").id_number
    _login(client, number, "wrong-password")
    entry = AuditEntry.objects.filter(action="accounts.login", outcome="failed").latest("seq")
    assert number not in entry.object_ref and entry.object_ref.startswith(number[:6] + "****")


def test_session_times_out_and_cookies_are_hardened(db, client):
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert "tongban.core.middleware.SessionIdleMiddleware" in settings.MIDDLEWARE
    response = _login(client, "zhangsan")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    # Activity renews the session, at most once a minute (no write on every request).
    from django.contrib.sessions.models import Session

    key = cookie.value
    first = Session.objects.get(session_key=key).expire_date
    client.get("/")
    assert Session.objects.get(session_key=key).expire_date == first  # touched at login: not again yet
    session = client.session
    session["_touched"] = 0
    session.save()
    client.get("/")
    assert Session.objects.get(session_key=key).expire_date > first


def test_security_headers(db, client):
    response = client.get("/accounts/login")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera" in response["Permissions-Policy"]
    assert response["X-Request-ID"]


def test_csrf_is_enforced(db):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login", {"username": "zhangsan", "password": PASSWORD})
    assert response.status_code == 403
    page = strict.get("/accounts/login")
    token = page.cookies["csrftoken"].value
    response = strict.post(
        "/accounts/login", {"username": "zhangsan", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_logout_is_post_only_and_ends_the_session(db, client):
    _login(client, "zhangsan")
    assert client.get("/accounts/logout").status_code == 405
    assert client.post("/accounts/logout").status_code == 302
    assert client.get("/accounts/me").status_code == 302


def test_open_redirects_are_refused(db, client):
    response = client.post(
        "/accounts/login?next=https://evil.example/",
        {"username": "zhangsan", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("id_number", "110105194912310021", "checksum"),
        ("id_number", "12345", "length"),
        ("phone", "12345678901", "format"),
        ("password", "12345678901", "password_entirely_numeric"),
        ("username", "zhangsan", "taken"),
    ],
)
def test_registration_rejects_bad_fields_and_writes_nothing(db, client, field, value, code):
    from tongban.accounts import services
    from tongban.core.errors import InvalidInput

    data = {
        "username": "newcitizen",
        "password": "a-long-password-2026",
        "name": "钱七",
        "id_number": "11010519491231002X",
        "phone": "13900000009",
    }
    data[field] = value
    users, persons = User.objects.count(), Person.objects.count()
    with pytest.raises(InvalidInput) as exc:
        services.register_citizen(**data)
    assert code in [p.code for p in exc.value.fields[field]]
    assert (User.objects.count(), Person.objects.count()) == (users, persons)
    page = client.post("/accounts/register", data)
    assert page.status_code == 200 and f'data-field="{field}"' in page.content.decode()
