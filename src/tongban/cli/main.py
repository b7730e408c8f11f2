"""`tongban`: everything an operator does, from the first demo to backups and the nightly jobs."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

app = typer.Typer(
    help="tongban 通办 — run and operate a tongban installation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(help="The tamper-evident audit journal.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for other systems.", no_args_is_help=True)
org_app = typer.Typer(help="Set up the organisation of a new installation.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(token_app, name="token")
app.add_typer(org_app, name="org")
from .cluster import cluster_app  # noqa: E402  (sub-commands in their own modules)
from .documents import document_app  # noqa: E402
from .guide import guide_app  # noqa: E402
from .hotline import hotline_app  # noqa: E402
from .jobs import jobs_app  # noqa: E402
from .precheck import precheck_app  # noqa: E402

app.add_typer(jobs_app, name="jobs")
app.add_typer(cluster_app, name="cluster")
app.add_typer(hotline_app, name="hotline")
app.add_typer(guide_app, name="guide")
app.add_typer(document_app, name="document")
app.add_typer(precheck_app, name="precheck")

console = Console()
err = Console(stderr=True)


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


# --- database set-up ----------------------------------------------------------------------------


def pending_migrations() -> list:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def migrate_with_progress() -> int:
    """Apply pending migrations with a progress bar; returns how many were applied."""
    from django.core.management import call_command
    from django.core.management.commands.migrate import Command as MigrateCommand

    plan = pending_migrations()
    if not plan:
        return 0
    with _progress() as progress:
        task = progress.add_task("Migrating database", total=len(plan))

        class ProgressMigrate(MigrateCommand):
            def migration_progress_callback(self, action, migration=None, fake=False):
                if action in ("apply_success", "unapply_success"):
                    progress.advance(task)

        call_command(ProgressMigrate(), interactive=False, verbosity=0)
    return len(plan)


@app.command()
def migrate():
    """Create or upgrade the database schema."""
    _django()
    applied = migrate_with_progress()
    console.print(f"[green]Database is up to date[/] ({applied} migrations applied).")


@app.command()
def seed():
    """Load the demo city (migrates first when needed). Safe to run twice."""
    _django()
    migrate_with_progress()
    _seed_and_print()


@app.command("demo-history")
def demo_history(
    days: Annotated[int, typer.Option(min=1, max=730, help="How many days back the history starts.")] = 365,
    scale: Annotated[
        float, typer.Option(min=0.01, max=2.0, help="Arrivals per item as a share of the fitted rate.")
    ] = 0.08,
):
    """Drive a year of cases of the demo city through the services (for the supervisor's pages and
    the cockpit); `make demo` runs it in the background. Safe to run twice."""
    _django()
    from tongban.cases.history import load_demo_history

    with _progress() as progress:
        task = progress.add_task("A year of the demo city's cases", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = load_demo_history(days=days, scale=scale, progress=advance, pause=0.05)
    if not report.cases and report.fit is None:
        console.print("History already loaded (or the demo city is not seeded): nothing added.")
        return
    console.print(
        f"History: {report.cases} cases ({report.issued} issued, {report.refused} refused, "
        f"{report.supplements} with 补正, {report.ratings} rated, {report.still_open} still open); "
        f"timing fitted from {report.fit.source if report.fit else '-'}."
    )
    for skipped in report.skipped_items[:10]:
        console.print(f"[yellow]Skipped:[/] {skipped}")


def _seed_and_print() -> None:
    from tongban.accounts.seed import seed_demo
    from tongban.cases.demo import load_rules, load_sample_cases
    from tongban.catalog.demo.loader import load_demo_catalogue
    from tongban.documents.demo import load_documents
    from tongban.exchange.demo import load_exchange
    from tongban.hotline.demo import ensure_router, load_hotline
    from tongban.licences.demo import load_licences, load_types
    from tongban.proactive.demo import load_policies

    steps = [
        "regions",
        "departments",
        "service centre",
        "staff",
        "citizens and enterprises",
        "catalogue list",
        "high-frequency items",
        "auto-approval rules",
        "licence types",
        "licences held",
        "sample cases",
        "data sharing",
        "policy matching",
        "12345 hotline",
        "12345 router (training)",
        "official documents",
    ]
    with _progress() as progress:
        task = progress.add_task("Seeding demo city", total=len(steps))
        done = []

        def step(label):
            if done:
                progress.advance(task)
            done.append(label)
            progress.update(task, description=f"Seeding demo city: {label}")

        report = seed_demo(step)
        catalogue = load_demo_catalogue(step)
        step("auto-approval rules")
        rules = load_rules()
        step("licence types")
        licence_types = load_types()
        step("licences held")
        licences_held = load_licences()
        step("sample cases")
        samples = load_sample_cases()
        step("data sharing")
        exchange = load_exchange()
        step("policy matching")
        policies = load_policies()
        step("12345 hotline")
        hotline = load_hotline()
        step("12345 router (training)")
        router_note = ensure_router()
        step("official documents")
        documents = load_documents()
        progress.update(task, completed=len(steps))
    console.print(f"Demo city: {report.created} objects created, {report.existing} already there.")
    console.print(
        f"Catalogue: {catalogue.catalogue_rows} listed items ({catalogue.created} new), "
        f"{catalogue.detailed} items given full detail, {catalogue.bundles} bundles."
    )
    console.print(f"秒批: {rules} auto-approval rule tables published.")
    if licence_types:
        console.print(f"E-licences: {licence_types} licence types.")
    if licences_held:
        console.print(f"E-licences held by the demo people: {licences_held} (one revoked, one expired).")
    if samples:
        console.print(f"Sample cases: {samples} (at the window, in the worklist, waiting for 补正, issued).")
    if exchange["resources"] or exchange["records"]:
        console.print(
            f"Data sharing: {exchange['resources']} resources, {exchange['records']} provider records, "
            f"{exchange['grants']} grants."
        )
    if policies["policies"]:
        console.print(
            f"Policy matching: {policies['policies']} policies, {policies['resources']} enterprise data "
            f"resources ({policies['records']} records), {policies['grants']} grants."
        )
    console.print(
        f"12345 hotline: {hotline['categories']} categories, {hotline['mapped']} mapped to departments, "
        f"{hotline['orders']} sample work orders."
    )
    console.print(router_note)
    console.print(
        f"Official documents: {documents['processes']} processes published (发文, 收文), "
        f"{documents['seals']} e-seal, {documents['staff']} more staff."
    )
    if catalogue.skipped_reason:
        console.print(f"[yellow]Catalogue list skipped:[/] {catalogue.skipped_reason}")


def print_logins(url: str) -> None:
    from django.conf import settings

    from tongban.accounts.seed import demo_logins

    rows = demo_logins()
    # Plain lines rather than a table: a narrow terminal must not cut a TOTP secret.
    print(f"\nDemo logins — the password for all of them is {settings.TONGBAN_DEMO_PASSWORD}")
    for row in rows:
        where = f" @ {row.department}" if row.department else ""
        print(f"  {row.username:<14} {row.name}  ({row.role}{where})")
        if row.otpauth_uri:
            print(f"  {'':<14} TOTP secret {row.totp_secret}  ·  {row.otpauth_uri}")
    print(
        "Staff log in with the password and a 6-digit TOTP code: add the otpauth URI to an authenticator "
        "app, or run `oathtool --totp -b <secret>`."
    )
    from tongban.accounts.seed import demo_id_number
    from tongban.exchange.demo import REGISTRANT

    name, region, born, seq = REGISTRANT
    print(
        f"To try 实名认证, register as {name}, ID number {demo_id_number(region, born, seq)} (in the demo's "
        f"population register, no account yet). The demo sends no text messages: SMS codes are in "
        f"{settings.TONGBAN_SMS_OUTBOX} (`tongban sms outbox`)."
    )
    print(f"\ntongban is at {url}  (API docs: {url}api/v1/docs)\n", flush=True)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after seeding.")] = True,
):
    """Set up everything on the embedded default (migrate, seed), print the logins and serve."""
    _django()
    migrate_with_progress()
    _seed_and_print()
    url = f"http://{host}:{port}/"
    print_logins(url)
    if serve_after:
        _history_in_background()
        _serve(host, port, threads=8, worker=None)


def _history_in_background() -> None:
    """A year of cases loads while the site already serves (it takes minutes on 2 cores); its
    progress goes to a log file of its own, named here."""
    from django.conf import settings

    log_path = Path(settings.VAR_DIR) / "demo-history.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "tongban.cli", "demo-history"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
    console.print(f"A year of the demo city's history is loading in the background (progress: {log_path}).")


# --- serving ------------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    threads: Annotated[int, typer.Option(help="Request threads (per process).")] = 8,
    processes: Annotated[
        int | None,
        typer.Option(
            help="Web server processes (gunicorn, on Linux and macOS). Default: TONGBAN_WEB_PROCESSES, "
            "else one per CPU core up to 4; 1 uses the single-process waitress server."
        ),
    ] = None,
    web_worker: Annotated[
        str,
        typer.Option(
            help="gunicorn worker kind: 'thread' (default; copes with slow clients on its own) or 'sync' "
            "(one request per process at a time: the lowest latency, for use behind a reverse proxy "
            "such as nginx that buffers slow clients)."
        ),
    ] = "thread",
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Also run the job worker (default: yes on the embedded "
            "SQLite queue, no when jobs go through Redis).",
        ),
    ] = None,
):
    """Serve the web site and API (waitress), with a background job worker on the embedded default."""
    _django()
    if pending_migrations():
        err.print("[red]The database needs migrating first:[/] tongban migrate")
        raise typer.Exit(2)
    console.print(f"[bold green]tongban is at http://{host}:{port}/[/]")
    if web_worker not in ("thread", "sync"):
        err.print("[red]--web-worker is 'thread' or 'sync'[/]")
        raise typer.Exit(2)
    _serve(host, port, threads, worker, processes, web_worker)


def web_processes(requested: int | None = None) -> int:
    if requested is None:
        requested = int(os.environ.get("TONGBAN_WEB_PROCESSES", "0") or 0) or min(os.cpu_count() or 1, 4)
    if os.name != "posix":
        return 1  # gunicorn needs fork; elsewhere one waitress process serves
    return max(1, requested)


def _serve(
    host: str,
    port: int,
    threads: int,
    worker: bool | None,
    processes: int | None = None,
    web_worker: str = "thread",
) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from waitress import serve as waitress_serve

    # Compressed copies of the static files, so WhiteNoise serves them with long cache lifetimes;
    # before the application loads, because WhiteNoise indexes the folder when it starts.
    _collect_static(call_command)
    _metrics_folder(port)
    from tongban.wsgi import application

    if worker is None:
        worker = not settings.QUEUE_URL.startswith("redis://")

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Installed before the worker starts, so a SIGTERM at any moment also stops the worker.
    signal.signal(signal.SIGTERM, stop)
    supervisor = _WorkerSupervisor() if worker else None
    try:
        if supervisor:
            supervisor.start()
        count = web_processes(processes)
        if count > 1:
            # Several processes use every core (Python runs one thread at a time per process). The
            # database holds sessions and the authority stamp, so the processes need no shared cache.
            _gunicorn(host, port, threads, count, web_worker)
        else:
            waitress_serve(application, host=host, port=port, **waitress_options(threads))
    except KeyboardInterrupt:
        pass
    finally:
        if supervisor:
            supervisor.stop()


def waitress_options(threads: int) -> dict:
    """waitress's settings. Behind a reverse proxy (TONGBAN_BEHIND_PROXY) the proxy's X-Forwarded-*
    headers are believed when they come from TONGBAN_TRUSTED_PROXY: waitress removes them from
    anyone else, so without this an HTTPS site behind nginx saw every request as plain HTTP and
    redirected it to HTTPS forever (issue 9, defect 9). The Server header names no software."""
    from django.conf import settings

    options = {"threads": threads, "ident": "tongban"}
    if settings.TONGBAN_BEHIND_PROXY:
        options.update(
            trusted_proxy=settings.TONGBAN_TRUSTED_PROXY,
            trusted_proxy_count=1,
            trusted_proxy_headers={"x-forwarded-proto", "x-forwarded-for", "x-forwarded-host"},
            clear_untrusted_proxy_headers=True,
        )
    return options


def gunicorn_command(host: str, port: int, threads: int, processes: int, web_worker: str = "thread") -> list:
    if web_worker == "sync":
        kind = ["--worker-class", "sync"]
    else:
        kind = ["--worker-class", "gthread", "--threads", str(threads)]
    access_log = "-" if os.environ.get("TONGBAN_ACCESS_LOG") else "/dev/null"
    return [
        *(sys.executable, "-m", "gunicorn", "tongban.wsgi:application"),
        *("--config", "python:tongban.cli.gunicorn_config"),
        *("--bind", f"{host}:{port}", "--workers", str(processes), *kind),
        *("--keep-alive", "30", "--graceful-timeout", "20"),
        *("--access-logfile", access_log, "--error-logfile", "-", "--log-level", "warning"),
    ]


def _gunicorn(host: str, port: int, threads: int, processes: int, web_worker: str = "thread") -> None:
    command = gunicorn_command(host, port, threads, processes, web_worker)
    child = subprocess.Popen(command, preexec_fn=die_with_parent)  # noqa: S603  (our own interpreter and arguments)
    try:
        child.wait()
    finally:
        if child.poll() is None:
            child.terminate()
            child.wait(timeout=30)


def _collect_static(call_command) -> None:
    """collectstatic, unless the static files are the ones collected last time: compressing them all
    again takes a minute on a busy machine, which an app server restarting after a crash should not
    wait for. The stamp is every source file's path, size and time, and the target folder."""
    import hashlib

    from django.conf import settings
    from django.contrib.staticfiles import finders

    digest = hashlib.sha256(str(settings.STATIC_ROOT).encode())
    for finder in finders.get_finders():
        for path, storage in finder.list([]):
            info = os.stat(storage.path(path))
            digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    stamp = Path(settings.STATIC_ROOT) / ".collected"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(digest.hexdigest())


