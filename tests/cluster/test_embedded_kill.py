"""The embedded default under a crash (issues 9 and 17): `tongban serve` on SQLite, with its job
worker, is killed with SIGKILL while citizens apply; started again on the same port, it has every
application it acknowledged, and the journal verifies. Three rounds on the same database."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

from tests.cluster.load import WriteLoad

from tongban.cli.cluster import alive, children, http_json

ROUNDS = 3


def _environment(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TONGBAN_", "PROMETHEUS_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        TONGBAN_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path}/tongban.sqlite3",
        TONGBAN_QUEUE_URL=f"sqlite:///{tmp_path}/queue.sqlite3",
        TONGBAN_DATA_DIR=os.environ.get("TONGBAN_DATA_DIR", ""),
        TONGBAN_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="tongban.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_taken(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_serve_on_sqlite_killed_mid_load(tmp_path, figures):
    env = _environment(tmp_path)
    seeded = subprocess.run(
        [sys.executable, "-m", "tongban.cli", "seed"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stdout[-2000:] + seeded.stderr[-2000:]
    port = _free_port()
    database = tmp_path / "tongban.sqlite3"
    all_acknowledged: dict[str, str] = {}
    for round_ in range(1, ROUNDS + 1):
        log = open(tmp_path / f"serve-{round_}.log", "w")  # noqa: SIM115
        started = time.monotonic()
        server = subprocess.Popen(
            [sys.executable, "-m", "tongban.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 90
            while http_json(f"http://127.0.0.1:{port}/readyz")[0] != 200:
                assert server.poll() is None and time.monotonic() < deadline, (
                    tmp_path / f"serve-{round_}.log"
                ).read_text()
                time.sleep(0.2)
            serving_after = time.monotonic() - started
            family = [server.pid, *children(server.pid)]
            load = WriteLoad(f"http://127.0.0.1:{port}", clients=3).start()
            load.wait_for(12, timeout=60)
            killed_at = time.monotonic()
            server.send_signal(signal.SIGKILL)
            load.stop()  # each client finishes (or fails) the request it had in flight
            server.wait(timeout=10)
            # Nothing it started outlives it: the web processes and the job worker die with it.
            deadline = time.monotonic() + 30
            while (any(alive(p) for p in family) or _port_taken(port)) and time.monotonic() < deadline:
                time.sleep(0.1)
            orphans = [p for p in family if alive(p)]
        finally:
            log.close()
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
        acknowledged = load.acknowledged()
        all_acknowledged.update(acknowledged)
        with sqlite3.connect(database) as db:
            keys = list(all_acknowledged)
            marks = ",".join("?" * len(keys))
            query = f"SELECT idempotency_key, number FROM cases_case WHERE idempotency_key IN ({marks})"
            rows = dict(db.execute(query, keys).fetchall())
        found = sum(1 for k, n in all_acknowledged.items() if rows.get(k) == n)
        figures(
            f"embedded_sqlite_kill round={round_}",
            acknowledged=len(acknowledged),
            found_all_rounds=f"{found}/{len(all_acknowledged)}",
            failed_in_flight=sum(1 for f in load.failures() if f.started <= killed_at),
            serving_after_start_s=serving_after,
        )
        assert not orphans, f"processes outlived the killed server: {orphans}"
        # A round with no write acknowledged proves nothing (a refused form once made it pass empty).
        assert acknowledged, f"round {round_}: no application was acknowledged before the kill"
        assert found == len(all_acknowledged), "an acknowledged application is missing after the crash"
    verify = subprocess.run(
        [sys.executable, "-m", "tongban.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    figures("embedded_sqlite_kill journal", verified=verify.stdout.strip().splitlines()[-1][:120])
