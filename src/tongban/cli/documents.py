"""`tongban document`: official documents (公文) — verify a sealed PDF, rebuild the search index."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

document_app = typer.Typer(
    help="Official documents (公文): e-seal verification, search index.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)


@document_app.command("verify")
def verify(file: Annotated[Path, typer.Argument(help="A sealed document PDF.")]):
    """Check a sealed document: which seal, who sealed it and when, and that not one byte changed
    since (the SM3 hash and SM2 signatures, and that the seal is registered here). Exit 0 only for a
    valid seal, 1 for an invalid or missing one, 2 for a file that cannot be checked."""
    from .main import _django

    if not file.is_file():
        err.print(f"[red]No such file:[/] {file}")
        raise typer.Exit(2)
    content = file.read_bytes()
    _django()
    from tongban.core.authz import OPERATOR
    from tongban.core.errors import InvalidInput
    from tongban.documents import services

    try:
        result = services.verify_file(OPERATOR, content)
    except InvalidInput as refused:
        for message in refused.messages_for("file"):
            err.print(f"[red]Refused:[/] {file}: {message}")
        raise typer.Exit(2) from None
    colour = "green" if result.valid else "red"
    console.print(f"[{colour}]{result.message}[/]")
    if result.seal_code:
        console.print(
            f"seal: {result.seal_name} ({result.seal_code}){' — ' + result.agency if result.agency else ''}"
        )
        console.print(f"sealed by: {result.signer}")
        console.print(f"sealed at: {result.sealed_at.isoformat() if result.sealed_at else '-'}")
        console.print(f"document: {result.document_ref} {result.number} {result.title}".rstrip())
    console.print(f"SM3: {result.digest}")
    raise typer.Exit(0 if result.valid else 1)


@document_app.command("reindex")
def reindex(
    batch: Annotated[int, typer.Option(min=1, max=10000, help="Documents per transaction")] = 500,
):
    """Rebuild the full-text search entries of every document (after a department reorganisation,
    which changes who may read what, or after a bulk import), then refresh the engine's index
    statistics. Searching keeps working meanwhile: each batch is written in one transaction."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .main import _django

    _django()
    from tongban.documents import search

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("indexing / 建立索引", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        count = search.rebuild(batch=batch, progress=advance)
    console.print(f"{count} documents indexed.")
