"""Faults in the production shape, and nothing lost (issue 17). One cluster serves the whole file;
each test puts back what it broke, in this order: an app server, a worker, the replica, the primary.

Every test is bounded in time: its waits have deadlines and its load stops by itself."""

import json
import subprocess
import sys
import time

import psycopg
from tests.cluster.client import EMPLOYMENT, Client
from tests.cluster.load import WriteLoad, cases_by_key


def _wait(predicate, timeout: float, what: str, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def _in_flight_at(outcome, kill: tuple[float, float]) -> bool:
    """Sent before the signal went out and answered after it was about to."""
    before, after = kill
    return outcome.started <= after and outcome.ended >= before


def test_app_server_killed_under_load(cluster, figures):
    """kill -9 one app server (its whole process group) while citizens apply through the proxy:
    only requests that were inside it at that instant fail; every acknowledged application is in
    the database; the server serves again after a restart."""
    load = WriteLoad(cluster.url, clients=4).start()
    try:
        load.wait_for(20)
        killed_at = cluster.kill_group("app-1")
        time.sleep(4)  # the proxy sends everything to app-2 meanwhile
        restarted_at = time.monotonic()
        cluster.start_app(1)
        back_in = cluster.wait_app(1, timeout=90)
        time.sleep(2)
    finally:
        load.stop()
    acknowledged = load.acknowledged()
    failures = load.failures()
    found = cases_by_key(cluster.dsn(), list(acknowledged))
    figures(
        "app_server_kill",
        acknowledged=len(acknowledged),
        found=sum(1 for k, n in acknowledged.items() if found.get(k) == n),
        errors=len(failures),
        errors_in_flight=sum(1 for f in failures if _in_flight_at(f, killed_at)),
        serving_again_s=back_in,
        restart_after_s=restarted_at - killed_at[1],
    )
    assert acknowledged and len(load.outcomes) > len(acknowledged) // 2
    assert all(found.get(k) == n for k, n in acknowledged.items()), "an acknowledged application is missing"
    # Errors only for requests the dead server held; the proxy sent the rest to the live one.
    stray = [f for f in failures if not _in_flight_at(f, killed_at)]
    # Times relative to the signal, so a failure says whether it came at the kill or the restart.
    assert not stray, [
        {
            "status": f.status,
            "started_s": round(f.started - killed_at[0], 3),
            "ended_s": round(f.ended - killed_at[0], 3),
            "gone_s": round(killed_at[1] - killed_at[0], 3),
            "restarted_s": round(restarted_at - killed_at[0], 3),
            "problem": f.problem[:80],
        }
        for f in stray[:5]
    ]
    assert len(failures) <= load.clients


def _job_state(cluster, numbers: list[str]) -> dict:
    with psycopg.connect(cluster.dsn()) as conn:
        digests = conn.execute(
            "SELECT COUNT(*) FROM cases_case WHERE number = ANY(%s) AND document_digest <> ''", [numbers]
        ).fetchone()[0]
        licences = dict(
            conn.execute(
                "SELECT case_number, COUNT(*) FROM licences_licence WHERE case_number = ANY(%s) GROUP BY 1",
                [numbers],
            ).fetchall()
        )
        issued = conn.execute(
            "SELECT COUNT(*) FROM core_auditentry WHERE action = 'licences.licence.issue' "
            "AND outcome = 'success' AND detail->>'case' = ANY(%s)",
            [numbers],
        ).fetchone()[0]
        letters = conn.execute(
            "SELECT task, reason FROM core_deadletter WHERE resolved_at IS NULL ORDER BY id"
        ).fetchall()
    return {"digests": digests, "licences": licences, "issue_entries": issued, "dead_letters": letters}


def _queue(cluster):
    from tongban.core.queue import ReliableRedisHuey

    layout = cluster.layout
    return ReliableRedisHuey(
        "tongban",
        url=f"redis://:{layout.redis_password}@127.0.0.1:{layout.redis_port}/0",
        lease_seconds=8,
    )


def test_worker_killed_in_the_middle_of_jobs(cluster, figures):
    """kill -9 a worker while it works through a backlog (a decision document and a licence for each
    秒批 case): every job runs exactly once in effect, and a job no worker knows is kept as a dead
    letter and reported, not dropped."""
    cluster.kill_group("worker-1")
    cluster.kill_group("worker-2")
    citizen = Client(cluster.url)
    citizen.login("zhangsan")
    numbers = []
    for n in range(24):
        response = citizen.apply_auto_approved(f"jobs-{time.time_ns()}-{n}")
        assert response.status == 201, response.body[:300]
        case = response.json()
        assert case["status"] == "issued" and case["item_code"] == EMPLOYMENT
        numbers.append(case["number"])
    huey = _queue(cluster)
    assert huey.storage.queue_size() >= 2 * len(numbers)  # nobody has run them yet

    # A message naming a job that no worker knows (e.g. sent by a newer release).
    @huey.task(name="tests.job_from_a_newer_release")
    def unknown_job(n):
        return n

    unknown_job(42)

    cluster.start_worker(1)
    _wait(lambda: _job_state(cluster, numbers)["digests"] >= 4, 60, "the worker starts on the backlog", 0.05)
    in_flight = huey.storage.inflight_size()
    killed_at = time.monotonic()
    cluster.kill_group("worker-1")
    cluster.start_worker(1)
    cluster.start_worker(2)

    def settled():
        state = _job_state(cluster, numbers)
        depth = (huey.storage.queue_size(), huey.storage.inflight_size())
        done = state["digests"] == len(numbers) and len(state["licences"]) == len(numbers)
        return state if done and depth == (0, 0) else None

    state = _wait(settled, 90, "every job of the killed worker run again and the queue empty", 0.5)
    figures(
        "worker_kill",
        jobs=2 * len(numbers),
        in_flight_at_kill=in_flight,
        documents=state["digests"],
        licences=sum(state["licences"].values()),
        licence_issue_entries=state["issue_entries"],
        dead_letters=len(state["dead_letters"]),
        all_done_after_s=time.monotonic() - killed_at,
    )
    assert set(state["licences"].values()) == {1}, "a hand-over ran twice in effect"
    assert state["issue_entries"] == len(numbers)
    assert any(
        task.endswith("job_from_a_newer_release") and reason == "unknown_task"
        for task, reason in state["dead_letters"]
    )
    listing = subprocess.run(
        [sys.executable, "-m", "tongban.cli", "jobs", "dead-letters"],
        env={**cluster.env(), "COLUMNS": "250"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listing.returncode == 1  # letters wait for someone
    assert "job_from_a_newer_release" in listing.stdout


def _supervisor(cluster) -> Client:
    with psycopg.connect(cluster.dsn()) as conn:
        (secret,) = conn.execute(
            "SELECT d.key FROM otp_totp_totpdevice d JOIN accounts_user u ON u.id = d.user_id "
            "WHERE u.username = 'supervisor' AND d.confirmed"
        ).fetchone()
    client = Client(cluster.url)
    client.login("supervisor", totp_secret=secret)
    return client


def _readyz(cluster, n: int) -> dict:
    from tongban.cli.cluster import http_json

    status, body = http_json(cluster.app_url(n) + "/readyz")
    return {"http": status, **body}


def test_replica_stopped_analytics_fall_back_to_the_primary(cluster, figures):
    supervisor = _supervisor(cluster)
    assert all(_readyz(cluster, n)["replica"]["in_use"] for n in (1, 2))
    assert supervisor.get("/insight/").status == 200

    stopped_at = time.monotonic()
    cluster.stop_pg("replica", mode="immediate")
    # At once, before any app server noticed: the dashboard is served (from the primary).
    pages = [supervisor.get("/insight/").status for _ in range(4)]
    kpis = supervisor.get("/api/v1/insight/kpis?start=2026-01-01&end=2026-12-31")
    states = _wait(
        lambda: (
            (s := [_readyz(cluster, n) for n in (1, 2)]) and all(not r["replica"]["in_use"] for r in s) and s
        ),
        30,
        "/readyz reports the replica out of use",
    )
    noticed = time.monotonic() - stopped_at
    assert pages == [200] * 4
    assert kpis.status == 200, kpis.body[:300]
    for state in states:
        assert state["http"] == 200 and state["status"] == "ready"  # the site still serves
        assert state["replica"]["reads_from"] == "primary"
        assert state["replica"]["state"] in ("down", "not streaming")

    restarted_at = time.monotonic()
    cluster.start_replica()
    _wait(
        lambda: all(_readyz(cluster, n)["replica"]["in_use"] for n in (1, 2)), 60, "the replica back in use"
    )
    figures(
        "replica_stop",
        dashboard_during_outage=f"{pages.count(200)}/{len(pages)}",
        readyz_reported_after_s=noticed,
        back_in_use_after_s=time.monotonic() - restarted_at,
    )


def test_primary_killed_during_writes(cluster, figures):
    """kill -9 PostgreSQL's primary (postmaster and backends) while citizens apply, start it again:
    every acknowledged application is there, the app servers recover without a restart, and the
    journal verifies."""
    pids = {n: cluster._pid(f"app-{n}") for n in (1, 2)}
    load = WriteLoad(cluster.url, clients=4).start()
    try:
        load.wait_for(20)
        cluster.kill_pg("primary")
        killed_mono = time.monotonic()
        time.sleep(3)
        restart_mono = time.monotonic()
        cluster.start_primary()
        recovered = _wait(
            lambda: load.first_success_after(restart_mono), 60, "a write acknowledged after the restart"
        )
        time.sleep(2)
    finally:
        load.stop()
    acknowledged = load.acknowledged()
    found = cases_by_key(cluster.dsn(), list(acknowledged))
    verify = subprocess.run(
        [sys.executable, "-m", "tongban.cli", "audit", "verify"],
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    figures(
        "primary_kill",
        acknowledged=len(acknowledged),
        found=sum(1 for k, n in acknowledged.items() if found.get(k) == n),
        failed_during_outage=len(load.failures()),
        writes_again_after_restart_s=recovered - restart_mono,
        outage_s=recovered - killed_mono,
    )
    assert all(found.get(k) == n for k, n in acknowledged.items()), "an acknowledged application is missing"
    assert {n: cluster._pid(f"app-{n}") for n in (1, 2)} == pids  # not restarted
    assert verify.returncode == 0, verify.stdout + verify.stderr
    _wait(
        lambda: all(_readyz(cluster, n)["replica"]["in_use"] for n in (1, 2)), 60, "the replica streams again"
    )
    print(json.dumps(cluster.replication()))
