"""The authorisation matrix (issue 9, "in CI from now on"): every URL route Django's resolver knows,
with every method the API declares for it, requested by every demo role — anonymous, a citizen and
each seeded staff role — and the outcome compared with the table below, kept by hand.

A route with no row fails the test, so a new page or API operation cannot ship without someone
deciding who may reach it. Path parameters are filled with values that exist nowhere (an unknown
code, the nil UUID), so a row says who gets past the door (to a 404 or a 422 about the value) and
who is turned away at it (login, 401, 403). The demo's people and records are the test's.

Letters, one per role in ROLES order:
  o 2xx   r redirect elsewhere   L login redirect or 401   A admin login redirect   d 403
  n 404   x 405   v 400 or 422   c 409   t 429   E 5xx (never expected)

When a row is missing or differs, the failure lists the observed rows: check each against who
should reach the route, fix the code or copy the row. TONGBAN_MATRIX_OUT=file writes them all.
"""

import json
import os
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import totp_for
from tongban.api import api

ROLES = [
    ("anonymous", ""),
    ("citizen", "zhangsan"),
    ("clerk", "clerk"),
    ("reviewer", "reviewer"),
    ("section_head", "section_head"),
    ("division_head", "division_head"),
    ("bureau_head", "bureau_head"),
    ("supervisor", "supervisor"),
    ("data_officer", "data_officer"),
    ("admin", "admin"),
    ("hotline_operator", "operator"),
]
ADDRESS = "198.51.100.20"  # not loopback: /metrics and the like answer it as they would the internet
NOWHERE = {"uuid": "00000000-0000-0000-0000-000000000000", "int": "999999"}
# Ending a session is requested last, so the role's other rows are seen logged in.
LAST = ("accounts/logout",)


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _api_methods() -> dict[str, list[str]]:
    paths = api.get_openapi_schema(path_prefix="/api/v1/")["paths"]
    return {path: sorted(m.upper() for m in ops) for path, ops in paths.items()}


def routes() -> list[str]:
    """Every route of the resolver as "METHOD pattern": pages by GET, API operations by their methods."""
    methods = _api_methods()
    rows = []
    for pattern in _walk(get_resolver().url_patterns):
        if pattern.startswith("^") or "(?P" in pattern:
            continue  # regex routes: static files under DEBUG only
        if pattern.startswith("api/v1/"):
            openapi_path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)
            for method in methods.get(openapi_path, ["GET"]):
                rows.append(f"{method} {pattern}")
        else:
            rows.append(f"GET {pattern}")
    return sorted(set(rows))


def concrete(pattern: str) -> str:
    def fill(match):
        converter = match.group(1) or "str"
        return NOWHERE.get(converter, "nowhere")

    return "/" + re.sub(r"<(?:(\w+):)?\w+>", fill, pattern)


def outcome(response) -> str:
    status = response.status_code
    if status >= 500:
        return "E"
    if status in (301, 302, 303, 307, 308):
        location = response.get("Location", "")
        if location.startswith("/admin/login"):
            return "A"
        return "L" if location.startswith(str(settings.LOGIN_URL)) or "/accounts/login" in location else "r"
    return {401: "L", 403: "d", 404: "n", 405: "x", 400: "v", 422: "v", 409: "c", 429: "t"}.get(
        status, "o" if 200 <= status < 300 else f"?{status}"
    )


def _client(username: str) -> Client:
    client = Client(REMOTE_ADDR=ADDRESS, raise_request_exception=False)
    if not username:
        return client
    login = client.post("/accounts/login", {"username": username, "password": settings.TONGBAN_DEMO_PASSWORD})
    assert login.status_code == 302, (username, login.status_code)
    if "mfa" in login["Location"]:
        assert "setup" not in login["Location"], f"{username} has no confirmed authenticator left"
        verified = client.post("/accounts/mfa/verify", {"otp_token": totp_for(username)})
        assert verified.status_code == 302 and "mfa" not in verified["Location"], username
    return client


def _request(client: Client, row: str):
    method, pattern = row.split(" ", 1)
    url = concrete(pattern)
    if method == "GET":
        return client.get(url)
    if pattern.startswith("api/v1/"):
        return client.generic(method, url, "{}", content_type="application/json")
    return client.post(url, {})


def _with_methods(rows: list[str]) -> list[str]:
    """A page whose view takes only POST (it answers GET with 405) is requested by POST, with an
    empty form: the row then says who may submit it."""
    anonymous = _client("")
    out = []
    for row in rows:
        page = row.startswith("GET ") and not row.startswith("GET api/v1/")
        if page and _request(anonymous, row).status_code == 405:
            row = "POST " + row.removeprefix("GET ")
        out.append(row)
    return [r for r in out if r.split(" ", 1)[1] not in LAST] + [r for r in out if r.split(" ", 1)[1] in LAST]


def observe() -> dict[str, str]:
    seen = {row: [] for row in _with_methods(routes())}
    for _role, username in ROLES:
        client = _client(username)
        for row in seen:
            seen[row].append(outcome(_request(client, row)))
    return {row: "".join(letters) for row, letters in seen.items()}


@pytest.mark.django_db
def test_every_route_answers_every_role_as_the_table_says():
    observed = observe()
    if os.environ.get("TONGBAN_MATRIX_OUT"):
        with open(os.environ["TONGBAN_MATRIX_OUT"], "w") as out:
            out.writelines(f"    {json.dumps(row)}: {json.dumps(got)},\n" for row, got in observed.items())
    errors = {row: got for row, got in observed.items() if "E" in got or "?" in got}
    assert errors == {}, "server errors or unexpected statuses"
    missing = {row: got for row, got in observed.items() if row not in EXPECTED}
    assert missing == {}, "routes without a row in EXPECTED (check who should reach them, then add)"
    differ = {row: (EXPECTED[row], got) for row, got in observed.items() if EXPECTED[row] != got}
    assert differ == {}, "(expected, observed) per route, roles in ROLES order"
    gone = sorted(set(EXPECTED) - set(observed))
    assert gone == [], "rows for routes that no longer exist"


