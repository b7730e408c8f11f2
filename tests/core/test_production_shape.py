"""The parts of the production shape that live in the application: analytics reads routed to a
replica (and back to the primary), /healthz, /readyz, /metrics, and the queue that keeps what it
cannot run. The same behaviour with real servers is proven in tests/cluster."""

import time
import uuid

import pytest
from django.db import OperationalError, connection
from django.test import override_settings

from tongban.core import jobs, replicas
from tongban.core.authz import OPERATOR
from tongban.core.errors import Conflict
from tongban.core.models import AuditEntry, DeadLetter

# --- the replica's state --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "usable", "reason", "lag"),
    [
        (None, False, "down", None),
        ((False, True, None, 0, None), False, "not a replica", None),
        ((True, True, 500.0, 1, "streaming"), True, "ok", 0.0),  # idle primary: caught up all the same
        ((True, False, 12.5, 1, "streaming"), True, "ok", 12.5),
        ((True, False, 45.0, 1, "streaming"), False, "lagging", 45.0),
        ((True, True, 3.0, 0, None), False, "not streaming", 3.0),
        ((True, True, 3.0, 1, None), False, "receiver hidden (grant pg_monitor)", 3.0),
        ((True, True, 3.0, 1, "waiting"), False, "not streaming", 3.0),
    ],
)
def test_judge_the_replica(row, usable, reason, lag):
    state = replicas.judge(row, max_lag=30, now=1.0)
    assert (state.usable, state.reason, state.lag_seconds) == (usable, reason, lag)


def test_without_a_replica_everything_reads_the_primary(db):
    assert not replicas.configured()
    assert replicas.state() == replicas.NOT_CONFIGURED
    assert replicas.state().as_dict()["reads_from"] == "primary"

    @replicas.analytics
    def count():
        return replicas.read_alias(), AuditEntry.objects.count()

    alias, _n = count()
    assert alias == "default"


@pytest.fixture
def fit_replica(monkeypatch):
    """A replica configured and fit, as far as the router can tell (no queries reach it)."""
    monkeypatch.setattr(replicas, "configured", lambda: True)
    state = {"now": replicas.ReplicaState(True, True, "ok", 0.0, time.monotonic())}
    monkeypatch.setattr(replicas.monitor, "state", lambda fresh=False: state["now"])
    return state


def test_the_router_sends_analytics_reads_to_a_fit_replica_only(fit_replica):
    """Outside any test transaction (the router keeps reads in a transaction on the primary)."""
    router = replicas.AnalyticsRouter()
    assert router.db_for_read(AuditEntry) == "default"  # not an analytics function
    assert router.db_for_write(AuditEntry) == "default"
    assert router.allow_migrate("replica", "core") is False
    assert router.allow_migrate("default", "core") is True

    seen = {}

    @replicas.analytics
    def report():
        seen["read"] = router.db_for_read(AuditEntry)
        seen["write"] = router.db_for_write(AuditEntry)
        seen["sql"] = replicas.read_alias()
        connection.in_atomic_block = True  # as inside transaction.atomic(), without a database
        try:
            seen["in_transaction"] = router.db_for_read(AuditEntry)
        finally:
            connection.in_atomic_block = False

    report()
    assert seen["read"] == "replica" and seen["sql"] == "replica"
    assert seen["write"] == "default"
    # Reads inside a transaction on the primary decide writes: they stay there.
    assert seen["in_transaction"] == "default"

    fit_replica["now"] = replicas.ReplicaState(True, False, "lagging", 90.0, time.monotonic())
    report()
    assert seen["read"] == "default" and seen["sql"] == "default"


def test_a_replica_failing_mid_function_runs_it_again_on_the_primary(fit_replica, monkeypatch):
    marked = []
    monkeypatch.setattr(replicas.monitor, "mark_down", lambda reason="down": marked.append(reason))
    calls = []

    @replicas.analytics
    def dashboard():
        alias = replicas.read_alias()
        calls.append(alias)
        if alias == "replica":
            raise OperationalError("server closed the connection unexpectedly")
        return "figures"

    assert dashboard() == "figures"
    assert calls == ["replica", "default"]
    assert marked == ["down"]