def die_with_parent() -> None:
    """In a child of `tongban serve`, before it runs: ask Linux to send it SIGTERM when serve dies,
    however it dies (kill -9 included), so no orphaned web server keeps the port or the database."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _metrics_folder(port: int) -> None:
    """The web processes (and the embedded worker) of this server count into one folder that
    /metrics adds up; emptied at start, as prometheus-client's multiprocess mode requires."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    import shutil

    from django.conf import settings

    folder = Path(settings.VAR_DIR) / "metrics" / f"serve-{port}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


class _WorkerSupervisor:
    """Runs `tongban worker` beside the web server and restarts it if it dies, so the embedded
    default needs one command. Gives up after 5 restarts in 5 minutes (it would be crashing)."""

    CHECK_SECONDS = 2.0

    def __init__(self):
        import threading

        self.child: subprocess.Popen | None = None
        self.restarts: list[float] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)

    def _spawn(self) -> None:
        self.child = subprocess.Popen(
            [sys.executable, "-m", "tongban.cli", "worker"], preexec_fn=die_with_parent
        )
        console.print(f"Job worker started (pid {self.child.pid}).")

    def start(self) -> None:
        self._spawn()
        self.thread.start()

    def _watch(self) -> None:
        while not self.stopping.wait(self.CHECK_SECONDS):
            if self.child is None or self.child.poll() is None:
                continue
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < 300] + [now]
            if len(self.restarts) > 5:
                err.print("[red]The job worker keeps exiting; not restarting it. See the log above.[/]")
                return
            err.print(f"[yellow]Job worker exited with code {self.child.returncode}; restarting.[/]")
            self._spawn()

    def stop(self) -> None:
        self.stopping.set()
        child = self.child
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()


