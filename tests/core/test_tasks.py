"""Kernel jobs: the nightly journal check's schedule, its effect, and the real queue end to end."""

import datetime as dt
import json
import logging
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from huey.contrib.djhuey import HUEY

from tongban.core import journal_guard
from tongban.core.models import AuditCheckpoint, AuditEntry
from tongban.core.tasks import nightly_audit_verification, verify_journal_now

BIN = Path(sys.executable).parent
EMBEDDED_RUN = (os.environ.get("DATABASE_URL") or "sqlite:").startswith("sqlite:")
embedded_only = pytest.mark.skipif(
    not EMBEDDED_RUN,
    reason="embedded-mode test (SQLite database and queue in a temporary var dir); this run's DATABASE_URL "
    "is not SQLite",
)

# --- schedule ------------------------------------------------------------------------------------


def test_nightly_check_is_registered_as_periodic():
    task_class = nightly_audit_verification.task_class
    registry = HUEY._registry
    assert registry._registry[registry.task_to_string(task_class)] is task_class
    assert task_class in registry._periodic_tasks
    assert verify_journal_now.task_class not in registry._periodic_tasks


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_nightly_check_fires_at_0230_shanghai_which_is_1830_utc():
    task = nightly_audit_verification.task_class()
    # Huey hands periodic checks naive UTC datetimes.
    assert task.validate_datetime(dt.datetime(2026, 11, 21, 18, 30))
    assert not task.validate_datetime(dt.datetime(2026, 11, 22, 2, 30))
    assert not task.validate_datetime(dt.datetime(2026, 11, 21, 18, 31))

    names = [type(t) for t in HUEY.read_periodic(dt.datetime(2026, 11, 21, 18, 30))]
    assert nightly_audit_verification.task_class in names
    names = [type(t) for t in HUEY.read_periodic(dt.datetime(2026, 11, 22, 2, 30))]
    assert nightly_audit_verification.task_class not in names

    # Exactly one minute in a whole UTC day.
    start = dt.datetime(2026, 11, 21)
    firing = [
        start + dt.timedelta(minutes=m)
        for m in range(24 * 60)
        if task.validate_datetime(start + dt.timedelta(minutes=m))
    ]
    assert firing == [dt.datetime(2026, 11, 21, 18, 30)]


# --- what the job does --------------------------------------------------------------------------


@pytest.fixture
def anchor_log(settings, tmp_path):
    """An anchor log of the test's own: other tests' anchors name journals rolled back since."""
    settings.TONGBAN_ANCHOR_DIR = str(tmp_path / "anchors")
    return tmp_path / "anchors"


def test_nightly_check_records_checkpoint_and_journal_entry(db, anchor_log):
    entries = AuditEntry.objects.count()
    checkpoints = AuditCheckpoint.objects.count()

    result = nightly_audit_verification.call_local()

    # The anchor it signs is checked with the others: one anchor so far, and it holds.
    assert result == {
        "ok": True,
        "checked": entries,
        "problem": "",
        "anchors": {"anchors": 1, "valid": 1, "broken": 0},
    }
    assert len(list(anchor_log.glob("anchors-*.jsonl"))) == 1
    assert AuditCheckpoint.objects.count() == checkpoints + 1
    checkpoint = AuditCheckpoint.objects.first()
    assert checkpoint.ok is True
    assert checkpoint.trigger == "schedule"
    assert checkpoint.entries_checked == entries
    assert AuditEntry.objects.count() == entries + 1
    last = AuditEntry.objects.order_by("-id").first()
    assert last.action == "core.audit.verify"
    assert last.actor_label == "system"
    assert last.detail["trigger"] == "schedule" and last.detail["ok"] is True


def test_nightly_check_reports_a_broken_journal(db, caplog, anchor_log):
    entry = AuditEntry.objects.order_by("id")[1]
    journal_guard.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET actor_label = %s WHERE id = %s", ["mallory", entry.pk])
    journal_guard.install(connection)
    where = f"entry {entry.seq} of chain {entry.chain}"

    with caplog.at_level(logging.ERROR, logger="tongban.core.services"):
        result = nightly_audit_verification.call_local()

    assert result["ok"] is False
    assert result["problem"] == f"{where} was modified"
    checkpoint = AuditCheckpoint.objects.first()
    assert checkpoint.ok is False and checkpoint.trigger == "schedule"
    assert where in checkpoint.problem
    last = AuditEntry.objects.order_by("-id").first()
    assert last.action == "core.audit.verify" and last.outcome == "failed"
    assert any("AUDIT JOURNAL BROKEN" in r.getMessage() and where in r.getMessage() for r in caplog.records)


