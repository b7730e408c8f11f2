"""`tongban guide`: ask the guide assistant (智能导办), answer a file of questions, evaluate it."""

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

guide_app = typer.Typer(
    help="The guide assistant (智能导办) over the published catalogue.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)

DEFAULT_QUESTIONS = Path("tests/guide/questions.csv")


def _django():
    from .main import _django as setup

    setup()


def _read_questions(path: Path, *, need_labels: bool = False) -> list[dict]:
    from tongban.guide.services import QUESTION_MAX

    if not path.is_file():
        err.print(f"[red]{path}: no such file / 文件不存在[/]")
        raise typer.Exit(2)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            if "question" not in columns:
                err.print(
                    f"[red]{path}: no 'question' column / 缺少 question 列 (columns: {', '.join(columns)})[/]"
                )
                raise typer.Exit(2)
            if need_labels and "expected_codes" not in columns:
                err.print(f"[red]{path}: no 'expected_codes' column / 缺少 expected_codes 列[/]")
                raise typer.Exit(2)
            rows = list(reader)
    except UnicodeDecodeError:
        err.print(f"[red]{path}: not UTF-8 text / 文件不是 UTF-8 编码[/]")
        raise typer.Exit(2) from None
    except csv.Error as exc:
        err.print(f"[red]{path}: not a readable CSV / 无法读取的 CSV: {exc}[/]")
        raise typer.Exit(2) from None
    for number, row in enumerate(rows, start=2):
        question = (row.get("question") or "").strip()
        if not question or len(question) > QUESTION_MAX:
            err.print(
                f"[red]{path}, line {number}: question must be 1–{QUESTION_MAX} characters / "
                f"问题须为 1–{QUESTION_MAX} 个字符[/]"
            )
            raise typer.Exit(2)
    return rows


@guide_app.command()
def ask(question: Annotated[str, typer.Argument(help="The question, in everyday Chinese or English.")]):
    """Print the ranked answers to one question (or the clarifying question, or the decline)."""
    _django()
    from tongban.core.errors import InvalidInput
    from tongban.core.i18n import bilingual
    from tongban.guide import services

    try:
        answer = services.ask(question)
    except InvalidInput as exc:
        for name, problems in exc.fields.items():
            for problem in problems:
                message = bilingual(problem.message)
                err.print(f"[red]{name}: {message['zh-Hans']} / {message['en']}[/]")
        raise typer.Exit(2) from None
    if answer.outcome == services.Outcome.DECLINED:
        console.print(
            "没有找到合适的事项，建议转人工咨询（12345）。 / No service fits; ask a person (12345)."
        )
    elif answer.clarification is not None:
        c = answer.clarification
        options = " / ".join(f"{zh} ({en})" for zh, en, _words, _marker in c.options)
        console.print(f"[bold]{c.question_zh}[/] {c.question_en}\n  {options}")
    if answer.outcome != services.Outcome.DECLINED:
        # One line per answer, never wrapped: item codes are 50-odd characters that people copy,
        # and a table folds them at the terminal's width.
        for i, hit in enumerate(answer.hits, start=1):
            typer.echo(f"{i}. {hit.code}  {hit.name}  score={hit.score:.2f} coverage={hit.coverage:.2f}")
    console.print(f"{answer.outcome}, {answer.elapsed_ms:.1f} ms")


@guide_app.command()
def answer(
    file: Annotated[Path, typer.Argument(help="CSV with a `question` column (UTF-8).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write question,ranked_codes.")],
):
    """Answer every question of a CSV: writes question,ranked_codes (best first, '|'-separated; empty
    when the assistant declines)."""
    _django()
    from tongban.guide import services

    rows = _read_questions(file)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question", "ranked_codes"])
        for row in rows:
            result = services.ask(row["question"])
            writer.writerow([row["question"], "|".join(result.codes)])
    console.print(f"{len(rows)} questions answered → {out}")


@guide_app.command()
def evaluate(
    file: Annotated[
        Path,
        typer.Argument(help="CSV with question, expected_codes ('|'-separated, empty: unanswerable), split."),
    ] = DEFAULT_QUESTIONS,
):
    """hit@1, hit@3 and declined-unanswerable per split, then the EVAL line over the whole file."""
    _django()
    from tongban.guide import services

    rows = _read_questions(file, need_labels=True)
    scores = services.evaluate(rows)
    for key, score in scores.items():
        if key != "all":
            print(score.line(key), flush=True)
    print(scores["all"].line(), flush=True)