def load_tasks() -> list[str]:
    """Import every app's `tasks` module, so the worker knows every job (and schedules every
    periodic one) — not only those some earlier import happened to load."""
    from django.utils.module_loading import autodiscover_modules
    from huey.contrib.djhuey import HUEY

    autodiscover_modules("tasks")
    return sorted(HUEY._registry._registry)


@app.command()
def worker(
    workers: Annotated[int | None, typer.Option(help="Worker threads (default from settings).")] = None,
    periodic: Annotated[
        bool,
        typer.Option("--periodic/--no-periodic", help="Also schedule periodic jobs (run one such worker)."),
    ] = True,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="Serve this worker's Prometheus metrics (jobs run, failed, their time) on 127.0.0.1."
        ),
    ] = None,
):
    """Run the background job worker (deadline timers, reminders, the nightly journal check)."""
    _django()
    from django.conf import settings
    from huey.contrib.djhuey import HUEY

    from tongban.core import metrics

    load_tasks()
    metrics.count_jobs(HUEY)
    if metrics_port:
        metrics.serve_worker_metrics(metrics_port)

    options = dict(settings.HUEY.get("consumer", {})) if isinstance(settings.HUEY, dict) else {}
    if workers:
        options["workers"] = workers
    options.setdefault("worker_type", "thread")
    consumer = HUEY.create_consumer(periodic=periodic, **options)
    consumer.run()


# --- accounts -----------------------------------------------------------------------------------


@app.command()
def createadmin(
    username: Annotated[str, typer.Option(prompt=True)],
    name: Annotated[str, typer.Option(prompt="Display name")],
    department: Annotated[
        str, typer.Option(help="Department code the admin belongs to and administers.", prompt=True)
    ],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
):
    """Create an administrator of a department and everything under it (sets up 2FA at first login)."""
    _django()
    from tongban.accounts import services
    from tongban.core.authz import OPERATOR
    from tongban.core.errors import InvalidInput

    try:
        services.create_administrator(
            OPERATOR, username=username, display_name=name, department_code=department, password=password
        )
    except InvalidInput as exc:
        _print_invalid(exc)
        raise typer.Exit(2) from None
    console.print(f"[green]Administrator {username} created.[/] Two-factor set-up is asked at first login.")


@org_app.command("add-region")
def org_add_region(code: str, name: str):
    """Add a GB/T 2260 region; its parent (derived from the code) must exist already."""
    _django()
    from tongban.accounts import services
    from tongban.core.authz import OPERATOR
    from tongban.core.errors import InvalidInput

    try:
        region = services.create_region(OPERATOR, code=code, name=name)
    except InvalidInput as exc:
        _print_invalid(exc)
        raise typer.Exit(2) from None
    console.print(f"[green]Region {region.code} {region.name} ({region.level}) added.[/]")


@org_app.command("add-government")
def org_add_government(
    code: Annotated[str, typer.Argument(help="Department code, e.g. gov")],
    name: Annotated[str, typer.Argument(help="e.g. 广安市广安区人民政府")],
    region: Annotated[str, typer.Option(help="Region code the government serves.")],
):
    """Create a top-level department (a people's government); administrators build the rest."""
    _django()
    from tongban.accounts import services
    from tongban.accounts.models import DepartmentKind
    from tongban.core.authz import OPERATOR
    from tongban.core.errors import InvalidInput

    try:
        department = services.create_department(
            OPERATOR, code=code, name=name, kind=DepartmentKind.GOVERNMENT, region_code=region
        )
    except InvalidInput as exc:
        _print_invalid(exc)
        raise typer.Exit(2) from None
    console.print(f"[green]{department.name} ({department.code}) created.[/] Next: tongban createadmin")


def _print_invalid(exc) -> None:
    for field, problems in exc.fields.items():
        for p in problems:
            err.print(f"[red]{field}[/]: {p.message}")


@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Argument(help="System account the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    days: Annotated[int, typer.Option(help="Valid for this many days.")] = 365,
):
    """Issue an API token for a system account (shown once)."""
    _django()
    from tongban.accounts import services
    from tongban.core.authz import OPERATOR
    from tongban.core.errors import InvalidInput

    try:
        raw, token = services.create_api_token(OPERATOR, username=username, name=name, days=days)
    except InvalidInput as exc:
        _print_invalid(exc)
        raise typer.Exit(2) from None
    console.print(f"Token {token.prefix} for {username}, expires {token.expires_at:%Y-%m-%d}. Store it now:")
    print(raw)


@token_app.command("revoke")
def token_revoke(prefix: str):
    """Revoke an API token by its prefix."""
    _django()
    from tongban.accounts import services
    from tongban.core.authz import OPERATOR
    from tongban.core.errors import NotFound

    try:
        services.revoke_api_token(OPERATOR, prefix=prefix)
    except NotFound:
        err.print("[red]No active token with that prefix.[/]")
        raise typer.Exit(1) from None
    console.print("Revoked.")


@app.command()
def rekey():
    """Re-encrypt personal data under the current master key (after a key rotation)."""
    _django()
    from tongban.accounts import services
    from tongban.core.authz import OPERATOR

    with _progress() as progress:
        task = progress.add_task("Re-encrypting personal data", total=None)
        count = services.rekey_personal_data(
            OPERATOR, progress=lambda done, total: progress.update(task, completed=done, total=total)
        )
    console.print(
        f"[green]{count} records re-encrypted.[/] Retired keys may now be removed from "
        "TONGBAN_MASTER_KEYS_OLD."
    )