def test_the_matrix_covers_the_whole_route_list():
    assert len(ROLES) == 11
    assert len(routes()) >= 300  # pages, API operations and the admin site


# Roles: anonymous citizen clerk reviewer section_head division_head bureau_head supervisor
# data_officer admin hotline_operator
EXPECTED = {
    # the reform programme office (issue 15): planners, task owners and heads; citizens, clerks and
    # operators are refused; a programme nobody may read is a 404
    "GET api/v1/programme/programmes": "Lddoooooood",
    "GET api/v1/programme/programmes/<code>/gantt": "Lddnnnnnnnd",
    "GET api/v1/programme/programmes/<code>/schedule-risk": "Lddnnnnnnnd",
    "GET programme/": "Lddoooooood",
    "GET programme/<str:code>/": "Lddnnnnnnnd",
    "GET programme/<str:code>/export.xlsx": "Lddnnnnnnnd",
    "POST programme/<str:code>/import": "Lddnnnnnnnd",
    "GET programme/<str:code>/risk": "Lddnnnnnnnd",
    "POST programme/<str:code>/tasks/<str:task>/progress": "Lddnnnnnnnd",
    "GET programme/<str:code>/tasks/<str:task>/warning.pdf": "Lddnnnnnnnd",
    "GET programme/<str:code>/three-lists.xlsx": "Lddnnnnnnnd",
    "GET programme/<str:code>/tasks/<str:task>/weekly": "Lddnnnnnnnd",
    "GET programme/<str:code>/tasks/<str:task>/weekly/<str:week>/evidence/<int:number>": "Lddnnnnnnnd",
    "GET programme/<str:code>/weekly": "Lddnnnnnnnd",
    "GET programme/<str:code>/funds": "Lddnnnnnnnd",
    "GET programme/<str:code>/risks": "Lddnnnnnnnd",
    "GET programme/<str:code>/weekly.pdf": "Lddnnnnnnnd",
    "POST programme/new": "Lddddddvdvd",
    "POST api/v1/programme/programmes": "Lvvvvvvvvvv",
    "POST api/v1/programme/programmes/<code>/import": "Lvvvvvvvvvv",
    "POST api/v1/programme/programmes/<code>/tasks/<task>/progress": "Lvvvvvvvvvv",
    "POST api/v1/programme/programmes/<code>/tasks/<task>/reschedule": "Lvvvvvvvvvv",
    # the same for other systems (issue 15): weekly reports, funds and the risk register are read by
    # whoever reads the programme; writes are checked past the body (an empty one is a 422 first)
    "GET api/v1/programme/programmes/<code>/tasks/<task>/weekly-reports": "Lddnnnnnnnd",
    "POST api/v1/programme/programmes/<code>/tasks/<task>/weekly-reports": "Lddnnnnnnnd",
    "GET api/v1/programme/programmes/<code>/tasks/<task>/evidence/<week>/<number>": "Lddnnnnnnnd",
    "GET api/v1/programme/programmes/<code>/funds": "Lddnnnnnnnd",
    "GET api/v1/programme/programmes/<code>/funds/spendings": "Lddnnnnnnnd",
    "POST api/v1/programme/programmes/<code>/funds/spendings": "Lvvvvvvvvvv",
    "GET api/v1/programme/programmes/<code>/risks": "Lddnnnnnnnd",
    "POST api/v1/programme/programmes/<code>/risks": "Lvvvvvvvvvv",
    "PUT api/v1/programme/programmes/<code>/risks/<risk>": "Lvvvvvvvvvv",
    # published consultations are public; commenting through the API needs a login or a token
    "GET api/v1/programme/consultations": "ooooooooooo",
    "GET api/v1/programme/consultations/<code>": "nnnnnnnnnnn",
    "POST api/v1/programme/consultations/<code>/comments": "Lvvvvvvvvvv",
    # public consultation (意见征集): anyone reads a published one and comments while it is open
    # (an unknown code is a 404 for everyone); planners manage, programme readers look on
    "GET consultations/": "ooooooooooo",
    "GET consultations/<str:code>/": "nnnnnnnnnnn",
    "POST consultations/<str:code>/comment": "nnnnnnnnnnn",
    "GET consultations/<str:code>/receipt/<str:receipt>": "nnnnnnnnnnn",
    "GET consultations/<str:code>/report": "nnnnnnnnnnn",
    "GET consultations/<str:code>/report.pdf": "nnnnnnnnnnn",
    "GET consultations/manage/": "Ldddooooood",
    "GET consultations/manage/<str:code>/": "Ldddnnnnnnd",
    "POST consultations/manage/<str:code>/comments/<int:number>/decide": "Ldddnnnnnnd",
    "POST consultations/manage/<str:code>/comments/<int:number>/moderate": "Ldddnnnnnnd",
    "POST consultations/manage/<str:code>/publish": "Ldddnnnnnnd",
    "POST consultations/manage/<str:code>/report": "Ldddnnnnnnd",
    "POST consultations/manage/new": "Lddddddvdvd",
    "DELETE api/v1/calendar/overrides/<day>": "Lvvvvvvvvvv",
    "DELETE api/v1/catalog/items/<code>/draft": "Lnnnnnnnnnn",
    "DELETE api/v1/staff/<username>/roles/<role>/<department_code>": "Lvvvvvvvvvv",
    "GET ": "ooooooooooo",
    "GET accounts/enterprises": "Loooooooooo",
    "GET accounts/identity": "Loddddddddd",
    "GET accounts/login": "orrrrrrrrrr",
    "GET accounts/me": "Loooooooooo",
    "GET accounts/mfa/setup": "Lorrrrrrrrr",
    "GET accounts/mfa/verify": "Lrooooooooo",
    "GET accounts/register": "ooooooooooo",
    "GET admin/": "AAAAAAAAAoA",
    "GET admin/accounts/department/": "AAAAAAAAAoA",
    "GET admin/accounts/department/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/accounts/department/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/accounts/department/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/accounts/department/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/accounts/department/add/": "AAAAAAAAAoA",
    "GET admin/accounts/region/": "AAAAAAAAAoA",
    "GET admin/accounts/region/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/accounts/region/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/accounts/region/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/accounts/region/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/accounts/region/add/": "AAAAAAAAAoA",
    "GET admin/accounts/servicecentre/": "AAAAAAAAAoA",
    "GET admin/accounts/servicecentre/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/accounts/servicecentre/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/accounts/servicecentre/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/accounts/servicecentre/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/accounts/servicecentre/add/": "AAAAAAAAAoA",
    "GET admin/accounts/staff/": "AAAAAAAAAoA",
    "GET admin/accounts/staff/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/accounts/staff/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/accounts/staff/<path:object_id>/delete/": "AAAAAAAAAdA",
    "GET admin/accounts/staff/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/accounts/staff/add/": "AAAAAAAAAdA",
    "GET admin/accounts/user/": "AAAAAAAAAoA",
    "GET admin/accounts/user/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/accounts/user/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/accounts/user/<path:object_id>/delete/": "AAAAAAAAAdA",
    "GET admin/accounts/user/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/accounts/user/add/": "AAAAAAAAAdA",
    "GET admin/accounts/window/": "AAAAAAAAAoA",
    "GET admin/accounts/window/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/accounts/window/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/accounts/window/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/accounts/window/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/accounts/window/add/": "AAAAAAAAAoA",
    "GET admin/auth/group/": "AAAAAAAAAoA",
    "GET admin/auth/group/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/auth/group/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/auth/group/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/auth/group/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/auth/group/add/": "AAAAAAAAAoA",
    "GET admin/autocomplete/": "AAAAAAAAAdA",
    "GET admin/axes/accessattempt/": "AAAAAAAAAoA",
    "GET admin/axes/accessattempt/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/axes/accessattempt/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/axes/accessattempt/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/axes/accessattempt/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/axes/accessattempt/add/": "AAAAAAAAAdA",
    "GET admin/axes/accessfailurelog/": "AAAAAAAAAoA",
    "GET admin/axes/accessfailurelog/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/axes/accessfailurelog/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/axes/accessfailurelog/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/axes/accessfailurelog/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/axes/accessfailurelog/add/": "AAAAAAAAAdA",
    "GET admin/axes/accesslog/": "AAAAAAAAAoA",
    "GET admin/axes/accesslog/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/axes/accesslog/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/axes/accesslog/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/axes/accesslog/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/axes/accesslog/add/": "AAAAAAAAAdA",
    "GET admin/catalog/bundle/": "AAAAAAAAAoA",
    "GET admin/catalog/bundle/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/catalog/bundle/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/catalog/bundle/<path:object_id>/delete/": "AAAAAAAAAdA",
    "GET admin/catalog/bundle/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/catalog/bundle/add/": "AAAAAAAAAdA",
    "GET admin/catalog/itemversion/": "AAAAAAAAAoA",
    "GET admin/catalog/itemversion/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/catalog/itemversion/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/catalog/itemversion/<path:object_id>/delete/": "AAAAAAAAAdA",
    "GET admin/catalog/itemversion/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/catalog/itemversion/add/": "AAAAAAAAAdA",
    "GET admin/catalog/serviceitem/": "AAAAAAAAAoA",
    "GET admin/catalog/serviceitem/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/catalog/serviceitem/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/catalog/serviceitem/<path:object_id>/delete/": "AAAAAAAAAdA",
    "GET admin/catalog/serviceitem/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/catalog/serviceitem/add/": "AAAAAAAAAdA",
    "GET admin/core/auditcheckpoint/": "AAAAAAAAAoA",
    "GET admin/core/auditcheckpoint/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/core/auditcheckpoint/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/core/auditcheckpoint/<path:object_id>/delete/": "AAAAAAAAAdA",
    "GET admin/core/auditcheckpoint/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/core/auditcheckpoint/add/": "AAAAAAAAAdA",
    "GET admin/core/auditentry/": "AAAAAAAAAoA",
    "GET admin/core/auditentry/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/core/auditentry/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/core/auditentry/<path:object_id>/delete/": "AAAAAAAAAdA",
    "GET admin/core/auditentry/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/core/auditentry/add/": "AAAAAAAAAdA",
    "GET admin/core/calendaroverride/": "AAAAAAAAAoA",
    "GET admin/core/calendaroverride/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/core/calendaroverride/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/core/calendaroverride/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/core/calendaroverride/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/core/calendaroverride/add/": "AAAAAAAAAoA",
    "GET admin/core/calendaryear/": "AAAAAAAAAoA",
    "GET admin/core/calendaryear/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/core/calendaryear/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/core/calendaryear/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/core/calendaryear/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/core/calendaryear/add/": "AAAAAAAAAoA",
    "GET admin/core/deadletter/": "AAAAAAAAAoA",
    "GET admin/core/deadletter/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/core/deadletter/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/core/deadletter/<path:object_id>/delete/": "AAAAAAAAAdA",
    "GET admin/core/deadletter/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/core/deadletter/add/": "AAAAAAAAAdA",
    "GET admin/hotline/category/": "AAAAAAAAAoA",
    "GET admin/hotline/category/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/hotline/category/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/hotline/category/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/hotline/category/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/hotline/category/add/": "AAAAAAAAAoA",
    "GET admin/hotline/timelimit/": "AAAAAAAAAoA",
    "GET admin/hotline/timelimit/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/hotline/timelimit/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/hotline/timelimit/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/hotline/timelimit/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/hotline/timelimit/add/": "AAAAAAAAAoA",
    "GET admin/hotline/trainingexample/": "AAAAAAAAAoA",
    "GET admin/hotline/trainingexample/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/hotline/trainingexample/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/hotline/trainingexample/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/hotline/trainingexample/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/hotline/trainingexample/add/": "AAAAAAAAAoA",
    "GET admin/hotline/workorder/": "AAAAAAAAAoA",
    "GET admin/hotline/workorder/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/hotline/workorder/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/hotline/workorder/<path:object_id>/delete/": "AAAAAAAAAdA",
    "GET admin/hotline/workorder/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/hotline/workorder/add/": "AAAAAAAAAdA",
    "GET admin/jsi18n/": "AAAAAAAAAoA",
    "GET admin/login/": "oooooooooro",
    "GET admin/logout/": "rrrrrrrrrxr",
    "GET admin/otp_static/staticdevice/": "AAAAAAAAAoA",
    "GET admin/otp_static/staticdevice/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/otp_static/staticdevice/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/otp_static/staticdevice/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/otp_static/staticdevice/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/otp_static/staticdevice/add/": "AAAAAAAAAoA",
    "GET admin/otp_totp/totpdevice/": "AAAAAAAAAoA",
    "GET admin/otp_totp/totpdevice/<int:pk>/config/": "AAAAAAAAAdA",
    "GET admin/otp_totp/totpdevice/<int:pk>/qrcode/": "AAAAAAAAAdA",
    "GET admin/otp_totp/totpdevice/<path:object_id>/": "AAAAAAAAArA",
    "GET admin/otp_totp/totpdevice/<path:object_id>/change/": "AAAAAAAAArA",
    "GET admin/otp_totp/totpdevice/<path:object_id>/delete/": "AAAAAAAAArA",
    "GET admin/otp_totp/totpdevice/<path:object_id>/history/": "AAAAAAAAArA",
    "GET admin/otp_totp/totpdevice/add/": "AAAAAAAAAoA",
    "GET admin/password_change/": "AAAAAAAAAoA",
    "GET admin/password_change/done/": "AAAAAAAAAoA",
    "GET admin/r/<path:content_type_id>/<path:object_id>/": "AAAAAAAAAnA",
    "GET api/v1/": "nnnnnnnnnnn",
    "GET api/v1/audit/entries": "Lddddddodod",
    "GET api/v1/calendar/add": "vvvvvvvvvvv",
    "GET api/v1/calendar/between": "vvvvvvvvvvv",
    "GET api/v1/calendar/days": "vvvvvvvvvvv",
    "GET api/v1/cases/<number>": "Lnnnnnnnnnn",
    "GET api/v1/cases/<number>/document": "Lnnnnnnnnnn",
    "GET api/v1/cases/<number>/materials/<material_id>/file": "Lvvvvvvvvvv",
    "GET api/v1/cases/<number>/prechecks": "Lnnnnnnnnnn",
    "GET api/v1/catalog/bundles/<code>": "nnnnnnnnnnn",
    "GET api/v1/catalog/items": "ooooooooooo",
    "GET api/v1/catalog/items/<code>": "nnnnnnnnnnn",
    "GET api/v1/catalog/items/<code>/decision-table": "Lnnnnnnnnnn",
    "GET api/v1/catalog/items/<code>/decision-table.dmn": "Lnnnnnnnnnn",
    "GET api/v1/catalog/items/<code>/draft": "Lnnnnnnnnnn",
    "GET api/v1/catalog/items/<code>/versions": "Lnnnnnnnnnn",
    "GET api/v1/catalog/search": "vvvvvvvvvvv",
    "GET api/v1/departments": "Ldooooooooo",
    "GET api/v1/departments/<code>": "Ldnnnnnnnnn",
    "GET api/v1/docs": "ooooooooooo",
    "GET api/v1/documents/<ref>": "Lnnnnnnnnnn",
    "GET api/v1/documents/search": "Lvvvvvvvvvv",
    "GET api/v1/documents/<ref>/pdf": "Lnnnnnnnnnn",
    "GET api/v1/enterprises/<uscc>": "Lnnnnnnnnnn",
    "GET api/v1/exchange/calls/stats": "Ldooooododd",
    "GET api/v1/exchange/grants": "Ldooooododd",
    "GET api/v1/exchange/grants/<reference>": "Lnnnnnnnnnn",
    "GET api/v1/exchange/kpis": "Lvvvvvvvvvv",
    "GET api/v1/exchange/resources": "Ldooooododd",
    "GET api/v1/exchange/resources/<code>": "Ldnnnnndndd",
    "GET api/v1/exchange/resources/<code>/quality": "Lnnnnnnnnnn",
    "GET api/v1/health": "ooooooooooo",
    "GET api/v1/guide/answers": "vvvvvvvvvvv",
    "POST api/v1/guide/clicks": "Lvvvvvvvvvv",
    "POST api/v1/guide/handoffs": "Lvvvvvvvvvv",
    "GET guide/": "ooooooooooo",
    "POST guide/open": "rrrrrrrrrrr",
    "POST guide/handoff": "Lrddddddddd",
    # city events: an event system's bearer token only (tests/hotline/test_city_events.py), never a login
    "GET api/v1/hotline/city-event-orders/<number>": "LLLLLLLLLLL",
    "GET api/v1/hotline/city-events": "LLLLLLLLLLL",
    "POST api/v1/hotline/city-events": "LLLLLLLLLLL",
    "GET api/v1/hotline/event-rules": "Ldddddddddo",
    "GET api/v1/hotline/knowledge": "Lvvvvvvvvvv",
    "POST api/v1/hotline/answered-calls": "Lvvvvvvvvvv",
    "POST api/v1/hotline/event-rules": "Lvvvvvvvvvv",
    "GET api/v1/hotline/machine-found": "Lvvvvvvvvvv",
    "GET api/v1/hotline/orders": "Lodoooooddo",
    "GET api/v1/hotline/orders/<number>": "Lnnnnnnnnnn",
    "GET api/v1/hotline/orders/<number>/contact": "Lnnnnnnnnnn",
    "GET api/v1/hotline/orders/<number>/events": "Lnnnnnnnnnn",
    "GET api/v1/identity/claims": "Ldoddddddod",
    "GET api/v1/identity/claims/<public_id>": "Lvvvvvvvvvv",
    "GET api/v1/insight/cockpit": "Lddddooodod",
    "GET api/v1/insight/kpis": "Lvvvvvvvvvv",
    "GET api/v1/insight/logs": "Lddddddoood",
    "GET api/v1/insight/logs/<log_id>/analysis": "Lddddddnnnd",
    "GET api/v1/insight/supervision": "Lvvvvvvvvvv",
    "GET api/v1/licences/keys": "ooooooooooo",
    "GET api/v1/logins/<username>/locks": "Lnnnnnnnnnn",
    "GET api/v1/me": "Loooooooooo",
    "GET api/v1/me/enterprises": "Loooooooooo",
    "GET api/v1/me/identity": "Loddddddddd",
    "GET api/v1/me/notifications": "Loooooooooo",
    "GET api/v1/my/cases": "Loooooooooo",
    "GET api/v1/openapi.json": "ooooooooooo",
    "GET api/v1/persons/<public_id>": "Lvvvvvvvvvv",
    "GET api/v1/staff": "Ldooooooooo",
    "GET api/v1/staff/<username>": "Lnnnnnnnnnn",
    "GET api/v1/verify/<code>": "ooooooooooo",
    "GET api/v1/window/cases": "Ldoddddddod",
    "GET api/v1/windows": "Ldooooooooo",
    "GET api/v1/work": "Ldooooooooo",
    "GET api/v1/work/<work_id>": "Lvvvvvvvvvv",
    "GET api/v1/workflow/decisions/<decision_id>": "Ldddddddnnd",
    "GET api/v1/work/overdue": "Ldddooooddd",
    "GET audit/": "Lddddddodod",
    "POST audit/verify": "Lddddddrdrd",
    "GET calendar/": "LLooooooooo",
    "POST calendar/confirm-year": "Lddddddddrd",
    "POST care-mode": "rrrrrrrrrrr",
    "GET cases/<str:number>/document.pdf": "Lnnnnnnnnnn",
    "GET cases/<str:number>/materials/<int:material_id>": "Lnnnnnnnnnn",
    "GET catalog/": "Ldddddddood",
    "GET catalog/items/<str:code>/": "Lnnnnnnnnnn",
    "POST catalog/items/<str:code>/discard": "Lnnnnnnnnnn",
    "POST catalog/items/<str:code>/publish": "Lnnnnnnnnnn",
    "GET catalog/items/<str:code>/rules": "Ldnnnnnnnnn",
    "POST catalog/items/<str:code>/rules/dmn": "Ldnnnnnnnnn",
    "POST catalog/items/<str:code>/rules/publish": "Ldnnnnnnnnn",
    "GET catalog/items/<str:code>/rules/v<int:version>.dmn": "Ldnnnnnnnnn",
    "GET documents/": "Ldooooooooo",
    "GET documents/all": "Ldooooooooo",
    "GET documents/archive/": "Ldooooooooo",
    "GET documents/search": "Ldooooooooo",
    "POST documents/d/<str:ref>/dispose": "Lnnnnnnnnnn",
    "GET documents/d/<str:ref>/": "Lnnnnnnnnnn",
    "GET documents/d/<str:ref>/diff": "Lnnnnnnnnnn",
    "GET documents/d/<str:ref>/edit": "Lnnnnnnnnnn",
    "GET documents/d/<str:ref>/ofd": "Lnnnnnnnnnn",
    "GET documents/d/<str:ref>/pdf": "Lnnnnnnnnnn",
    "POST documents/d/<str:ref>/steps/<uuid:work_id>": "Lnnnnnnnnnn",
    "POST documents/d/<str:ref>/withdraw": "Lnnnnnnnnnn",
    "GET documents/new": "Lddoooodddd",
    "GET documents/received/": "Lddoooooddd",
    "GET documents/received/<str:ref>/": "Lnnnnnnnnnn",
    "GET documents/received/<str:ref>/pdf": "Lnnnnnnnnnn",
    "POST documents/received/<str:ref>/sign-for": "Lnnnnnnnnnn",
    "POST documents/received/<str:ref>/steps/<uuid:work_id>": "Lnnnnnnnnnn",
    "GET documents/supervision/": "Ldooooooooo",
    "GET documents/supervision/<str:ref>/": "Lnnnnnnnnnn",
    "POST documents/supervision/<str:ref>/close": "Lnnnnnnnnnn",
    "POST documents/supervision/<str:ref>/notice": "Lnnnnnnnnnn",
    "POST documents/supervision/<str:ref>/report": "Lnnnnnnnnnn",
    "GET documents/verify": "Loooooooooo",
    "GET exchange/": "Ldooooododd",
    "GET exchange/calls/": "Ldooooododd",
    "GET exchange/grants/": "Ldooooododd",
    "GET exchange/grants/<str:reference>/": "Lnnnnnnnnnn",
    "POST exchange/grants/<str:reference>/decide": "Lnnnnnnnnnn",
    "POST exchange/grants/<str:reference>/revoke": "Lnnnnnnnnnn",
    "GET exchange/grants/new": "Ldooooododd",
    "GET exchange/negative-list/": "Ldooooododd",
    "POST exchange/negative-list/remove": "Ldddddddndd",
    "GET exchange/resources/<slug:code>/": "Ldnnnnndndd",
    "GET favicon.ico": "rrrrrrrrrrr",
    "GET healthz": "ooooooooooo",
    "GET hotline/": "Lrdoooooddo",
    "GET hotline/console": "Ldddddddddo",
    "POST hotline/console/knowledge": "Ldddddddddo",
    # Open311: the format is part of the path; the matrix's filler is no format (404 for all). Who may
    # read and post requests (an api_key, not a login) is tested in tests/hotline/test_open311.py.
    "GET open311/v2/discovery.<str:fmt>": "nnnnnnnnnnn",
    "GET open311/v2/services.<str:fmt>": "nnnnnnnnnnn",
    "GET open311/v2/services/<str:code>.<str:fmt>": "nnnnnnnnnnn",
    "GET open311/v2/requests.<str:fmt>": "nnnnnnnnnnn",
    "GET open311/v2/requests/<str:number>.<str:fmt>": "nnnnnnnnnnn",
    "GET open311/v2/tokens/<str:token>.<str:fmt>": "nnnnnnnnnnn",
    "GET hotline/hotspots": "Lddddddoddo",
    "GET hotline/console/earlier": "Ldddddddddo",
    "POST hotline/console/suggest": "Ldddddddddo",
    "POST hotline/new/similar": "Loddddddddo",
    "POST hotline/orders/<str:number>/follow": "Lnddddddddd",
    "GET hotline/mine": "Lorrrrrrrrr",
    "GET hotline/new": "Loddddddddd",
    "GET hotline/orders/<str:number>/": "Lnnnnnnnnnn",
    "GET hotline/orders/<str:number>/contact": "Lnnnnnnnnnn",
    "GET hotline/rates": "Lddoooooddo",
    "GET i18n/setlang/": "rrrrrrrrrrr",
    "GET policies/": "Lrrrrrrrrrr",
    # proactive services over the API (issue 16): a citizen's own grants; staff have none of their own
    "GET api/v1/proactive/benefits": "Loddddddddd",
    "GET api/v1/proactive/enterprises/<uscc>/matches": "Lnnnnnnnnnn",
    "POST api/v1/proactive/benefits/<reference>/accept": "Lnnnnnnnnnn",
    "POST api/v1/proactive/benefits/<reference>/decline": "Lvvvvvvvvvv",
    "POST api/v1/proactive/benefits/<reference>/contest": "Lvvvvvvvvvv",
    "POST policies/benefits/<str:reference>/contest": "Lnnnnnnnnnn",
    "POST policies/benefits/<str:reference>/review": "Lnnnnnnnnnn",
    "GET policies/enterprises/<str:uscc>/": "Lnnnnnnnnnn",
    "GET policies/manage/": "Ldddooododd",
    "GET policies/manage/<slug:code>/": "Lnnnnnnnnnn",
    "GET policies/manage/<slug:code>/results": "Lnnnnnnnnnn",
    "GET policies/manage/contests": "Ldddooododd",
    "GET policies/manage/new": "Ldddooododd",
    "POST policies/manage/run": "Ldddrrrdrdd",
    "GET inbox/": "Loooooooooo",
    "GET insight/": "Lddddddoood",
    "GET insight/cockpit": "Lddddooodod",
    "GET insight/logs/": "Lddddddoood",
    "GET insight/logs/<uuid:public_id>/": "Lddddddnnnd",
    "GET insight/logs/<uuid:public_id>/export.<str:kind>": "Lddddddnnnd",
    "GET insight/logs/<uuid:public_id>/what-if": "Lddddddnnnd",
    "POST insight/logs/cases": "Lddddddrrrd",
    "GET insight/redesigns": "Lddddddoood",
    "POST insight/reports": "Lrrrrrrrrrr",
    "GET insight/reports/<str:month>.<str:kind>": "Lddddddnnnd",
    "POST insight/targets": "Lddddddrrrd",
    "GET insight/warning/<str:code>/<str:kpi>.pdf": "Lddddddrrrd",
    "GET me/licences/": "Loooooooooo",
    "GET me/licences/<str:code>.<str:kind>": "Lnnnnnnnnnn",
    "GET me/licences/<str:code>/show": "Lnnnnnnnnnn",
    "GET metrics": "nnnnnnnnnnn",
    "GET my/cases/": "Loooooooooo",
    "POST my/drafts/<int:draft_id>/discard": "Lnddddddddd",
    "GET my/cases/<str:number>/": "Lnnnnnnnnnn",
    "GET my/cases/<str:number>/process.bpmn": "Lnnnnnnnnnn",
    "POST my/cases/<str:number>/rate": "Lnnnnnnnnnn",
    "POST my/cases/<str:number>/supplement": "Lnnnnnnnnnn",
    "POST my/cases/<str:number>/supply": "Lnnnnnnnnnn",
    "GET my/cases/<str:number>/withdraw": "Lnnnnnnnnnn",
    "GET org/departments": "Ldooooooooo",
    "GET org/staff": "Ldooooooooo",
    "GET org/staff/<str:username>": "Lnnnnnnnnnn",
    "POST org/staff/<str:username>/unlock": "Lnnnnnnnnnn",
    "GET org/windows": "Ldooooooooo",
    "GET processes/": "Ldddddddood",
    "GET processes/<str:key>/": "Ldddddddnnd",
    "GET processes/<str:key>/v<int:version>.bpmn": "Ldddddddnnd",
    "GET processes/upload/": "Ldddddddood",
    "GET readyz": "ooooooooooo",
    "GET progress/": "ooooooooooo",
    "GET services/": "ooooooooooo",
    "GET services/bundles/<str:code>/": "nnnnnnnnnnn",
    "GET services/bundles/<str:code>/apply": "Lnddddddddd",
    "GET services/departments/<str:code>/": "nnnnnnnnnnn",
    "GET services/items/<str:code>/": "nnnnnnnnnnn",
    "GET services/items/<str:code>/form.pdf": "nnnnnnnnnnn",
    "GET services/items/<str:code>/sample.pdf": "nnnnnnnnnnn",
    "GET services/items/<str:code>/apply": "Lnddddddddd",
    "GET verify/": "ooooooooooo",
    "GET verify/<str:code>": "nnnnnnnnnnn",
    "GET verify/qr": "ooooooooooo",
    "GET verify/scan/": "ooooooooooo",
    "GET window/apply": "Ldoddddddod",
    "GET window/cases/": "Ldoddddddod",
    "GET window/cases/<str:number>/": "Ldnddddddnd",
    "POST window/cases/<str:number>/check": "Ldnddddddnd",
    "POST window/cases/<str:number>/issue": "Ldnddddddnd",
    "GET window/cases/<str:number>/materials/<int:material_id>": "Ldnddddddnd",
    "GET window/cases/<str:number>/notices/<int:seq>": "Ldnddddddnd",
    "GET window/cases/<str:number>/receipt": "Ldnddddddnd",
    "POST window/cases/<str:number>/received": "Ldnddddddnd",
    "POST window/cases/<str:number>/refuse": "Ldnddddddnd",
    "POST window/cases/<str:number>/supply": "Ldrddddddrd",
    "GET window/identity": "Ldoddddddod",
    "GET window/identity/<uuid:public_id>": "Ldnddddddnd",
    "GET window/lookup": "Ldoooooddod",
    "GET window/persons/<uuid:public_id>": "Lnnnnnnnnnn",
    "POST window/persons/<uuid:public_id>/verify": "Lrrrrrrrrrr",
    "GET window/persons/new": "Ldoddddddod",
    "GET work/": "Ldooooooooo",
    "GET work/done/": "Ldooooooooo",
    "POST work/claim": "Lrrrrrrrrrr",
    "GET work/done/export.xlsx": "Ldooooooooo",
    "GET work/export.xlsx": "Ldooooooooo",
    "GET work/opinions/": "Ldooooooooo",
    "POST work/opinions/<int:opinion_id>/delete": "Ldnnnnnnnnn",
    "GET work/<uuid:work_id>/": "Lnnnnnnnnnn",
    "POST work/<uuid:work_id>/claim": "Lnnnnnnnnnn",
    "POST work/<uuid:work_id>/complete": "Lnnnnnnnnnn",
    "POST work/<uuid:work_id>/countersign": "Lnnnnnnnnnn",
    "POST work/<uuid:work_id>/inspection": "Lnnnnnnnnnn",
    "POST work/<uuid:work_id>/procedure": "Lnnnnnnnnnn",
    "POST work/<uuid:work_id>/procedure/end": "Lnnnnnnnnnn",
    "GET work/<uuid:work_id>/process.bpmn": "Lnnnnnnnnnn",
    "POST work/<uuid:work_id>/rectification": "Lnnnnnnnnnn",
    "POST work/<uuid:work_id>/remind": "Lnnnnnnnnnn",
    "POST work/<uuid:work_id>/return": "Lnnnnnnnnnn",
    "POST work/<uuid:work_id>/supplement": "Lnnnnnnnnnn",
    "POST work/<uuid:work_id>/transfer": "Lnnnnnnnnnn",
    "GET work/overdue": "Ldddooooddd",
    "PATCH api/v1/catalog/items/<code>/draft": "Lnnnnnnnnnn",
    "POST api/v1/audit/verify": "Lddddddodod",
    "POST api/v1/cases": "Lvddddddddd",
    "POST api/v1/cases/<number>/accept": "Ldnddddddnd",
    "POST api/v1/cases/<number>/issue": "Ldnddddddnd",
    "POST api/v1/cases/<number>/materials/<name>": "Lvvvvvvvvvv",
    "POST api/v1/cases/<number>/procedures": "Lvvvvvvvvvv",
    "POST api/v1/cases/<number>/procedures/end": "Lvvvvvvvvvv",
    "POST api/v1/cases/<number>/messages": "Lvvvvvvvvvv",
    "POST api/v1/cases/<number>/rating": "Lvvvvvvvvvv",
    "POST api/v1/cases/<number>/refuse": "Lvvvvvvvvvv",
    "POST api/v1/cases/<number>/supplement": "Lvvvvvvvvvv",
    "POST api/v1/cases/<number>/supplement-response": "Lnnnnnnnnnn",
    "POST api/v1/cases/<number>/withdraw": "Lnnnnnnnnnn",
    "POST api/v1/cases/multipart": "Lvvvvvvvvvv",
    "POST api/v1/catalog/bundles": "Lvvvvvvvvvv",
    "POST api/v1/catalog/items": "Lvvvvvvvvvv",
    "POST api/v1/catalog/items/<code>/decision-table/dmn": "Lvvvvvvvvvv",
    "POST api/v1/catalog/items/<code>/decision-table/publish": "Lnnnnnnnnnn",
    "POST api/v1/catalog/items/<code>/decision-table/try": "Lnnnnnnnnnn",
    "POST api/v1/catalog/items/<code>/publish": "Lnnnnnnnnnn",
    "POST api/v1/citizens": "vvvvvvvvvvv",
    "POST api/v1/departments": "Lvvvvvvvvvv",
    "POST api/v1/documents": "Lvvvvvvvvvv",
    "POST api/v1/documents/<ref>/seal": "Lvvvvvvvvvv",
    "POST api/v1/documents/<ref>/sign": "Lnnnnnnnnnn",
    "POST api/v1/documents/verify": "Lvvvvvvvvvv",
    "POST api/v1/enterprises": "Lvvvvvvvvvv",
    "POST api/v1/enterprises/<uscc>/agents": "Lvvvvvvvvvv",
    "POST api/v1/exchange/grants": "Lvvvvvvvvvv",
    "POST api/v1/exchange/grants/<reference>/decision": "Lvvvvvvvvvv",
    "POST api/v1/exchange/grants/<reference>/revoke": "Lvvvvvvvvvv",
    "POST api/v1/exchange/query": "Lvvvvvvvvvv",
    "POST api/v1/exchange/verify": "Lvvvvvvvvvv",
    "POST api/v1/hotline/orders": "Lvvvvvvvvvv",
    "POST api/v1/hotline/orders/batch": "Lvvvvvvvvvv",
    "POST api/v1/hotline/orders/<number>/accept": "Lnnnnnnnnnn",
    "POST api/v1/hotline/orders/<number>/answer": "Lvvvvvvvvvv",
    "POST api/v1/hotline/orders/<number>/arbitrate": "Lvvvvvvvvvv",
    "POST api/v1/hotline/orders/<number>/callback": "Lvvvvvvvvvv",
    "POST api/v1/hotline/orders/<number>/contact": "Lnnnnnnnnnn",
    "POST api/v1/hotline/orders/<number>/dispatch": "Lvvvvvvvvvv",
    "POST api/v1/hotline/orders/<number>/extension": "Lnnnnnnnnnn",
    "POST api/v1/hotline/orders/<number>/reopen": "Lvvvvvvvvvv",
    "POST api/v1/hotline/orders/<number>/reply": "Lvvvvvvvvvv",
    "POST api/v1/hotline/orders/<number>/return": "Lvvvvvvvvvv",
    "POST api/v1/hotline/orders/<number>/review": "Lvvvvvvvvvv",
    "POST api/v1/hotline/route": "Lvvvvvvvvvv",
    "POST api/v1/identity/claims/<public_id>/approve": "Lvvvvvvvvvv",
    "POST api/v1/identity/claims/<public_id>/reject": "Lvvvvvvvvvv",
    "POST api/v1/identity/claims/lookup": "Lvvvvvvvvvv",
    "POST api/v1/licences": "Lvvvvvvvvvv",
    "POST api/v1/licences/scan": "vvvvvvvvvvv",
    "POST api/v1/logins/<username>/unlock": "Lnnnnnnnnnn",
    "POST api/v1/me/identity/face": "Lvvvvvvvvvv",
    "POST api/v1/me/identity/phone": "Lvvvvvvvvvv",
    "POST api/v1/me/identity/phone/code": "Loddddddddd",
    "POST api/v1/me/identity/real-name": "Loddddddddd",
    "POST api/v1/me/notifications/read": "Loooooooooo",
    "POST api/v1/persons": "Lvvvvvvvvvv",
    "POST api/v1/persons/<public_id>/reveal": "Lvvvvvvvvvv",
    "POST api/v1/persons/<public_id>/verify-in-person": "Lvvvvvvvvvv",
    "POST api/v1/persons/lookup": "Lvvvvvvvvvv",
    "POST api/v1/staff": "Lvvvvvvvvvv",
    "POST api/v1/staff/<username>/roles": "Lvvvvvvvvvv",
    "POST api/v1/window/cases": "Lvvvvvvvvvv",
    "POST api/v1/work/<work_id>/claim": "Lvvvvvvvvvv",
    "POST api/v1/work/<work_id>/complete": "Lvvvvvvvvvv",
    "POST api/v1/work/<work_id>/countersigners": "Lvvvvvvvvvv",
    "POST api/v1/work/<work_id>/inspection": "Lvvvvvvvvvv",
    "POST api/v1/work/<work_id>/rectification": "Lvvvvvvvvvv",
    "POST api/v1/work/<work_id>/remind": "Lvvvvvvvvvv",
    "POST api/v1/work/<work_id>/return": "Lvvvvvvvvvv",
    "POST api/v1/work/<work_id>/supplement": "Lvvvvvvvvvv",
    "POST api/v1/work/<work_id>/transfer": "Lvvvvvvvvvv",
    "POST api/v1/workflow/decisions": "Lvvvvvvvvvv",
    "PUT api/v1/calendar/overrides/<day>": "Lvvvvvvvvvv",
    "PUT api/v1/catalog/items/<code>/decision-table": "Lnnnnnnnnnn",
    "PUT api/v1/catalog/items/<code>/draft/materials": "Lvvvvvvvvvv",
    "PUT api/v1/exchange/resources/<code>": "Lvvvvvvvvvv",
    "POST accounts/logout": "LLLLLLLLLLL",
}
