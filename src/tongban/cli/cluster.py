"""`tongban cluster up|down|status`: the production shape of docs/scale.md on one machine.

Every part is the real thing, an ordinary process on 127.0.0.1 with its data in one work folder:

    nginx (proxy, retries the other app server)  → 2+ `tongban serve --no-worker` (gunicorn)
    PostgreSQL primary ── streaming replica (pg_basebackup; serves analytics through
                                             core.replicas, falling back to the primary)
    Redis (queue and shared cache)           ← `tongban worker` with the scheduler, and one without

It exists to prove the shape works and what it withstands (tests/cluster, `make bench
NAME=cluster_load`), and as a worked example of the configuration docs/deploy.md describes; a
province runs each part on its own hosts. Run as root, PostgreSQL runs as the `postgres` account
and nginx and Redis as `nobody`, never as root; otherwise all run as the caller. The Debian
packages come from `scripts/system-deps.sh cluster` (`make cluster` runs it).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

cluster_app = typer.Typer(help="The production shape on this machine (proxy, app servers, replica).")
console = Console()
err = Console(stderr=True)

ROOT = Path(__file__).resolve().parents[3]
STATE = "cluster.json"
POSTGRES_USER = "postgres"  # the OS account PostgreSQL runs as when we are root
SERVICE_USER = "nobody"  # the OS account nginx and Redis run as when we are root
# Short, so the fault tests see a dead worker's jobs come back within seconds; 30 s by default.
LEASE_SECONDS = 8


class ClusterError(RuntimeError):
    pass


# --- finding the programs -------------------------------------------------------------------------


def pg_bin() -> Path | None:
    """The PostgreSQL server programs: TONGBAN_PG_BIN, else Debian's newest, else pg_config's."""
    named = os.environ.get("TONGBAN_PG_BIN")
    candidates = [Path(named)] if named else []
    candidates += [
        Path(p).parent for p in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    ]
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)  # noqa: S603
            candidates.append(Path(out.stdout.strip()))
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_basebackup").exists():
            return folder
    return None


def nginx_bin() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def redis_bin() -> str | None:
    return shutil.which("redis-server")


def missing_programs() -> list[str]:
    missing = []
    if pg_bin() is None:
        missing.append("PostgreSQL server (initdb, pg_basebackup)")
    if nginx_bin() is None:
        missing.append("nginx")
    if redis_bin() is None:
        missing.append("redis-server")
    return missing


def free_port_block(count: int, start: int = 20000, end: int = 40000) -> int:
    """A base port such that base … base+count-1 are all free on 127.0.0.1."""
    base = start + secrets.randbelow((end - start) // 100) * 100
    for _attempt in range(200):
        if all(_port_free(base + i) for i in range(count)):
            return base
        base = start + (base - start + 100) % (end - start)
    raise ClusterError("no free block of ports found")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def descendants(pid: int) -> list[int]:
    """Children, their children and so on (gunicorn's workers under its master under serve)."""
    found, frontier = [], [pid]
    while frontier:
        kids = [k for parent in frontier for k in children(parent)]
        found += kids
        frontier = kids
    return found


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def private_bytes(pid: int) -> int:
    """Memory of one process that is its own (RssAnon): no shared buffers, no mapped files — what
    grows when a process leaks. (A PostgreSQL backend's RSS grows as it touches shared buffers.)"""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def http_json(url: str, timeout: float = 3.0) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310  (loopback URL we built)
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"{}")
        except ValueError:
            return error.code, {}
    except (OSError, ValueError):
        return 0, {}


# --- the cluster ----------------------------------------------------------------------------------