# --- audit journal ------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(
    anchors: Annotated[
        bool,
        typer.Option(
            "--anchors",
            help="Also check every signed anchor in the anchor log against the journal (finds rollbacks).",
        ),
    ] = False,
    anchor_log: Annotated[
        Path | None,
        typer.Option(
            help="Check this anchor file or folder (e.g. a copy from WORM storage or syslog) instead of "
            "TONGBAN_ANCHOR_DIR; implies --anchors.",
        ),
    ] = None,
):
    """Verify the whole journal and sign an anchor of it. Exit 0 if intact; otherwise exit 1 naming the
    first bad entry (or, with --anchors, the anchors the journal no longer extends)."""
    _django()
    from tongban.core import services
    from tongban.core.authz import OPERATOR

    check = anchors or anchor_log is not None
    with _progress() as progress:
        task = progress.add_task("Verifying audit journal", total=None)

        def report(done, total):
            progress.update(task, completed=done, total=total)

        result = services.verify_journal(
            OPERATOR, trigger="cli", progress=report, check_anchors=check, anchor_source=anchor_log
        )
    failed = not result.ok
    if result.ok:
        console.print(
            f"[green]Audit journal intact:[/] {result.checked} entries, anchor {result.anchor[:16]}…"
        )
    else:
        err.print(f"[bold red]Audit journal BROKEN[/] ({result.problem}): {result.message}")
    if result.anchor_error:
        err.print(f"[yellow]Warning:[/] {result.anchor_error}")
    if check:
        failed = _print_anchor_report(result.anchor_report) or failed
    if failed:
        raise typer.Exit(1)


def _print_anchor_report(report) -> bool:
    """A summary of the anchor check and its CHECK line; True when an anchor is broken."""
    from rich.table import Table

    summary = Table(title=f"Signed anchors in {report.source}")
    for column in ("anchors", "valid", "of which superseded by a restore", "broken"):
        summary.add_column(column, justify="right")
    broken_style = "bold red" if report.broken else "green"
    summary.add_row(
        str(report.anchors),
        str(report.valid),
        str(report.count("superseded")),
        f"[{broken_style}]{report.broken}[/]",
    )
    console.print(summary)
    notable = [c for c in report.checks if c.status != "valid"]
    if notable:
        table = Table(title="Anchors the journal does not extend")
        for column in ("where", "time", "kind", "status", "problem", "what"):
            table.add_column(column)
        for c in notable[:20]:
            style = "red" if c.status == "broken" else "yellow"
            table.add_row(c.where, c.at[:19], c.kind, f"[{style}]{c.status}[/]", c.problem, c.message)
        console.print(table)
        if len(notable) > 20:
            console.print(f"… and {len(notable) - 20} more.")
    if report.anchors == 0:
        console.print("[yellow]No anchors yet:[/] each verification appends one.")
    console.print(f"CHECK audit_anchors anchors={report.anchors} valid={report.valid} broken={report.broken}")
    return report.broken > 0


# --- e-licences -------------------------------------------------------------------------------------

licence_app = typer.Typer(help="E-licences (电子证照).", no_args_is_help=True)
app.add_typer(licence_app, name="licence")


@licence_app.command("import")
def licence_import(
    type_code: Annotated[str, typer.Argument(help="The licence type's code, e.g. business_licence.")],
    file: Annotated[
        Path, typer.Argument(help="CSV (UTF-8): holder_id, holder_name, valid_from, then the fields.")
    ],
):
    """Issue a department's existing licences from a CSV file, all or nothing; every bad row is
    reported with its field."""
    import csv

    _django()
    from tongban.core.authz import OPERATOR
    from tongban.core.errors import InvalidInput
    from tongban.licences import services

    if not file.is_file():
        err.print(f"[red]No such file:[/] {file}")
        raise typer.Exit(2)
    with open(file, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    with console.status(f"Checking and signing {len(rows):,} licences"):
        try:
            issued = services.import_licences(OPERATOR, type_code, rows)
        except InvalidInput as exc:
            for field_name, problems in list(exc.fields.items())[:50]:
                for problem in problems:
                    err.print(f"[red]{field_name}[/]: {problem.message}")
            err.print("Nothing was imported.")
            raise typer.Exit(1) from None
    console.print(f"[green]Issued {len(issued):,} licences[/] of type {type_code}.")


@licence_app.command("verify")
def licence_verify(
    file: Annotated[
        Path, typer.Argument(help="A licence PNG/JPEG/PDF, or a text file with the QR's content.")
    ],
    keys: Annotated[
        Path | None,
        typer.Option(help="Published keys (JSON of GET /api/v1/licences/keys): verify with no database."),
    ] = None,
):
    """Verify a licence's QR code: signature, signing key and expiry offline; revocation too when
    this installation holds the licence. Exit 0 only for a valid licence."""
    import json

    if not file.is_file():
        err.print(f"[red]No such file:[/] {file}")
        raise typer.Exit(2)
    content = file.read_bytes()[: 30 * 1024 * 1024]
    _django()
    from tongban.core.errors import InvalidInput
    from tongban.licences import render

    try:
        text = render.read_qr(content, file.name)
    except InvalidInput as refused:
        for message in refused.messages_for("file"):
            err.print(f"[red]Refused:[/] {file}: {message}")
        raise typer.Exit(2) from None
    if keys is not None:
        try:
            table = render.key_table(json.loads(keys.read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            err.print(f"[red]Not a published key list:[/] {keys} ({exc})")
            raise typer.Exit(2) from None
        offline = render.verify_offline(text, table)
        status, reason, online = offline.status, offline.reason, None
    else:
        from tongban.core.authz import OPERATOR
        from tongban.licences import services

        result = services.scan_text(OPERATOR, text)
        offline, status, reason, online = result.offline, result.status, result.reason, result.online
    colour = "green" if status == "valid" else "red"
    console.print(f"[bold {colour}]{status.upper()}[/] {reason}")
    if offline.code:
        console.print(f"  {offline.type_name}  {offline.code}")
        console.print(f"  holder: {offline.holder}   issuer: {offline.issuer}")
        console.print(f"  valid until: {offline.valid_until or 'until revoked'}")
        console.print(
            f"  signature (offline): {offline.status}   register (online): {online.status if online else '-'}"
        )
    raise typer.Exit(0 if status == "valid" else 1)


# --- data sharing ----------------------------------------------------------------------------------

exchange_app = typer.Typer(help="Data sharing (数据共享交换).", no_args_is_help=True)
app.add_typer(exchange_app, name="exchange")


def _exchange_report(run) -> None:
    from tongban.core.errors import DomainError
    from tongban.exchange import services

    try:
        report = run()
    except services.ImportRejected as exc:
        for row, field, message in exc.report.errors:
            err.print(f"row {row}  {field}: {message}")
        err.print(f"[red]Rejected:[/] {len(exc.report.errors)} malformed values; nothing was imported.")
        raise typer.Exit(1) from None
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/]")
        raise typer.Exit(2) from None
    if report is None:
        console.print("Nothing new in the drop folder.")
        return
    console.print(
        f"{report.resource}: {report.imported} records imported, {report.dirty} flagged by the quality check."
    )


@exchange_app.command("import")
def exchange_import(
    resource: Annotated[str, typer.Argument(help="The resource code, e.g. population.")],
    file: Annotated[Path, typer.Argument(help="A CSV (UTF-8 or GB18030) or XLSX snapshot.")],
):
    """Replace a held resource's records with a provider's snapshot: all rows, or none (per-row report)."""
    _django()
    from tongban.core.authz import OPERATOR
    from tongban.exchange import services

    _exchange_report(lambda: services.import_file(OPERATOR, resource, file))


@exchange_app.command("scan")
def exchange_scan(resource: Annotated[str, typer.Argument(help="A resource with a drop folder.")]):
    """Import the newest snapshot in the resource's drop folder (for a cron job or timer)."""
    _django()
    from tongban.core.authz import OPERATOR
    from tongban.exchange import services

    _exchange_report(lambda: services.scan_drop_folder(OPERATOR, resource))


# --- efficiency insight ---------------------------------------------------------------------------

insight_app = typer.Typer(help="Event logs, process mining (效能监察, 流程再造).", no_args_is_help=True)
app.add_typer(insight_app, name="insight")


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h"


@insight_app.command("import")
def insight_import(
    file: Annotated[
        Path,
        typer.Argument(help="XES (.xes, .xes.gz), OCEL 2.0 (.jsonocel, .xmlocel), CSV or Parquet event log."),
    ],
    name: Annotated[str, typer.Option(help="A name for the log (default: the file name).")] = "",
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="field=column for CSV/Parquet, e.g. --map case_id=Case --map ts=Time."),
    ] = None,
    object_type: Annotated[
        str, typer.Option("--object-type", help="OCEL 2.0: the object type whose objects are the cases.")
    ] = "",
):
    """Import an event log; prints its id, size and span. CSV/Parquet columns are guessed from
    common names (case:concept:name, concept:name, time:timestamp, …) unless mapped; an OCEL 2.0
    file needs --object-type (the case notion): without it the file's object types are listed."""
    _django()
    from tongban.core.authz import OPERATOR
    from tongban.core.errors import InvalidInput
    from tongban.insight import services

    mapping = None
    if map_:
        mapping = {}
        for item in map_:
            key, sep, column = item.partition("=")
            if not sep:
                err.print(f"[red]--map takes field=column, not {item!r}")
                raise typer.Exit(2)
            mapping[key.strip()] = column.strip()
    with _progress() as progress:
        task = progress.add_task(f"Importing {file.name}", total=None)
        try:
            log = services.import_log(
                OPERATOR,
                file,
                name=name,
                mapping=mapping,
                object_type=object_type,
                progress=lambda n: progress.update(
                    task, completed=n, description=f"Importing {file.name}: {n:,} events"
                ),
            )
        except InvalidInput as exc:
            progress.stop()
            for field_name, problems in exc.fields.items():
                for problem in problems:
                    err.print(f"[red]{field_name}[/]: {problem.message}")
            raise typer.Exit(1) from None
    span = (
        f"{log.first_at:%Y-%m-%d} → {log.last_at:%Y-%m-%d}" if log.first_at else "no timestamps (file order)"
    )
    console.print(
        f"[green]Imported[/] {log.name}: {log.events:,} events, {log.cases:,} cases, "
        f"{log.activities} activities, {span}  id {log.public_id}"
    )


