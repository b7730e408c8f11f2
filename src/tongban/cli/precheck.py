"""`tongban precheck`: 智能预审 — read one scan, or evaluate OCR on the generated test set."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

precheck_app = typer.Typer(help="Pre-check of uploaded materials (智能预审) by OCR.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

KINDS_BY_SUFFIX = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".pdf": "pdf"}


def _django():
    from .main import _django as setup

    setup()


@precheck_app.command("read")
def read(
    path: Annotated[Path, typer.Argument(help="A JPEG, PNG or PDF scan")],
    expected: Annotated[str, typer.Option(help="The document kind it should be (id_card, …)")] = "",
):
    """Read one scan and print the document kind, the fields found and (with --expected) the findings."""
    _django()
    from tongban.cases import ocr, precheck

    kind = KINDS_BY_SUFFIX.get(path.suffix.lower())
    if not path.is_file() or kind is None:
        err.print(f"[red]{path}: not a JPEG, PNG or PDF file / 不是 JPEG、PNG 或 PDF 文件[/]")
        raise typer.Exit(2)
    if expected and expected not in precheck.KIND_FIELDS:
        err.print(f"[red]--expected: one of / 应为 {', '.join(precheck.KIND_FIELDS)}[/]")
        raise typer.Exit(2)
    try:
        reading = ocr.read(path.read_bytes(), kind)
    except ocr.Unreadable as problem:
        err.print(f"[red]{path}: unreadable / 无法识别 ({problem.code})[/]")
        raise typer.Exit(1) from None
    found = precheck.extract([line.text for line in reading.lines], reading.seal)
    console.print(f"kind: {found.kind}  pages: {len(reading.pages)}  seconds: {reading.seconds:.2f}")
    for name, value in found.fields.items():
        console.print(f"  {name}: {value}")
    if expected:
        for finding in precheck.compare(found, expected, precheck.Facts()):
            console.print(f"  → {finding['field']}: {finding['outcome']}")


@precheck_app.command("evaluate")
def evaluate(
    count: Annotated[int, typer.Option(min=5, max=5000, help="Scans to draw (five kinds in turn)")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the test set")] = 16,
    out: Annotated[Path | None, typer.Option(help="Keep the drawn scans in this directory")] = None,
):
    """Draw the test set, read it with OCR and print field accuracy, wrong-document detection and time."""
    _django()
    from tongban.cases import ocr, precheck_samples

    ocr.engine()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("reading / 识别中", total=count)
        score = precheck_samples.evaluate(
            count, seed, directory=out, progress=lambda _s: progress.advance(task)
        )
    console.print(f"scans: {score.samples}")
    console.print(f"field accuracy: {score.field_accuracy:.1%} ({score.fields_right}/{score.fields})")
    console.print(
        f"wrong document detected: {score.wrong_kind_detection:.1%} "
        f"({score.wrong_kind_caught}/{score.wrong_kind_trials}); false alarms: {score.false_alarms}"
    )
    console.print(f"seconds per page: {score.seconds_per_page:.2f}")
    for miss in score.misses[:20]:
        console.print("  miss:", *miss)
