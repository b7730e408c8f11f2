"""`tongban jobs`: the queue's depth, its workers, and the jobs kept as dead letters (core.jobs)."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

jobs_app = typer.Typer(help="Background jobs: queue depth and dead letters.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _django():
    from .main import _django as setup

    setup()


@jobs_app.command("status")
def status():
    """Jobs waiting, scheduled and in flight; the workers holding a lease; open dead letters."""
    _django()
    from huey.contrib.djhuey import HUEY

    from tongban.core import jobs

    depth = jobs.queue_depth()
    if depth.pending is None:
        err.print(f"[red]The queue ({depth.backend}) does not answer.[/]")
        raise typer.Exit(1)
    console.print(
        f"Queue ({depth.backend}): {depth.pending} waiting, {depth.scheduled} scheduled, "
        f"{depth.in_flight} in flight; {jobs.dead_letters().count()} open dead letters."
    )
    consumers = getattr(HUEY.storage, "consumers", None)
    if consumers is not None:
        for consumer in consumers():
            state = "alive" if consumer["alive"] else "lease lapsed"
            console.print(f"  worker {consumer['id']}: {state}, {consumer['in_flight']} in flight")


@jobs_app.command("dead-letters")
def dead_letters(
    show_all: Annotated[
        bool, typer.Option("--all", help="Also those already requeued or discarded.")
    ] = False,
):
    """Jobs that could not be run and were kept: unknown to the worker, unreadable, or failed for good."""
    _django()
    from tongban.core import jobs

    rows = list(jobs.dead_letters(open_only=not show_all)[:500])
    if not rows:
        console.print("No dead letters." if show_all else "No open dead letters.")
        return
    table = Table(title="Dead letters (newest first)")
    for column in ("#", "kept at", "job", "reason", "arguments", "error", "resolved"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.pk),
            f"{row.created_at:%Y-%m-%d %H:%M:%S}",
            row.task,
            row.get_reason_display(),
            row.arguments[:60],
            row.error[:80],
            row.resolution or "",
        )
    console.print(table)
    # Scripts and monitoring can rely on the exit code: 1 while letters wait for someone.
    if not show_all:
        raise typer.Exit(1)


def _resolve(action_name: str, letter_id: int, done: str) -> None:
    _django()
    from tongban.core import jobs
    from tongban.core.authz import OPERATOR
    from tongban.core.errors import Conflict, NotFound

    try:
        letter = getattr(jobs, action_name)(OPERATOR, letter_id)
    except NotFound:
        err.print(f"[red]No dead letter #{letter_id}.[/]")
        raise typer.Exit(1) from None
    except Conflict as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None
    console.print(f"[green]Dead letter #{letter.pk} ({letter.task}) {done}.[/]")


@jobs_app.command("requeue")
def requeue(letter_id: Annotated[int, typer.Argument(help="The dead letter's number.")]):
    """Put a dead letter's job back on the queue as it was (once its cause is fixed)."""
    _resolve("requeue", letter_id, "is back on the queue")


@jobs_app.command("discard")
def discard(letter_id: Annotated[int, typer.Argument(help="The dead letter's number.")]):
    """Close a dead letter without running its job (journalled)."""
    _resolve("discard", letter_id, "discarded")