@insight_app.command("cases")
def insight_cases(name: Annotated[str, typer.Option(help="A name for the log.")] = ""):
    """Take our own case events as an event log to analyse."""
    _django()
    from tongban.core.authz import OPERATOR
    from tongban.insight import services

    with console.status("Exporting case events"):
        log = services.import_case_events(OPERATOR, name=name)
    console.print(f"[green]Case events[/]: {log.events:,} events, {log.cases:,} cases  id {log.public_id}")


@insight_app.command("forecast")
def insight_forecast():
    """The cockpit's counts recounted from the event log and today's forecasts made now (the nightly
    job does this at 01:30), with each forecast's backtest error beside the seasonal-naive one."""
    _django()
    from rich.table import Table

    from tongban.core.authz import OPERATOR
    from tongban.insight import cockpit

    with console.status("Counting the event log and fitting the forecasts"):
        made = cockpit.run_forecasts(OPERATOR)
    table = Table()
    for col in (
        "department",
        "measure",
        "method",
        "days",
        "next 7 days",
        "MASE",
        "WAPE %",
        "naive MASE",
        "naive WAPE %",
    ):
        table.add_column(col)
    for f in cockpit.VolumeForecast.objects.filter(made_on=cockpit._today()).order_by("measure", "bureau"):

        def cell(value):
            return "" if value is None else f"{value:g}"

        table.add_row(
            f.bureau or "(region)",
            f.measure,
            f.method,
            str(f.history_days),
            f"{sum(f.values[:7]):.0f}" if f.values else "",
            cell(f.backtest.get("mase")),
            cell(f.backtest.get("wape")),
            cell(f.baseline.get("mase")),
            cell(f.baseline.get("wape")),
        )
    console.print(table)
    console.print(f"[green]{made} forecasts made[/]")


@insight_app.command("logs")
def insight_logs():
    """The event logs held, newest first."""
    _django()
    from rich.table import Table

    from tongban.core.authz import OPERATOR
    from tongban.insight import services

    table = Table()
    for col in ("id", "name", "source", "events", "cases", "from", "to"):
        table.add_column(col)
    for log in services.logs(OPERATOR):
        table.add_row(
            str(log.public_id),
            log.name,
            log.source,
            f"{log.events:,}",
            f"{log.cases:,}",
            f"{log.first_at:%Y-%m-%d}" if log.first_at else "",
            f"{log.last_at:%Y-%m-%d}" if log.last_at else "",
        )
    console.print(table)


@insight_app.command("mine")
def insight_mine(
    log_id: Annotated[str, typer.Argument(help="The log's id (see `tongban insight logs`).")],
    top: Annotated[int, typer.Option(help="How many edges, variants and bottlenecks to show.")] = 10,
):
    """The process map's busiest hand-overs, the variants, rework loops, bottlenecks and hand-offs."""
    _django()
    from rich.table import Table

    from tongban.core.authz import OPERATOR
    from tongban.core.errors import NotFound
    from tongban.insight import services

    try:
        with console.status("Mining"):
            result = services.analyse(OPERATOR, log_id, top_variants=top)
    except NotFound:
        err.print(f"[red]No event log {log_id}")
        raise typer.Exit(1) from None
    o = result.overview
    console.print(
        f"[bold]{result.log.name}[/]: {o.cases:,} cases, {o.events:,} events, {o.activities} activities; "
        f"cycle time mean {_hours(o.mean_duration)}, median {_hours(o.median_duration)}, "
        f"p90 {_hours(o.p90_duration)}"
    )
    edges = Table(title="Directly follows (most frequent)")
    for col in ("from", "to", "count", "mean", "median", "p90"):
        edges.add_column(col, justify="right" if col not in ("from", "to") else "left")
    for e in result.graph.edges[:top]:
        edges.add_row(e.source, e.target, f"{e.count:,}", _hours(e.mean), _hours(e.median), _hours(e.p90))
    console.print(edges)
    variants = Table(title="Variants")
    for col in ("#", "cases", "share", "mean", "steps"):
        variants.add_column(col, justify="right" if col != "steps" else "left")
    for i, v in enumerate(result.variants[:top], 1):
        steps = " → ".join(v.activities)
        variants.add_row(str(i), f"{v.count:,}", f"{v.share:.1%}", _hours(v.mean_duration), steps[:120])
    console.print(variants)
    slow = Table(title="Bottlenecks (count × mean wait)")
    for col in ("from", "to", "total", "count", "mean"):
        slow.add_column(col)
    for e in result.bottlenecks[:top]:
        slow.add_row(e.source, e.target, _hours(e.total), f"{e.count:,}", _hours(e.mean))
    console.print(slow)
    if result.rework:
        console.print(
            "Rework: "
            + "; ".join(f"{r.activity} ×{r.repeats} in {r.cases} cases" for r in result.rework[:top])
        )
    share = result.handoffs.share
    console.print(
        f"Hand-offs between departments: {result.handoffs.count:,}, "
        f"{_hours(result.handoffs.total)} = {share:.1%} of cycle time"
        if share is not None
        else "No cycle time."
    )


