"""The people of the cluster_load benchmark, as locust users: who does what, how often.

Paced with constant_throughput, so the mix adds up to the rate the benchmark asks for (150 % of a
centre's design peak); every request is named by its route, so the figures come per route.
Personal data in forms is synthetic; the accounts are the demo city's."""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid

from locust import HttpUser, constant_throughput, task

from tests.cluster.client import EMPLOYMENT, FOOD_LICENCE, PASSWORD, food_licence_form, totp

STATE: dict = {}  # filled by the benchmark before the run: secrets, token, items, subjects
SEARCHES = ["开饭店", "营业执照", "社保", "出生", "公积金", "就业", "二手房", "身份证", "失业", "养老"]
_counter = itertools.count(1)


def configure(state: dict, scale: float) -> None:
    STATE.clear()
    STATE.update(state)
    for user, rate in RATES.items():
        user.wait_time = constant_throughput(rate * scale)


class _Browser(HttpUser):
    abstract = True

    def csrf(self) -> str:
        if "csrftoken" not in self.client.cookies:
            self.client.get("/accounts/login", name="/accounts/login")
        return self.client.cookies.get("csrftoken", "")

    def login(self, username: str, secret: str | None = None) -> None:
        form = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf()}
        with self.client.post(
            "/accounts/login", data=form, allow_redirects=False, name="/accounts/login", catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"login of {username}: {response.status_code}")
                return
        if secret:
            step = int(time.time() // 30)
            for attempt in (step, step + 1):
                with self.client.post(
                    "/accounts/mfa/verify",
                    data={"otp_token": totp(secret, attempt), "csrfmiddlewaretoken": self.csrf()},
                    allow_redirects=False,
                    name="/accounts/mfa/verify",
                    catch_response=True,
                ) as response:
                    if response.status_code == 302 and "/accounts/mfa" not in response.headers.get(
                        "Location", ""
                    ):
                        response.success()
                        return
                    response.success()  # a time step already used is not a fault; the next one is tried
            raise RuntimeError(f"second factor of {username} refused")

    def api(self, method: str, path: str, name: str, payload=None, **kwargs):
        headers = {"Accept": "application/json", "X-CSRFToken": self.csrf(), **kwargs.pop("headers", {})}
        return self.client.request(method, path, json=payload, headers=headers, name=name, **kwargs)


class PortalVisitor(_Browser):
    """Someone on the portal, not logged in: the landing page, searching, reading guides."""

    weight = 3  # three for each logged-in citizen

    @task(3)
    def search_page(self):
        self.client.get(f"/services/?q={random.choice(SEARCHES)}", name="/services/?q=")

    @task(3)
    def guide(self):
        self.client.get(f"/services/items/{random.choice(STATE['items'])}/", name="/services/items/<code>/")

    @task(2)
    def search_api(self):
        self.client.get(f"/api/v1/catalog/search?q={random.choice(SEARCHES)}", name="/api/v1/catalog/search")

    @task(1)
    def landing(self):
        self.client.get("/", name="/")

    @task(1)
    def portal(self):
        self.client.get("/services/", name="/services/")


class Citizen(_Browser):
    """A logged-in citizen: follows their cases, applies now and then."""

    def on_start(self):
        self.login(random.choice(["zhangsan", "lisi"]))
        self.numbers: list[str] = []

    @task(4)
    def my_cases(self):
        with self.api("GET", "/api/v1/my/cases?page_size=10", "/api/v1/my/cases", catch_response=True) as r:
            if r.status_code == 200:
                self.numbers = [c["number"] for c in r.json()["items"]]

    @task(2)
    def case_detail(self):
        if self.numbers:
            self.api("GET", f"/api/v1/cases/{random.choice(self.numbers)}", "/api/v1/cases/<number>")

    @task(2)
    def apply(self):
        n = next(_counter)
        self.api(
            "POST",
            "/api/v1/cases",
            "/api/v1/cases [apply]",
            {"item_code": FOOD_LICENCE, "data": food_licence_form(n)},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )

    @task(1)
    def home(self):
        self.client.get("/", name="/ [citizen]")


class Clerk(_Browser):
    """The window clerk: the queue of applications, acceptance (一窗受理)."""

    fixed_count = 1

    def on_start(self):
        self.login("clerk", STATE["secrets"]["clerk"])

    @task(2)
    def queue(self):
        with self.api(
            "GET", "/api/v1/window/cases?page_size=20", "/api/v1/window/cases", catch_response=True
        ) as r:
            self.waiting = [c["number"] for c in r.json().get("items", [])] if r.status_code == 200 else []

    @task(2)
    def accept(self):
        waiting = getattr(self, "waiting", [])
        if waiting:
            number = waiting.pop(0)
            self.api("POST", f"/api/v1/cases/{number}/accept", "/api/v1/cases/<number>/accept", {})

    @task(1)
    def workbench(self):
        self.client.get("/", name="/ [staff]")


class _Handler(_Browser):
    """Works through the worklist: claims the next open step and decides it."""

    abstract = True
    username = ""

    def on_start(self):
        self.login(self.username, STATE["secrets"][self.username])
        self.open_steps: list[str] = []

    @task(3)
    def worklist(self):
        with self.api("GET", "/api/v1/work?page_size=20", "/api/v1/work", catch_response=True) as r:
            if r.status_code == 200:
                # Open steps to claim, and steps already ours; those someone else holds are theirs.
                # Process steps only (not inspections), and none waiting for the applicant (补正).
                self.open_steps = [
                    (w["id"], w["mine"])
                    for w in r.json()["items"]
                    if w["kind"] == "step"
                    and w["colour"] != "paused"
                    and (w["status"] == "open" or w["mine"])
                ]

    @task(2)
    def handle(self):
        if not self.open_steps:
            return
        work, mine = self.open_steps.pop(0)
        if not mine:
            mine = (
                self.api("POST", f"/api/v1/work/{work}/claim", "/api/v1/work/<id>/claim", {}).status_code
                == 200
            )
        if mine:
            self.api(
                "POST",
                f"/api/v1/work/{work}/complete",
                "/api/v1/work/<id>/complete",
                {"decision": "approve", "opinion": "同意"},
            )


class Reviewer(_Handler):
    fixed_count = 1
    username = "reviewer"


class SectionHead(_Handler):
    fixed_count = 1
    username = "section_head"


class Supervisor(_Browser):
    """效能监察: the dashboard, the KPI figures — read from the replica."""

    fixed_count = 1

    def on_start(self):
        self.login("supervisor", STATE["secrets"]["supervisor"])

    @task(2)
    def dashboard(self):
        self.client.get("/insight/", name="/insight/")

    @task(1)
    def kpis(self):
        self.api("GET", "/api/v1/insight/kpis?start=2026-01-01&end=2026-12-31", "/api/v1/insight/kpis")


class ExchangeSystem(HttpUser):
    """Another department's system asking the data-sharing platform (可用不可见), with its token."""

    fixed_count = 2

    @task
    def verify(self):
        payload = {
            "resource": "population",
            "predicate": "registered",
            "subject": random.choice(STATE["subjects"]),
            "purpose": "社保待遇资格认证",
        }
        self.client.post(
            "/api/v1/exchange/verify",
            data=json.dumps(payload, ensure_ascii=False).encode(),
            headers={"Authorization": f"Bearer {STATE['token']}", "Content-Type": "application/json"},
            name="/api/v1/exchange/verify",
        )


# Requests per second of one user of each kind at scale 1 (the benchmark scales them together).
RATES = {
    PortalVisitor: 0.27,
    Citizen: 0.25,
    Clerk: 0.5,
    Reviewer: 0.35,
    SectionHead: 0.3,
    Supervisor: 0.1,
    ExchangeSystem: 0.4,
}
COUNTS = {
    PortalVisitor: 12,
    Citizen: 4,
    Clerk: 1,
    Reviewer: 1,
    SectionHead: 1,
    Supervisor: 1,
    ExchangeSystem: 2,
}
USERS = list(COUNTS)
EMPLOYMENT_ITEM = EMPLOYMENT