def test_verify_now_through_the_test_queue(db):
    # Tests run the queue inline (immediate://): the result is there at once.
    result = verify_journal_now("test-inline")
    assert result.get() == {"ok": True, "checked": AuditEntry.objects.count() - 1, "problem": ""}
    assert AuditCheckpoint.objects.first().trigger == "test-inline"


# --- the real queue and server (embedded mode) --------------------------------------------------


@pytest.fixture
def embedded(tmp_path):
    """An environment of its own: SQLite database and queue under tmp_path, migrated."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_") and k != "DATABASE_URL"}
    env.update(
        TONGBAN_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        TONGBAN_QUEUE_URL=f"sqlite:///{tmp_path}/queue.sqlite3",
        TONGBAN_MASTER_KEY=os.environ.get("TONGBAN_MASTER_KEY", settings.TONGBAN_MASTER_KEY),
        TONGBAN_SECRET_KEY=os.environ.get("TONGBAN_SECRET_KEY", settings.SECRET_KEY),
        DJANGO_SETTINGS_MODULE="tongban.settings",
        PYTHONUNBUFFERED="1",
    )
    done = subprocess.run(
        [BIN / "tongban", "migrate"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Database is up to date" in done.stdout
    return env, tmp_path


ENQUEUE = """
import json, sys, django
django.setup()
from tongban.core.tasks import verify_journal_now
result = verify_journal_now(sys.argv[1])
if sys.argv[2] == "wait":
    print(json.dumps(result(blocking=True, timeout=60)))
else:
    print(json.dumps({"id": result.id}))
"""


def enqueue(env, trigger: str, wait: bool) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", ENQUEUE, trigger, "wait" if wait else "no-wait"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def checkpoints(db_path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT ok, trigger FROM core_auditcheckpoint ORDER BY id").fetchall()


def stop(proc: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 20) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


@embedded_only
def test_worker_runs_queued_jobs(embedded):
    env, var = embedded
    db_path = var / "db.sqlite3"

    # Enqueued while no worker runs: it waits in the queue instead of running inline.
    queued = enqueue(env, "before-worker", wait=False)
    assert queued["id"]
    assert checkpoints(db_path) == []

    with open(var / "worker.log", "w") as log:
        worker = subprocess.Popen([BIN / "tongban", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        result = enqueue(env, "test", wait=True)
        assert result["ok"] is True
        assert result["problem"] == ""
        deadline = time.monotonic() + 30
        while len(checkpoints(db_path)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sorted(checkpoints(db_path)) == [(1, "before-worker"), (1, "test")]
        assert worker.poll() is None, (var / "worker.log").read_text()
    finally:
        stop(worker)
    assert worker.returncode is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@embedded_only
def test_serve_answers_health_restarts_and_stops_its_worker(embedded):
    env, var = embedded
    port = free_port()
    log_path = var / "serve.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [BIN / "tongban", "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    worker_pid = None
    try:
        body, deadline = None, time.monotonic() + 120  # the first start compresses the static files
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200
                    body = json.loads(response.read())
                    break
            except OSError:
                time.sleep(0.2)
        assert body is not None, log_path.read_text()
        assert body["status"] == "ok"

        match = re.search(r"Job worker started \(pid (\d+)\)", log_path.read_text())
        assert match, log_path.read_text()
        first_pid = int(match[1])
        # The job worker, and (on Linux) the gunicorn master running one web process per core.
        web = [p for p in children_of(server.pid) if p != first_pid]
        assert first_pid in children_of(server.pid) and len(web) == 1
        assert alive(first_pid)

        # A worker that dies is restarted, so the embedded default keeps running its jobs.
        os.kill(first_pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        pids = [first_pid]
        while len(pids) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            pids = [int(p) for p in re.findall(r"Job worker started \(pid (\d+)\)", log_path.read_text())]
        assert len(pids) == 2, log_path.read_text()
        worker_pid = pids[1]
        assert set(children_of(server.pid)) == {worker_pid, *web}

        assert stop(server) == 0, log_path.read_text()
        deadline = time.monotonic() + 10
        while alive(worker_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(worker_pid), "the job worker outlived `tongban serve`"
        assert not any(alive(p) for p in web), "the web server outlived `tongban serve`"
    finally:
        stop(server, signal.SIGKILL, timeout=5)
        if worker_pid is not None and alive(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)