@insight_app.command("report")
def insight_report(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (default: 30 days ago).")] = "",
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (default: today).")] = "",
    department: Annotated[str, typer.Option(help="A department's code: its sub-tree only.")] = "",
    item: Annotated[str, typer.Option(help="One item's code.")] = "",
    channel: Annotated[str, typer.Option(help="online or window.")] = "",
    region: Annotated[str, typer.Option(help="A region code (GB/T 2260): it and all below it.")] = "",
    xlsx: Annotated[Path | None, typer.Option(help="Also write the report as XLSX here.")] = None,
):
    """Every KPI of DOMAIN.md for a period, for the region and per department (league table)."""
    _django()
    import datetime as dt

    from rich.table import Table

    from tongban.accounts.models import Department
    from tongban.core.authz import OPERATOR
    from tongban.core.errors import InvalidInput
    from tongban.insight import kpis, services

    today = dt.date.today()
    try:
        first = dt.date.fromisoformat(start) if start else today - dt.timedelta(days=30)
        last = dt.date.fromisoformat(end) if end else today
    except ValueError:
        err.print("[red]--from and --to take YYYY-MM-DD")
        raise typer.Exit(2) from None
    path = ""
    if department:
        found = Department.objects.filter(code=department).first()
        if found is None:
            err.print(f"[red]No department {department}")
            raise typer.Exit(2)
        path = found.path
    with _progress() as progress:
        task = progress.add_task("Case facts", total=None)
        try:
            report = services.kpi_report(
                OPERATOR,
                first,
                last,
                department_path=path,
                item=item,
                channel=channel,
                region=region,
                progress=lambda n: progress.update(task, completed=n, description=f"Case facts: {n:,}"),
            )
        except InvalidInput as exc:
            progress.stop()
            err.print(f"[red]{exc}")
            raise typer.Exit(2) from None

    def shown(key, value):
        if value is None:
            return "—"
        if key.endswith("_rate"):
            return f"{value:.1%}"
        return f"{value:,.2f}"

    table = Table(
        title=f"KPIs {first} – {last}: {report.region.get('submitted_cases', 0):,} submitted, "
        f"{report.region.get('closed_cases', 0):,} closed"
    )
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for key, label, _direction in kpis.KPIS:
        table.add_row(str(label), shown(key, report.region.get(key)))
    console.print(table)
    if report.units:
        league = Table(title="League table: on-time rate (按时办结率)")
        for col in ("#", "department", "closed", "on time", "mean days", "good rating"):
            league.add_column(col, justify="right")
        for row in kpis.league(report.units, "on_time_rate"):
            league.add_row(
                f"{row['rank']}{' ▲' if row['mark'] == 'top' else (' ▼' if row['mark'] == 'bottom' else '')}",
                row["unit"],
                f"{row['closed_cases']:,}",
                shown("on_time_rate", row["on_time_rate"]),
                shown("mean_processing_days", row["mean_processing_days"]),
                shown("good_rate", row["good_rate"]),
            )
        console.print(league)
    if xlsx is not None:
        xlsx.write_bytes(services.kpi_workbook(report))
        console.print(f"Wrote {xlsx}")


@insight_app.command("conformance")
def insight_conformance(
    log_id: Annotated[str, typer.Argument(help="The log's id.")],
    model: Annotated[Path, typer.Argument(help="The process model (BPMN 2.0 XML).")],
):
    """Check a log's cases against a BPMN model: share of fitting cases, fitness, deviations."""
    _django()
    from rich.table import Table

    from tongban.core.authz import OPERATOR
    from tongban.core.errors import InvalidInput, NotFound
    from tongban.insight import services

    try:
        result = services.conformance(OPERATOR, log_id, model.read_bytes())
    except (InvalidInput, NotFound, OSError) as exc:
        err.print(f"[red]{exc}")
        raise typer.Exit(2) from None
    console.print(
        f"{result.fitting_cases:,} of {result.cases:,} cases fit ({result.fitting_share:.1%}); "
        f"mean fitness {result.mean_fitness:.1%}"
        + (
            f"; steps not in the model: {', '.join(result.unknown_activities)}"
            if result.unknown_activities
            else ""
        )
    )
    if result.deviations:
        table = Table(title="Moves the model does not allow")
        for col in ("after", "came", "cases", "times"):
            table.add_column(col)
        for d in result.deviations:
            table.add_row(d["from"], d["to"], f"{d['cases']:,}", f"{d['count']:,}")
        console.print(table)


@insight_app.command("simulate")
def insight_simulate(
    log_id: Annotated[str, typer.Argument(help="The log's id (see `tongban insight logs`).")],
    parallel: Annotated[
        list[str] | None, typer.Option(help="Two steps to run side by side: --parallel A --parallel B.")
    ] = None,
    remove: Annotated[list[str] | None, typer.Option(help="A step to take out (repeatable).")] = None,
    volume: Annotated[float, typer.Option(help="Arrivals, % of today.")] = 100.0,
    staff: Annotated[str, typer.Option(help="step=workers: a pool of workers for one step.")] = "",
    limit_days: Annotated[float | None, typer.Option(help="Time limit for the on-time rate.")] = None,
    replications: Annotated[int, typer.Option(help="Runs per scenario.")] = 20,
):
    """Simulate a redesign of a log's process against the process as it is (流程再造 what-if)."""
    _django()
    from rich.table import Table

    from tongban.core.authz import OPERATOR
    from tongban.core.errors import InvalidInput, NotFound
    from tongban.insight import services

    if parallel and len(parallel) != 2:
        err.print("[red]--parallel takes two steps: --parallel A --parallel B")
        raise typer.Exit(2)
    pool = None
    if staff:
        step, sep, workers = staff.rpartition("=")
        if not sep or not workers.isdigit():
            err.print("[red]--staff takes step=workers")
            raise typer.Exit(2)
        pool = {step: int(workers)}
    with _progress() as bar:
        task = bar.add_task("Simulating as-is and to-be", total=2 * replications)
        try:
            _log, _steps, result = services.what_if(
                OPERATOR,
                log_id,
                parallel=tuple(parallel) if parallel else None,
                remove=list(remove or []),
                volume=volume / 100,
                staff=pool,
                limit_days=limit_days,
                replications=replications,
                progress=lambda: bar.advance(task),
            )
        except NotFound:
            bar.stop()
            err.print(f"[red]No event log {log_id}")
            raise typer.Exit(1) from None
        except InvalidInput as exc:
            bar.stop()
            for field_name, problems in exc.fields.items():
                for problem in problems:
                    err.print(f"[red]{field_name}[/]: {problem.message}")
            raise typer.Exit(2) from None
    table = Table(title=f"As-is and to-be ({replications} runs each, ± 95 % CI)")
    for col in ("", "as-is", "to-be"):
        table.add_column(col, justify="right")
    a, b = result.as_is, result.to_be
    table.add_row(
        "cycle time, mean",
        f"{_hours(a.mean_duration[0])} ± {_hours(a.mean_duration[1])}",
        f"{_hours(b.mean_duration[0])} ± {_hours(b.mean_duration[1])}",
    )
    table.add_row("cycle time, p90", _hours(a.p90_duration[0]), _hours(b.p90_duration[0]))
    if a.on_time_rate:
        table.add_row("on-time rate", f"{a.on_time_rate[0]:.1%}", f"{b.on_time_rate[0]:.1%}")
    table.add_row("staff cost per case", f"{a.cost_per_case[0]:.2f}", f"{b.cost_per_case[0]:.2f}")
    for step, share in b.utilisation.items():
        table.add_row(f"utilisation: {step}", "", f"{share:.1%}")
    console.print(table)
    console.print(f"predicted 提速率 {result.cycle_time_saving:.1%}, 降本率 {result.cost_saving:.1%}")


