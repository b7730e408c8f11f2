"""Shared set-up for benchmarks: a throwaway database per engine, migrated, and the BENCH line."""

import os
import secrets
import sys
import tempfile
from pathlib import Path

from rich.console import Console

console = Console()
PG_ADMIN_URL = os.environ.get("TONGBAN_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_available() -> bool:
    import psycopg

    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except Exception:
        return False
    return True


def fresh_postgres_database(name: str) -> str:
    """Drop and create a scratch database; returns its DATABASE_URL."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgres://")


def configure(database_url: str, *, embedded_queue: bool = False) -> None:
    """Point Django at the benchmark database before it is set up, then migrate quietly.

    With embedded_queue, background jobs go to the file-backed queue of `make demo` (and wait there
    for a worker, which the benchmark does not run); otherwise they run inline.
    """
    var = Path(tempfile.mkdtemp(prefix="tongban-bench-"))
    os.environ["DATABASE_URL"] = database_url
    os.environ["TONGBAN_VAR_DIR"] = str(var)
    if embedded_queue:
        os.environ.pop("TONGBAN_QUEUE_URL", None)
    else:
        os.environ["TONGBAN_QUEUE_URL"] = "immediate://"
    os.environ.setdefault("TONGBAN_SECRET_KEY", secrets.token_hex(32))
    os.environ.setdefault("TONGBAN_MASTER_KEY", secrets.token_hex(32))
    os.environ.setdefault("TONGBAN_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tongban.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def bench_line(name: str, figure: float, unit: str, ratio: float | None, target: str, passed: bool) -> None:
    ratio_text = f"{ratio:.2f}" if ratio is not None else "-"
    line = (
        f"BENCH {name} {figure:.1f} {unit} ratio={ratio_text} target={target} {'PASS' if passed else 'FAIL'}"
    )
    sys.stdout.flush()
    print(line, flush=True)
