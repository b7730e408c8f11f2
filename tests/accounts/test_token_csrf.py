"""Issue 9, defect 10: a stray session cookie beside a valid bearer token no longer fails the CSRF
check; a request with a session and no token still needs its CSRF token."""

from django.conf import settings
from django.test import Client

from tongban.accounts import services
from tongban.core.authz import SYSTEM

PERSON = {"name": "赵六", "id_number": "11010519491231002X", "phone": "13800000099"}


def _token() -> str:
    services.create_staff(
        SYSTEM,
        username="sys-kiosk",
        display_name="自助终端",
        department_code="xzspj",
        kind="system",
        roles=[("clerk", True)],
    )
    return services.create_api_token(SYSTEM, username="sys-kiosk", name="kiosk", days=30)[0]


def test_a_bearer_token_with_a_stray_session_cookie_is_not_refused_for_csrf(db):
    raw = _token()
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.SESSION_COOKIE_NAME] = "left-over-from-a-browser"
    response = client.post(
        "/api/v1/persons", PERSON, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code in (200, 201), response.content


def test_a_live_session_beside_a_token_does_not_lend_its_rights(db, staff_client):
    """The token decides: a clerk's logged-in session does not stand in for a wrong token."""
    client = staff_client("clerk")
    client.handler.enforce_csrf_checks = True
    response = client.post(
        "/api/v1/persons", PERSON, content_type="application/json", HTTP_AUTHORIZATION="Bearer tb_wrong"
    )
    assert response.status_code == 401


def test_a_session_without_a_token_still_needs_the_csrf_token(db, staff_client):
    client = staff_client("clerk")
    client.handler.enforce_csrf_checks = True
    response = client.post("/api/v1/persons", PERSON, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]["en"]