@insight_app.command("validate-sim")
def insight_validate_sim(
    log: Annotated[str, typer.Argument(help="An event log file (XES, CSV, Parquet) or a held log's id.")],
    replications: Annotated[int, typer.Option(help="Simulation runs, each as many cases as the log.")] = 50,
):
    """Fit the as-is simulation model on the log, simulate it, and compare: the mean case duration
    (within 10 %) and each activity's share of events (within 5 %). Exit 0 only when both hold."""
    _django()
    from rich.table import Table

    from tongban.core.authz import OPERATOR
    from tongban.core.errors import InvalidInput, NotFound
    from tongban.insight import services

    with _progress() as progress:
        task = progress.add_task("Simulating", total=replications)
        try:
            result = services.validate_simulation(
                OPERATOR,
                log,
                replications=replications,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        except (InvalidInput, NotFound) as exc:
            progress.stop()
            err.print(f"[red]Cannot read {log}: {exc}")
            raise typer.Exit(2) from None
    table = Table(title=f"As-is simulation vs the log ({result.replications} runs)")
    for col in ("measure", "log", "simulated", "error", "target"):
        table.add_column(col, justify="right")
    low, high = result.duration_ci
    table.add_row(
        "mean case duration",
        _hours(result.real_mean_duration),
        f"{_hours(result.simulated_mean_duration)} (95 % CI {_hours(low)}–{_hours(high)})",
        f"{result.duration_error:.1%}",
        "≤ 10 %",
    )
    table.add_row(
        f"activity share, worst ({result.worst_activity})",
        "",
        "",
        f"{result.worst_frequency_error:.1%}",
        "≤ 5 %",
    )
    console.print(table)
    if result.rare:
        worst_rare = max(result.rare_errors, key=result.rare_errors.get)
        console.print(
            f"{len(result.rare)} rare activities (< 0.5 % of events) not judged; the worst of them, "
            f"{worst_rare}, is off by {result.rare_errors[worst_rare]:.1%}."
        )
    mean_error, activity_error = result.duration_error, result.worst_frequency_error
    console.print(
        f"mean-duration error {mean_error:.1%}; worst activity-frequency error {activity_error:.1%}"
    )
    raise typer.Exit(0 if result.ok else 1)


@insight_app.command("export")
def insight_export(
    log_id: Annotated[str, typer.Argument(help="The log's id.")],
    out: Annotated[Path, typer.Argument(help="File to write.")],
    format_: Annotated[str, typer.Option("--format", help="xes or ocel (OCEL 2.0 JSON).")] = "xes",
):
    """Export a log for other process-mining tools."""
    _django()
    from tongban.core.authz import OPERATOR
    from tongban.core.errors import NotFound
    from tongban.insight import services

    if format_ not in ("xes", "ocel"):
        err.print("[red]--format is xes or ocel")
        raise typer.Exit(2)
    try:
        _name, content = (services.export_xes if format_ == "xes" else services.export_ocel)(OPERATOR, log_id)
    except NotFound:
        err.print(f"[red]No event log {log_id}")
        raise typer.Exit(1) from None
    out.write_bytes(content)
    console.print(f"Wrote {out} ({len(content):,} bytes)")


# --- backup and restore -------------------------------------------------------------------------

BACKUP_STAGES = {
    "database": "Copying the database",
    "archive": "Writing database and files",
    "verify": "Checking the backup's seal",
}


def _stage_progress(progress: Progress):
    """A core.backup progress callback that shows each stage as its own bar."""
    tasks: dict[str, int] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(BACKUP_STAGES.get(stage, stage), total=None)
        progress.update(tasks[stage], completed=done, total=total or None)

    return report


@app.command()
def backup(
    path: Annotated[
        Path | None, typer.Argument(help="Backup file to write (default var/backups/...).")
    ] = None,
):
    """Back up the database and the files under var/ (materials, event logs, reports), sealed with an
    HMAC-SM3 under a key derived from the master key."""
    _django()
    from django.conf import settings

    from tongban.core.backup import BackupError, create_backup

    if path is None:
        path = Path(settings.VAR_DIR) / "backups" / f"tongban-{time.strftime('%Y%m%d-%H%M%S')}.tbk"
    with _progress() as progress:
        try:
            contents = create_backup(path, progress=_stage_progress(progress))
        except BackupError as exc:
            err.print(f"[red]Backup failed:[/] {exc}")
            raise typer.Exit(1) from None
    for name in contents.skipped[:20]:
        err.print(f"[yellow]Left out[/] (a link or an unexpected name): {name}")
    console.print(
        f"[green]Backup written:[/] {path} ({contents.manifest.engine} database "
        f"{contents.database_bytes:,} bytes, {contents.files:,} files {contents.files_bytes:,} bytes; "
        f"sealed with key {contents.manifest.key_id})"
    )


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="Backup file made by `tongban backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
):
    """Replace the database and the files under var/ with a backup, after checking its seal. Stop the
    site first."""
    import contextlib

    _django()
    from tongban.core.backup import BackupError, apply, verified

    try:
        with contextlib.ExitStack() as stack:
            with _progress() as progress:
                staged = stack.enter_context(verified(path, progress=_stage_progress(progress)))
            manifest, contents = staged.manifest, staged.contents
            console.print(
                f"Backup of a {manifest.engine} database made {manifest.created_at} by tongban "
                f"{manifest.tongban_version}: seal verified ({contents.database_bytes:,} bytes of database, "
                f"{contents.files:,} files)."
            )
            if not yes and not typer.confirm("Replace the current database and files with it?"):
                raise typer.Exit(1)
            with _progress() as progress:
                restored = apply(staged, progress=_stage_progress(progress))
    except BackupError as exc:
        err.print(f"[red]Refused:[/] {exc}")
        raise typer.Exit(1) from None
    if restored.anchor_error:
        err.print(f"[yellow]Warning:[/] {restored.anchor_error}")
    console.print("[green]Restored.[/] Run `tongban audit verify --anchors` to confirm the journal.")
    if pending_migrations():
        console.print("The backup is from an older version: run `tongban migrate` before serving.")


# --- workflow -------------------------------------------------------------------------------------

workflow_app = typer.Typer(help="Process definitions (BPMN).", no_args_is_help=True)
app.add_typer(workflow_app, name="workflow")


