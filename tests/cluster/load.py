"""Write load for the fault tests: citizens applying online, every request and its outcome kept."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from tests.cluster.client import Client


@dataclass
class Outcome:
    key: str
    started: float
    ended: float
    status: int  # 0: no HTTP answer at all
    number: str = ""
    problem: str = ""


@dataclass
class WriteLoad:
    """`clients` citizens applying for 食品经营许可 back to back (one connection per request, so no
    stale keep-alive connection is mistaken for a fault), until stopped."""

    base_url: str
    clients: int = 4
    users: tuple = ("zhangsan", "lisi")
    pause: float = 0.02
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.prefix = uuid.uuid4().hex[:8]
        self.sessions = []
        for n in range(self.clients):
            client = Client(self.base_url, timeout=30)
            client.login(self.users[n % len(self.users)])
            self.sessions.append(client)

    def start(self) -> WriteLoad:
        for n, client in enumerate(self.sessions):
            thread = threading.Thread(target=self._run, args=(n, client), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _run(self, n: int, client: Client) -> None:
        i = 0
        while not self._stop.is_set():
            i += 1
            key = f"fault-{self.prefix}-{n}-{i}"
            started = time.monotonic()
            try:
                response = client.apply_food_licence(n * 100_000 + i, key)
                outcome = Outcome(key, started, time.monotonic(), response.status)
                if response.status == 201:
                    outcome.number = response.json()["number"]
                else:
                    outcome.problem = response.body[:200].decode(errors="replace")
            except Exception as error:
                outcome = Outcome(key, started, time.monotonic(), 0, problem=repr(error)[:200])
            with self._lock:
                self.outcomes.append(outcome)
            time.sleep(self.pause)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged()) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def acknowledged(self) -> dict[str, str]:
        with self._lock:
            return {o.key: o.number for o in self.outcomes if o.status == 201}

    def failures(self) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if o.status != 201]

    def first_success_after(self, instant: float) -> float | None:
        with self._lock:
            times = [o.ended for o in self.outcomes if o.status == 201 and o.started >= instant]
        return min(times) if times else None


def cases_by_key(connect: str, keys: list[str]) -> dict[str, str]:
    """idempotency key → case number, for the keys found in the database (PostgreSQL)."""
    import psycopg

    with psycopg.connect(connect) as conn:
        rows = conn.execute(
            "SELECT idempotency_key, number FROM cases_case WHERE idempotency_key = ANY(%s)", [keys]
        ).fetchall()
    return dict(rows)