@dataclass
class Layout:
    """Ports and secrets of one cluster, kept in <folder>/cluster.json (mode 0600)."""

    base_port: int
    app_servers: int = 2
    workers: int = 2
    db_password: str = field(default_factory=lambda: secrets.token_hex(16))
    replication_password: str = field(default_factory=lambda: secrets.token_hex(16))
    redis_password: str = field(default_factory=lambda: secrets.token_hex(16))
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    master_key: str = field(default_factory=lambda: secrets.token_hex(32))
    pids: dict = field(default_factory=dict)

    @property
    def proxy_port(self) -> int:
        return self.base_port

    def app_port(self, n: int) -> int:
        return self.base_port + n  # 1 … app_servers

    @property
    def primary_port(self) -> int:
        return self.base_port + 10

    @property
    def replica_port(self) -> int:
        return self.base_port + 11

    @property
    def redis_port(self) -> int:
        return self.base_port + 12

    def worker_metrics_port(self, n: int) -> int:
        return self.base_port + 20 + n


class Cluster:
    def __init__(self, folder: Path | str, *, base_port: int | None = None, app_servers: int = 2):
        self.folder = Path(folder).resolve()
        self.state_file = self.folder / STATE
        if self.state_file.exists():
            data = json.loads(self.state_file.read_text())
            self.layout = Layout(**data)
        else:
            self.layout = Layout(base_port=base_port or free_port_block(30), app_servers=app_servers)
        self.procs: dict[str, subprocess.Popen] = {}
        self.root = os.geteuid() == 0

    # --- bookkeeping --------------------------------------------------------------------------

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(self.layout.__dict__, fh, indent=1)

    def _pid(self, name: str) -> int | None:
        return self.layout.pids.get(name)

    def _record(self, name: str, pid: int | None) -> None:
        if pid is None:
            self.layout.pids.pop(name, None)
        else:
            self.layout.pids[name] = pid
        self.save()

    def path(self, *parts) -> Path:
        return self.folder.joinpath(*parts)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.layout.proxy_port}"

    def app_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.layout.app_port(n)}"

    def _owned_dir(self, name: str, user: str | None) -> Path:
        folder = self.path(name)
        folder.mkdir(parents=True, exist_ok=True)
        if self.root and user:
            shutil.chown(folder, user, user if user != SERVICE_USER else "nogroup")
            folder.chmod(0o700)
        return folder

    def _as(self, user: str) -> dict:
        """Popen arguments that run a server as an unprivileged account when we are root."""
        if not self.root:
            return {}
        group = "nogroup" if user == SERVICE_USER else user
        return {"user": user, "group": group, "extra_groups": []}

    def _spawn(self, name: str, command: list, *, env=None, user: str | None = None, cwd=None) -> int:
        log = open(self.path("logs", f"{name}.log"), "ab")  # noqa: SIM115  (handed to the child)
        try:
            process = subprocess.Popen(  # noqa: S603  (programs and arguments of our own)
                [str(c) for c in command],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stopping or killing it takes its children
                cwd=cwd or self.folder,
                **(self._as(user) if user else {}),
            )
        finally:
            log.close()
        self.procs[name] = process
        self._record(name, process.pid)
        return process.pid

    def _run(self, command: list, *, user: str | None = None, env=None, timeout: float = 120) -> str:
        done = subprocess.run(  # noqa: S603  (programs and arguments of our own)
            [str(c) for c in command],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
            cwd=self.folder if not (self.root and user) else "/",
            **(self._as(user) if user else {}),
        )
        if done.returncode != 0:
            raise ClusterError(f"{Path(str(command[0])).name} failed: {(done.stderr or done.stdout)[-1500:]}")
        return done.stdout

    def _reap(self) -> None:
        for process in self.procs.values():
            process.poll()

    # --- environment of the app servers and workers -------------------------------------------

    def database_url(self, port: int | None = None) -> str:
        port = port or self.layout.primary_port
        return f"postgres://tongban:{self.layout.db_password}@127.0.0.1:{port}/tongban"

    def dsn(self, port: int | None = None, **extra) -> str:
        """A psycopg connection string for the tongban database (checks and tests)."""
        port = port or self.layout.primary_port
        options = " ".join(f"{k}={v}" for k, v in {"connect_timeout": 3, **extra}.items())
        return (
            f"host=127.0.0.1 port={port} user=tongban password={self.layout.db_password} dbname=tongban "
            + options
        )

    def env(self) -> dict:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("TONGBAN_", "PROMETHEUS_"))}
        keep.pop("DATABASE_URL", None)
        redis = f"redis://:{self.layout.redis_password}@127.0.0.1:{self.layout.redis_port}"
        keep.update(
            DATABASE_URL=self.database_url(),
            TONGBAN_REPLICA_URL=self.database_url(self.layout.replica_port),
            TONGBAN_QUEUE_URL=f"{redis}/0",
            TONGBAN_CACHE_URL=f"{redis}/1",
            TONGBAN_SECRET_KEY=self.layout.secret_key,
            TONGBAN_MASTER_KEY=self.layout.master_key,
            TONGBAN_VAR_DIR=str(self.path("var")),
            TONGBAN_BEHIND_PROXY="1",
            TONGBAN_ALLOWED_HOSTS="127.0.0.1,localhost",
            TONGBAN_QUEUE_LEASE_SECONDS=str(LEASE_SECONDS),
            TONGBAN_WORKERS="2",
            TONGBAN_LOG_LEVEL=os.environ.get("TONGBAN_LOG_LEVEL", "INFO"),
            TONGBAN_DATA_DIR=os.environ.get("TONGBAN_DATA_DIR", str(ROOT.parent / "shared" / "data")),
            DJANGO_SETTINGS_MODULE="tongban.settings",
            PYTHONUNBUFFERED="1",
        )
        return keep

    def tongban(self, *args, timeout: float = 600) -> str:
        """Run a `tongban` command against the cluster (as the caller; it is our own program)."""
        return self._run([sys.executable, "-m", "tongban.cli", *args], env=self.env(), timeout=timeout)

    # --- PostgreSQL ---------------------------------------------------------------------------

    def _pg(self, program: str) -> Path:
        folder = pg_bin()
        if folder is None:
            raise ClusterError("PostgreSQL server programs not found (scripts/system-deps.sh cluster)")
        return folder / program

    def _pg_data(self, which: str) -> Path:
        return self.path("pg", which)

    def postmaster_pid(self, which: str) -> int | None:
        pid_file = self._pg_data(which) / "postmaster.pid"
        try:
            return int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _init_primary(self) -> None:
        data = self._pg_data("primary")
        if (data / "PG_VERSION").exists():
            return
        self._owned_dir("pg", POSTGRES_USER)
        pwfile = self.path("pg", "pwfile")
        pwfile.write_text(self.layout.db_password + "\n")
        if self.root:
            shutil.chown(pwfile, POSTGRES_USER, POSTGRES_USER)
        pwfile.chmod(0o600)
        try:
            self._run(
                [
                    self._pg("initdb"),
                    *("-D", data, "-U", "postgres", "--pwfile", pwfile),
                    *("--auth-local=scram-sha-256", "--auth-host=scram-sha-256"),
                    *("-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"),
                ],
                user=POSTGRES_USER,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        sockets = self.path("pg")
        with open(data / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# tongban cluster (tongban cluster up)\n"
                f"listen_addresses = '127.0.0.1'\nport = {self.layout.primary_port}\n"
                f"unix_socket_directories = '{sockets}'\n"
                "wal_level = replica\nmax_wal_senders = 5\nwal_keep_size = '256MB'\n"
                "hot_standby = on\nhot_standby_feedback = on\nmax_connections = 100\n"
                "shared_buffers = '128MB'\nlogging_collector = off\n"
            )
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write("host replication replicator 127.0.0.1/32 scram-sha-256\n")

    def start_primary(self) -> None:
        self._start_pg("primary", self.layout.primary_port)

    def _start_pg(self, which: str, port: int) -> None:
        if alive(self.postmaster_pid(which)):
            return
        data = self._pg_data(which)
        self._run(
            [self._pg("pg_ctl"), "-D", data, "-l", self._pg_log(which), "-w", "-t", "60", "start"],
            user=POSTGRES_USER,
            timeout=90,
        )
        self._record(f"postgres-{which}", self.postmaster_pid(which))

    def _pg_log(self, which: str) -> Path:
        log = self.path("pg", f"{which}.log")
        if self.root and not log.exists():
            log.touch()
            shutil.chown(log, POSTGRES_USER, POSTGRES_USER)
        return log

    def stop_pg(self, which: str, *, mode: str = "fast") -> None:
        if not alive(self.postmaster_pid(which)):
            return
        self._run(
            [self._pg("pg_ctl"), "-D", self._pg_data(which), "-m", mode, "-w", "-t", "60", "stop"],
            user=POSTGRES_USER,
            timeout=90,
        )
        self._record(f"postgres-{which}", None)

    def kill_pg(self, which: str) -> float:
        """kill -9 the postmaster and every backend of it: a crash of the database server."""
        pid = self.postmaster_pid(which)
        if not pid:
            raise ClusterError(f"PostgreSQL {which} is not running")
        victims = [pid, *children(pid)]
        for victim in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while any(alive(v) for v in victims) and time.monotonic() < deadline:
            time.sleep(0.05)
        return time.time()

    def _bootstrap_database(self) -> None:
        import psycopg

        admin = (
            f"host=127.0.0.1 port={self.layout.primary_port} user=postgres "
            f"password={self.layout.db_password} dbname=postgres"
        )
        with psycopg.connect(admin, autocommit=True) as conn:
            roles = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles")}
            if "tongban" not in roles:
                conn.execute(f"CREATE ROLE tongban LOGIN PASSWORD '{self.layout.db_password}'")
                # To see the replica's WAL receiver and lag (core.replicas), nothing more.
                conn.execute("GRANT pg_monitor TO tongban")
            if "replicator" not in roles:
                conn.execute(
                    f"CREATE ROLE replicator REPLICATION LOGIN PASSWORD '{self.layout.replication_password}'"
                )
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'tongban'").fetchone():
                conn.execute("CREATE DATABASE tongban OWNER tongban")

    def _init_replica(self) -> None:
        data = self._pg_data("replica")
        if (data / "PG_VERSION").exists():
            return
        env = {**os.environ, "PGPASSWORD": self.layout.replication_password}
        self._run(
            [
                self._pg("pg_basebackup"),
                *("-h", "127.0.0.1", "-p", self.layout.primary_port, "-U", "replicator"),
                *("-D", data, "-R", "-X", "stream", "--checkpoint=fast", "--no-password"),
            ],
            user=POSTGRES_USER,
            env=env,
            timeout=300,
        )
        with open(data / "postgresql.conf", "a") as conf:
            conf.write(f"\n# the replica\nport = {self.layout.replica_port}\n")
        with open(data / "postgresql.auto.conf", "a") as auto:
            # pg_basebackup -R wrote primary_conninfo without the password it read from PGPASSWORD.
            auto.write(
                f"primary_conninfo = 'host=127.0.0.1 port={self.layout.primary_port} user=replicator "
                f"password={self.layout.replication_password} application_name=tongban_replica'\n"
            )

    def start_replica(self) -> None:
        self._start_pg("replica", self.layout.replica_port)

    def replication(self) -> list[dict]:
        """pg_stat_replication on the primary: who streams and how far behind."""
        import psycopg

        admin = (
            f"host=127.0.0.1 port={self.layout.primary_port} user=postgres "
            f"password={self.layout.db_password} dbname=postgres connect_timeout=2"
        )
        try:
            with psycopg.connect(admin) as conn:
                rows = conn.execute(
                    "SELECT application_name, state, "
                    "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, "
                    "EXTRACT(EPOCH FROM replay_lag)::float8 FROM pg_stat_replication"
                ).fetchall()
        except Exception:
            return []
        return [{"name": r[0], "state": r[1], "bytes_behind": r[2], "replay_lag_seconds": r[3]} for r in rows]

    # --- Redis, nginx -------------------------------------------------------------------------

    def start_redis(self) -> None:
        if alive(self._pid("redis")):
            return
        folder = self._owned_dir("redis", SERVICE_USER)
        conf = folder / "redis.conf"
        conf.write_text(
            f"port {self.layout.redis_port}\nbind 127.0.0.1\nprotected-mode yes\n"
            f'requirepass "{self.layout.redis_password}"\ndaemonize no\ndir {folder}\n'
            'appendonly yes\nappendfsync everysec\nsave ""\nlogfile ""\n'
        )
        if self.root:
            shutil.chown(conf, SERVICE_USER, "nogroup")
        conf.chmod(0o600)
        self._spawn("redis", [redis_bin(), conf], user=SERVICE_USER)
        self._wait_port(self.layout.redis_port, "Redis")

    def nginx_conf(self) -> str:
        folder = self.path("nginx")
        servers = "\n".join(
            f"    server 127.0.0.1:{self.layout.app_port(n)} max_fails=1 fail_timeout=5s;"
            for n in range(1, self.layout.app_servers + 1)
        )
        temp = "\n".join(
            f"  {kind}_temp_path {folder / 'tmp' / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return f"""# tongban cluster proxy (tongban cluster up): unprivileged, everything under {folder}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log {folder}/access.log;
{temp}
  client_max_body_size 100m;
  upstream tongban {{
{servers}
  }}
  server {{
    listen 127.0.0.1:{self.layout.proxy_port};
    # Metrics are for the monitoring system, which asks the app servers directly.
    location = /metrics {{ return 404; }}
    location / {{
      proxy_pass http://tongban;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Request-ID $request_id;
      # A server that refuses the connection or fails is skipped; requests that may change
      # something (POST) go to the next server only if the first never received them.
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 2s;
      proxy_read_timeout 120s;
    }}
  }}
}}
"""

    def start_nginx(self) -> None:
        if alive(self._pid("nginx")):
            return
        folder = self._owned_dir("nginx", SERVICE_USER)
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (folder / "tmp" / kind).mkdir(parents=True, exist_ok=True)
            if self.root:
                shutil.chown(folder / "tmp" / kind, SERVICE_USER, "nogroup")
        if self.root:
            shutil.chown(folder / "tmp", SERVICE_USER, "nogroup")
        conf = folder / "nginx.conf"
        conf.write_text(self.nginx_conf())
        command = [nginx_bin(), "-p", folder, "-e", folder / "error.log", "-c", conf, "-g", "daemon off;"]
        self._spawn("nginx", command, user=SERVICE_USER)
        self._wait_port(self.layout.proxy_port, "nginx")

    # --- tongban ------------------------------------------------------------------------------

    def start_app(self, n: int) -> int:
        name = f"app-{n}"
        if alive(self._pid(name)):
            return self._pid(name)
        command = [
            sys.executable,
            *("-m", "tongban.cli", "serve", "--host", "127.0.0.1", "--port", self.layout.app_port(n)),
            *("--no-worker", "--web-worker", "sync", "--processes", "2"),
        ]
        pid = self._spawn(name, command, env=self.env(), cwd=ROOT)
        return pid

    def wait_app(self, n: int, timeout: float = 90) -> float:
        """Seconds until app server n answers /readyz with 200."""
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            status, _body = http_json(self.app_url(n) + "/readyz", timeout=2)
            if status == 200:
                return time.monotonic() - started
            if not alive(self._pid(f"app-{n}")):
                raise ClusterError(f"app server {n} exited; see {self.path('logs', f'app-{n}.log')}")
            time.sleep(0.2)
        raise ClusterError(f"app server {n} not ready after {timeout:.0f} s")

    def kill_group(self, name: str) -> tuple[float, float]:
        """kill -9 a process we started and everything it started (its process group); returns the
        monotonic instants just before the signal and once the process is gone (until then its
        listening socket may still take connections that will never be answered)."""
        pid = self._pid(name)
        # The leader (`tongban serve`) dies first; gunicorn's master and workers below it hold the
        # listening socket and may outlive it by some milliseconds, so "gone" means all of them.
        group = [pid, *descendants(pid)] if pid else []
        before = time.monotonic()
        if not pid:
            return before, before
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(alive(p) for p in group) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.01)
        self._record(name, None)
        return before, time.monotonic()

    def stop_group(self, name: str, timeout: float = 30) -> None:
        pid = self._pid(name)
        if not pid or not alive(pid):
            self._record(name, None)
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.1)
        if alive(pid):
            self.kill_group(name)
        self._record(name, None)

    def start_worker(self, n: int) -> int:
        name = f"worker-{n}"
        if alive(self._pid(name)):
            return self._pid(name)
        command = [
            sys.executable,
            *("-m", "tongban.cli", "worker", "--metrics-port", self.layout.worker_metrics_port(n)),
            *([] if n == 1 else ["--no-periodic"]),  # one scheduler in the whole cluster
        ]
        return self._spawn(name, command, env=self.env(), cwd=ROOT)

    def _wait_port(self, port: int, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _answers(port):
                return
            time.sleep(0.1)
        raise ClusterError(f"{what} does not answer on port {port}")

    # --- the whole ----------------------------------------------------------------------------

    def up(self, *, seed: bool = True, say=print) -> None:
        missing = missing_programs()
        if missing:
            raise ClusterError("missing: " + ", ".join(missing) + " (bash scripts/system-deps.sh cluster)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)  # the server accounts pass through it to their own folders
        self.path("logs").mkdir(exist_ok=True)
        self.path("var").mkdir(exist_ok=True)
        self.save()
        fresh = not (self._pg_data("primary") / "PG_VERSION").exists()
        say("PostgreSQL primary")
        self._init_primary()
        self.start_primary()
        self._bootstrap_database()
        say("streaming replica (pg_basebackup)")
        self._init_replica()
        self.start_replica()
        say("Redis")
        self.start_redis()
        say("migrations")
        self.tongban("migrate")
        if seed and fresh:
            say("demo city (tongban seed)")
            self.tongban("seed")
        say(f"{self.layout.app_servers} app servers")
        for n in range(1, self.layout.app_servers + 1):
            # One after the other: the first collects the static files the others then find ready.
            self.start_app(n)
            self.wait_app(n, timeout=240)
        say("workers")
        for n in range(1, self.layout.workers + 1):
            self.start_worker(n)
        say("nginx")
        self.start_nginx()
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        body = {}
        while time.monotonic() < deadline:
            status, body = http_json(self.url + "/readyz")
            if status == 200 and body.get("replica", {}).get("in_use"):
                return body
            time.sleep(0.3)
        raise ClusterError(f"the cluster is not ready through the proxy: {body}")

    def down(self) -> None:
        self.stop_group("nginx", timeout=10)
        for n in range(1, self.layout.app_servers + 1):
            self.stop_group(f"app-{n}")
        for n in range(1, self.layout.workers + 1):
            self.stop_group(f"worker-{n}")
        self.stop_group("redis", timeout=10)
        for which in ("replica", "primary"):
            try:
                self.stop_pg(which)
            except ClusterError:
                pid = self.postmaster_pid(which)
                if pid:
                    self.kill_pg(which)
        self._reap()

    def status(self) -> dict:
        parts = {}
        for name in ("nginx", "redis", *self._tongban_names()):
            pid = self._pid(name)
            parts[name] = {"pid": pid, "alive": alive(pid)}
        for which in ("primary", "replica"):
            pid = self.postmaster_pid(which)
            parts[f"postgres-{which}"] = {"pid": pid, "alive": alive(pid)}
        status, ready = http_json(self.url + "/readyz")
        return {
            "folder": str(self.folder),
            "url": self.url,
            "parts": parts,
            "ready": {"status": status, **ready},
            "replication": self.replication(),
        }

    def _tongban_names(self) -> list[str]:
        return [f"app-{n}" for n in range(1, self.layout.app_servers + 1)] + [
            f"worker-{n}" for n in range(1, self.layout.workers + 1)
        ]

    def purge(self) -> None:
        self.down()
        shutil.rmtree(self.folder, ignore_errors=True)

    def processes(self) -> dict[str, list[int]]:
        """Every process of the cluster by part (a part's main process and its children)."""
        found = {}
        for name in ("nginx", "redis", *self._tongban_names()):
            pid = self._pid(name)
            if alive(pid):
                found[name] = [pid, *descendants(pid)]
        for which in ("primary", "replica"):
            pid = self.postmaster_pid(which)
            if alive(pid):
                found[f"postgres-{which}"] = [pid, *descendants(pid)]
        return found


# --- the commands ---------------------------------------------------------------------------------

Folder = Annotated[Path, typer.Option(help="Work folder of the cluster.")]
DEFAULT_FOLDER = Path("var/cluster")


@cluster_app.command("up")
def up(
    folder: Folder = DEFAULT_FOLDER,
    base_port: Annotated[
        int | None,
        typer.Option(help="First of ~30 ports (proxy; app servers +1…; PostgreSQL +10/+11; Redis +12)."),
    ] = None,
    app_servers: Annotated[int, typer.Option(help="App servers behind the proxy.")] = 2,
    seed: Annotated[
        bool, typer.Option("--seed/--no-seed", help="Load the demo city into a new cluster.")
    ] = True,
):
    """Bring the production shape up (or start what is stopped), and say where it answers."""
    cluster = Cluster(folder, base_port=base_port, app_servers=app_servers)
    started = time.monotonic()
    try:
        with console.status("starting") as spinner:
            cluster.up(seed=seed, say=lambda what: spinner.update(f"starting: {what}"))
    except ClusterError as error:
        err.print(f"[red]The cluster did not come up:[/] {error}")
        err.print(f"Logs: {cluster.path('logs')}, {cluster.path('pg')}")
        raise typer.Exit(1) from None
    layout = cluster.layout
    console.print(f"[green]The cluster is up[/] in {time.monotonic() - started:.0f} s: {cluster.url}/")
    console.print(
        f"  app servers on {', '.join(str(layout.app_port(n)) for n in range(1, layout.app_servers + 1))}; "
        f"PostgreSQL primary {layout.primary_port}, replica {layout.replica_port}; Redis {layout.redis_port}"
    )
    console.print(
        f"  folder {cluster.folder} (secrets in {cluster.state_file}); `tongban cluster down` stops it"
    )


@cluster_app.command("down")
def down(
    folder: Folder = DEFAULT_FOLDER,
    purge: Annotated[bool, typer.Option("--purge", help="Also delete the work folder and its data.")] = False,
):
    """Stop every part (proxy first, databases last); the data stays unless --purge."""
    if not (folder / STATE).exists():
        err.print(f"[yellow]No cluster in {folder}.[/]")
        raise typer.Exit(0)
    cluster = Cluster(folder)
    (cluster.purge if purge else cluster.down)()
    console.print("[green]The cluster is stopped[/]" + (" and its folder deleted." if purge else "."))


@cluster_app.command("status")
def status(folder: Folder = DEFAULT_FOLDER):
    """Each part's process, readiness through the proxy, and the replica's lag."""
    if not (folder / STATE).exists():
        err.print(f"[yellow]No cluster in {folder}.[/]")
        raise typer.Exit(1)
    report = Cluster(folder).status()
    for name, part in report["parts"].items():
        state = "[green]running[/]" if part["alive"] else "[red]stopped[/]"
        console.print(f"  {name:<18} {state}  pid {part['pid'] or '-'}")
    ready = report["ready"]
    console.print(f"  /readyz via the proxy: {ready.get('status')} {json.dumps(ready, ensure_ascii=False)}")
    for row in report["replication"]:
        console.print(
            f"  replication {row['name']}: {row['state']}, {row['bytes_behind']} bytes behind, "
            f"replay lag {row['replay_lag_seconds']}"
        )
    all_up = all(p["alive"] for p in report["parts"].values()) and ready.get("status") == 200
    raise typer.Exit(0 if all_up else 1)