@workflow_app.command("check")
def workflow_check(
    paths: Annotated[
        list[Path], typer.Argument(help="BPMN and DMN files, or folders of .bpmn and .dmn files.")
    ],
):
    """Classify BPMN files as executable, reference models or refused, storing nothing. Business rule
    tasks call the decisions of the DMN files given, in the folders given, or beside a BPMN file given."""
    _django()
    from tongban.workflow import check, decisions

    files = [
        f for p in paths for f in (sorted(p.glob("*.bpmn")) if p.is_dir() else [p]) if f.suffix != ".dmn"
    ]
    dmn_files = [
        f for p in paths for f in (sorted(p.glob("*.dmn")) if p.is_dir() else [p]) if f.suffix == ".dmn"
    ]
    for path in paths:
        if path.is_file() and path.suffix != ".dmn":
            dmn_files += sorted(path.parent.glob("*.dmn"))
    library = decisions.Library()
    for path in dict.fromkeys(dmn_files):  # each file once, in the order met
        try:
            ids, problem = check.load_dmn(path.read_bytes(), path.name, library)
        except OSError as exc:
            ids, problem = [], exc.strerror
        if problem is None:
            line = f"{'decisions':<10} {path}  ({', '.join(ids) or '—'})"
        else:
            line = f"{'refused':<10} {path}\n    - document: {problem}"
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    counts = dict.fromkeys(("executable", "reference", "refused", "crashed"), 0)
    for path in files:
        try:
            report = check.check(path.read_bytes(), path.name, library)
        except OSError as exc:
            report = check.FileCheck(path.name, "refused", [check.unreadable(exc.strerror)])
        counts[report.status] += 1
        line = f"{report.status:<10} {path}"
        if report.dry_run is not None:
            line += f"  (dry run: {report.dry_run.message})"
        console.print(line, markup=False, highlight=False, soft_wrap=True)
        for problem in report.problems:
            console.print(
                f"    - {problem.element}: {problem.message}", markup=False, highlight=False, soft_wrap=True
            )
    console.print(
        f"CHECK bpmn files={len(files)} executable={counts['executable']} reference={counts['reference']} "
        f"refused={counts['refused']} crashed={counts['crashed']}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if counts["crashed"]:
        raise typer.Exit(1)


# --- service catalogue --------------------------------------------------------------------------

catalog_app = typer.Typer(help="The service catalogue (事项清单): import and export.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


@catalog_app.command("import")
def catalog_import(
    path: Annotated[Path, typer.Argument(help="An .xlsx workbook, or a CSV of items or of materials.")],
    publish: Annotated[
        bool, typer.Option("--publish/--no-publish", help="Publish what changed, or leave it as drafts.")
    ] = True,
):
    """Import items and materials; if any row is invalid, list every problem and import nothing."""
    _django()
    from rich.table import Table

    from tongban.catalog import transfer
    from tongban.core.authz import OPERATOR

    try:
        with path.open("rb") as fh:
            data = fh.read(transfer.MAX_BYTES + 1)
    except OSError as exc:
        err.print(f"[red]Cannot read {path}:[/] {exc.strerror}")
        raise typer.Exit(1) from None
    report = transfer.import_catalogue(OPERATOR, data, path.name, publish=publish)
    if not report.ok:
        table = Table("Row", "Field", "Problem", title=f"{path.name}: nothing was imported")
        for problem in report.problems:
            header = transfer.column_header(problem.field)
            field = f"{problem.field} ({header})" if header else problem.field
            table.add_row(str(problem.row), field, str(problem.message))
        err.print(table)
        err.print(f"[red]{len(report.problems)} problems; nothing was imported.[/] Row 0 is the header.")
        raise typer.Exit(2)
    state = "published" if publish else "saved as drafts"
    console.print(
        f"[green]Imported {report.rows} item rows[/] ({state}): {report.created} created, "
        f"{report.updated} updated, {report.unchanged} unchanged; "
        f"{report.material_rows} material rows, materials of {report.materials_replaced} items replaced."
    )


@catalog_app.command("export")
def catalog_export(
    path: Annotated[Path, typer.Argument(help="File to write: .xlsx (items and materials) or .csv (items).")],
    department: Annotated[
        str | None, typer.Option(help="Only this department's items (and its sub-departments').")
    ] = None,
    materials: Annotated[
        Path | None, typer.Option(help="With a .csv: also write the materials to this CSV file.")
    ] = None,
):
    """Export the published catalogue, in the format the file name's suffix says."""
    _django()
    from tongban.catalog import transfer
    from tongban.core.errors import InvalidInput

    fmt = {".xlsx": "xlsx", ".csv": "csv"}.get(path.suffix.lower())
    if fmt is None or (materials is not None and fmt != "csv"):
        err.print("[red]Name an .xlsx or .csv file[/] (--materials goes with a .csv).")
        raise typer.Exit(2)
    try:
        count = transfer.published_versions(department).count()
        data = transfer.export_catalogue(fmt, department_code=department)
    except InvalidInput as exc:
        _print_invalid(exc)
        raise typer.Exit(2) from None
    path.write_bytes(data)
    if materials is not None:
        materials.write_bytes(transfer.export_materials_csv(department))
    console.print(f"[green]Exported {count} published items[/] to {path}.")


# --- accounts: lockouts, and the demo's text messages -----------------------------------------------

account_app = typer.Typer(help="Logins: lockouts after failed passwords.", no_args_is_help=True)
app.add_typer(account_app, name="account")
sms_app = typer.Typer(help="Text messages (the console sender's outbox).", no_args_is_help=True)
app.add_typer(sms_app, name="sms")


@account_app.command("locks")
def account_locks(username: Annotated[str, typer.Argument(help="The account's username.")]):
    """Failed logins on an account, per client address."""
    _django()
    from tongban.accounts import services
    from tongban.core.authz import OPERATOR
    from tongban.core.errors import NotFound

    try:
        locks = services.login_locks(OPERATOR, username=username)
    except NotFound:
        err.print("[red]No such account.[/]")
        raise typer.Exit(1) from None
    if not locks:
        console.print("No recent failed logins.")
    for lock in locks:
        state = f"[red]locked until {lock.until:%H:%M}[/]" if lock.locked else "not locked"
        console.print(
            f"{lock.address:<40} {lock.failures} failures, last {lock.last_attempt:%Y-%m-%d %H:%M}  {state}"
        )


@account_app.command("unlock")
def account_unlock(username: Annotated[str, typer.Argument(help="The account's username.")]):
    """Lift a login lockout of an account, from every address (journalled)."""
    _django()
    from tongban.accounts import services
    from tongban.core.authz import OPERATOR
    from tongban.core.errors import NotFound

    try:
        cleared = services.unlock_login(OPERATOR, username=username)
    except NotFound:
        err.print("[red]No such account.[/]")
        raise typer.Exit(1) from None
    console.print(f"[green]Unlocked[/] {username} ({cleared} failure records cleared).")


@sms_app.command("outbox")
def sms_outbox(
    phone: Annotated[str, typer.Option(help="Only messages to this number.")] = "",
    last: Annotated[int, typer.Option(help="How many of the newest messages.")] = 10,
):
    """What the console sender would have sent (the demo's SMS codes)."""
    _django()
    from tongban.core import sms

    rows = sms.outbox(phone or None, last=last)
    if not rows:
        console.print("The outbox is empty.")
    for row in rows:
        print(f"{row['at'][:19]}  {row['to']}  {row['text']}")


def run():
    app()


if __name__ == "__main__":
    run()