def test_an_error_on_the_primary_is_not_retried(fit_replica):
    @replicas.analytics
    def broken():
        raise OperationalError("the primary is down")

    with pytest.raises(OperationalError):
        broken()


def test_probing_a_primary_finds_no_replica(db):
    """The lag query runs as written on PostgreSQL; a primary is not a replica to read from."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: the replica's lag is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(replicas.LAG_SQL)
        row = cursor.fetchone()
    assert replicas.judge(row, max_lag=30, now=0).reason == "not a replica"


# --- health and metrics ---------------------------------------------------------------------------


def test_healthz_is_liveness_only(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_reports_database_queue_and_replica(db, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["database"] == "ok"
    assert body["queue"]["status"] == "ok" and body["queue"]["pending"] == 0
    assert body["replica"] == {
        "configured": False,
        "in_use": False,
        "state": "not configured",
        "lag_seconds": None,
        "reads_from": "primary",
    }
    assert response["Cache-Control"].startswith("max-age=0")


def test_readyz_is_503_when_the_database_does_not_answer(db, client, monkeypatch):
    from tongban.core import health

    monkeypatch.setattr(health, "_database", lambda: "unavailable")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"


def test_metrics_for_the_monitoring_system_only(db, client):
    client.get("/healthz")
    client.get("/no/such/page")
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'tongban_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}' in text
    assert 'route="<unmatched>"' in text
    assert 'tongban_queue_jobs{state="pending"} 0.0' in text
    assert 'tongban_journal_head{chain="0"}' in text
    # Through a proxy, or from elsewhere: nothing there.
    assert (
        client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 404
    )
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404


@override_settings(TONGBAN_METRICS_TOKEN="s3cret-token-for-prometheus")
def test_metrics_with_a_token(db, client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    ok = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token-for-prometheus"
    )
    assert ok.status_code == 200


def test_metrics_count_dead_letters(db, client):
    DeadLetter.objects.create(task="cases.render_document", reason="failed", error="boom", message=b"x")
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'tongban_job_failures_total{reason="failed",task="cases.render_document"} 1.0' in text
    assert 'tongban_dead_letters_open{task="cases.render_document"} 1.0' in text


# --- the queue: at least once, and nothing dropped ------------------------------------------------

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def huey():
    """A reliable queue of its own name on the machine's Redis (every key under that name is
    removed afterwards), so other tests and servers on the same Redis are not touched."""
    import redis

    from tongban.core.queue import ReliableRedisHuey

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    name = f"tongbantest{uuid.uuid4().hex[:10]}"
    queue = ReliableRedisHuey(name, url=REDIS, lease_seconds=3, blocking=False)
    yield queue
    queue.storage._consumer = None  # stops the lease thread
    for key in queue.storage.conn.scan_iter(f"huey*{name}*"):
        queue.storage.conn.delete(key)


def test_a_job_runs_and_leaves_nothing_in_flight(db, huey):
    @huey.task()
    def double(n):
        return n * 2

    double(21)
    task = huey.dequeue()
    assert huey.storage.inflight_size() == 1 and huey.storage.queue_size() == 0
    assert huey.execute(task) == 42
    assert huey.storage.inflight_size() == 0


def test_the_jobs_of_a_dead_worker_come_back(db, huey):
    @huey.task()
    def slow(n):
        return n

    slow(1)
    slow(2)
    huey.dequeue()  # taken, then the worker dies before finishing it
    dead = huey.storage.consumer_id()
    assert huey.storage.recover_lapsed() == 0  # its lease still runs
    huey.storage._consumer = None  # the worker dies: its lease thread stops renewing …
    time.sleep(huey.storage.lease_seconds / 3 + 0.3)  # (… after the renewal it may be in the middle of)
    huey.storage.conn.delete(huey.storage.lease_key(dead))  # … and the lease lapses
    assert huey.storage.recover_lapsed() == 1
    assert huey.storage.queue_size() == 2 and huey.storage.inflight_size() == 0
    # Back at the head of the queue: the next worker takes it first.
    assert huey.dequeue().args == (1,)


def test_a_job_no_worker_knows_is_kept_as_a_dead_letter(db, huey):
    from tongban.core.queue import ReliableRedisHuey

    sender = ReliableRedisHuey(huey.name, url=REDIS, blocking=False)

    @sender.task(name="jobs.from_a_newer_release")
    def newer(case):
        return case

    newer("51160220261207000001")
    assert huey.dequeue() is None  # not run, and …
    letter = DeadLetter.objects.get()
    assert letter.reason == "unknown_task" and letter.task.endswith("jobs.from_a_newer_release")
    assert "51160220261207000001" in letter.arguments
    assert huey.storage.inflight_size() == 0 and huey.storage.queue_size() == 0  # … not dropped: kept
    assert bytes(letter.message) and letter.resolved_at is None


def test_a_job_failing_on_its_last_retry_is_kept(db, huey):
    @huey.task(retries=1)
    def fails(n):
        raise ValueError(f"cannot {n}")

    fails(7)
    huey.execute(huey.dequeue())  # first attempt: Huey queues the retry
    assert DeadLetter.objects.count() == 0 and huey.storage.queue_size() == 1
    huey.execute(huey.dequeue())  # the last one
    letter = DeadLetter.objects.get()
    assert letter.reason == "failed" and letter.error == "ValueError: cannot 7"
    assert huey.storage.inflight_size() == 0 and huey.storage.queue_size() == 0


def test_a_dead_letter_that_cannot_be_recorded_runs_again_later(db, huey, monkeypatch):
    @huey.task()
    def fails():
        raise ValueError("no")

    def database_down(*args, **kwargs):
        raise OperationalError("the database is down")

    monkeypatch.setattr(jobs, "keep_dead_letter", database_down)
    fails()
    huey.execute(huey.dequeue())
    assert DeadLetter.objects.count() == 0
    assert huey.storage.schedule_size() == 1 and huey.storage.inflight_size() == 0


def test_due_scheduled_jobs_move_to_the_queue_in_one_step(db, huey):
    import datetime as dt

    @huey.task()
    def later(n):
        return n

    later.schedule(args=(5,), delay=60)
    huey.execute(huey.dequeue())  # not due yet: the worker puts it on the schedule
    assert huey.storage.schedule_size() == 1 and huey.storage.inflight_size() == 0
    assert huey.read_schedule() == [] and huey.storage.schedule_size() == 1  # still not due
    assert huey.read_schedule(dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=90)) == []
    assert huey.storage.schedule_size() == 0 and huey.storage.queue_size() == 1


def test_requeue_and_discard_dead_letters(db, django_capture_on_commit_callbacks):
    first = DeadLetter.objects.create(task="a.job", reason="failed", message=b"m1")
    second = DeadLetter.objects.create(task="a.job", reason="unknown_task", message=b"m2")
    with django_capture_on_commit_callbacks() as callbacks:
        jobs.requeue(OPERATOR, first.pk)
    assert len(callbacks) == 1  # the message goes back after commit
    jobs.discard(OPERATOR, second.pk)
    assert list(jobs.dead_letters()) == []
    assert {d.resolution for d in jobs.dead_letters(open_only=False)} == {"requeued", "discarded"}
    with pytest.raises(Conflict):
        jobs.discard(OPERATOR, first.pk)
    actions = list(AuditEntry.objects.filter(action__startswith="core.job.").values_list("action", "outcome"))
    assert ("core.job.requeue", "success") in actions and ("core.job.discard", "success") in actions
