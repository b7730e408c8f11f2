"""`tongban hotline`: train and evaluate the 12345 router (hotline.router)."""

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

hotline_app = typer.Typer(help="The 12345 hotline: the learned router.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

TextOption = Annotated[
    str | None, typer.Option("--text", help="Text column (default: 留言文本, 分词文本, 留言详情 or text).")
]
LabelOption = Annotated[
    str | None, typer.Option("--label", help="Label column (default: 一级分类 or label).")
]


def _django():
    from .main import _django as setup

    setup()


def _read(files: list[Path], text: str | None, label: str | None) -> tuple[list[str], list[str]]:
    from tongban.hotline.router import DataError, read_labelled

    texts, labels = [], []
    for path in files:
        try:
            t, lab = read_labelled(path, text=text, label=label)
        except DataError as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from None
        texts += t
        labels += lab
        console.print(f"{path}: {len(t)} labelled rows")
    return texts, labels


@hotline_app.command()
def train(
    files: Annotated[
        list[Path] | None, typer.Argument(help="CSV or XLSX files with a text and a label column.")
    ] = None,
    text: TextOption = None,
    label: LabelOption = None,
    holdout: Annotated[
        float,
        typer.Option(
            help="Keep this share of the rows out of training (stratified, fixed seed) and write them to "
            "var/hotline/holdout.csv for `tongban hotline evaluate`."
        ),
    ] = 0.0,
    folds: Annotated[
        int, typer.Option(help="Cross-validation folds (figures and abstention threshold).")
    ] = 5,
    abstain: Annotated[float, typer.Option(help="Share of messages the router should abstain on.")] = 0.10,
    examples: Annotated[
        bool,
        typer.Option("--examples/--no-examples", help="Add the operators' confirmed and corrected orders."),
    ] = True,
):
    """Train the router and save it as the next version under var/hotline/. With no file, the shared
    labelled messages (TONGBAN_DATA_DIR/hotline/labeled_messages_segmented.csv)."""
    _django()
    import csv

    from django.conf import settings

    from tongban.hotline import router
    from tongban.hotline.models import TrainingExample

    if not files:
        shared = Path(settings.DATA_DIR) / "hotline" / "labeled_messages_segmented.csv"
        if not shared.exists():
            err.print(f"[red]No file given and no shared labelled data at {shared}.[/]")
            raise typer.Exit(2)
        files = [shared]
    texts, labels = _read(files, text, label)
    sources = [str(p) for p in files]
    if holdout:
        if not 0 < holdout < 1:
            err.print("[red]--holdout is a share between 0 and 1.[/]")
            raise typer.Exit(2)
        from sklearn.model_selection import train_test_split

        texts, held_texts, labels, held_labels = train_test_split(
            texts, labels, test_size=holdout, random_state=13, stratify=labels
        )
        out = router.model_dir()
        out.mkdir(parents=True, exist_ok=True)
        with (out / "holdout.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(zip(held_texts, held_labels, strict=True))
        console.print(f"Held out {len(held_texts)} rows: {out / 'holdout.csv'}")
    if examples:
        rows = list(TrainingExample.objects.values_list("text", "label"))
        if rows:
            texts += [t for t, _ in rows]
            labels += [lab for _, lab in rows]
            sources.append(f"{len(rows)} operator-confirmed orders")
            console.print(f"Operator-confirmed orders: {len(rows)}")
    started = time.perf_counter()
    with console.status(f"Training on {len(texts)} messages ({folds}-fold cross-validation first)…"):
        model = router.train(texts, labels, sources=sources, folds=folds, target_abstain=abstain)
    path = router.save(model)
    console.print(f"Trained in {time.perf_counter() - started:.1f} s: version {model.version}, {path}")
    if model.cv:
        cv = model.cv
        console.print(
            f"Cross-validation ({cv['folds']} folds): macro_f1={cv['macro_f1']:.4f} "
            f"accuracy={cv['accuracy']:.4f} "
            f"abstained={cv['abstained']:.4f} confident_macro_f1={cv['confident_macro_f1']:.4f} "
            f"(threshold {model.threshold:.3f})"
        )


@hotline_app.command()
def evaluate(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX file with a text and a label column.")],
    text: TextOption = None,
    label: LabelOption = None,
    model: Annotated[Path | None, typer.Option(help="A model file (default: the latest trained).")] = None,
):
    """Per-class precision/recall/F1 of the router on a labelled file, then one EVAL line."""
    _django()
    from tongban.hotline import router

    loaded = router.load(model)
    if loaded is None:
        err.print("[red]No usable router model: run `tongban hotline train` first.[/]")
        raise typer.Exit(2)
    texts, labels = _read([file], text, label)
    started = time.perf_counter()
    result = router.evaluate(loaded, texts, labels)
    elapsed = time.perf_counter() - started
    table = Table(title=f"Router v{loaded.version} on {file.name}")
    for column in ("category", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for name, p, r, f, support in result.per_class:
        table.add_row(name, f"{p:.4f}", f"{r:.4f}", f"{f:.4f}", str(support))
    console.print(table)
    console.print(
        f"{elapsed / max(result.n, 1) * 1000:.2f} ms per message (batch); threshold {loaded.threshold:.3f}"
    )
    print(result.eval_line(), flush=True)


@hotline_app.command("import-replies")
def import_replies(
    file: Annotated[
        Path | None,
        typer.Argument(help="CSV with 留言编号, 留言主题, 留言详情, 答复意见 (default: replies.csv)."),
    ] = None,
):
    """Load past messages with their official replies: the handler is shown the most similar."""
    _django()
    import csv
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone

    from tongban.core.authz import SYSTEM
    from tongban.hotline import duplicates

    path = file or Path(settings.DATA_DIR) / "hotline" / "replies.csv"
    if not path.exists():
        err.print(f"[red]{path}: no such file[/]")
        raise typer.Exit(2)

    def when(value: str):
        for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d", "%Y-%m-%d"):
            try:
                return timezone.make_aware(dt.datetime.strptime(value.strip(), fmt))
            except ValueError:
                continue
        return None

    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"留言编号", "留言详情", "答复意见"} - set(reader.fieldnames or [])
        if missing:
            err.print(f"[red]{path.name}: no column {', '.join(sorted(missing))}[/]")
            raise typer.Exit(2)
        rows = [
            {
                "ref": r["留言编号"],
                "subject": r.get("留言主题", ""),
                "text": r["留言详情"],
                "reply": r["答复意见"],
                "asked_at": when(r.get("留言时间") or ""),
                "replied_at": when(r.get("答复时间") or ""),
            }
            for r in reader
        ]
    added = duplicates.import_replies(SYSTEM, rows)
    console.print(f"{path.name}: {len(rows)} rows, {added} past replies added")


@hotline_app.command("open311-client")
def open311_client(name: Annotated[str, typer.Argument(help="The client system's name.")]):
    """Issue an Open311 api_key to a client system (printed once; only its blind index is kept)."""
    _django()
    from django.db import IntegrityError

    from tongban.hotline import open311

    name = name.strip()
    if not name or len(name) > 100:
        err.print("[red]Give a name of 1 to 100 characters.[/]")
        raise typer.Exit(2)
    try:
        key = open311.issue_key(name)
    except IntegrityError:
        err.print(f"[red]A client named {name!r} exists already.[/]")
        raise typer.Exit(2) from None
    console.print(f"Open311 client {name}: api_key (shown once)")
    print(key, flush=True)


@hotline_app.command("event-system")
def event_system(
    name: Annotated[str, typer.Argument(help="The posting system's name, e.g. 城市排水监测平台.")],
    source_prefix: Annotated[
        str, typer.Option("--source-prefix", help="What its CloudEvents `source` starts with.")
    ],
):
    """Register a system that posts city events (CloudEvents to /api/v1/hotline/city-events) and
    print its bearer token once (only its blind index is kept)."""
    _django()
    from tongban.core.authz import OPERATOR
    from tongban.core.errors import InvalidInput
    from tongban.hotline import city_events

    try:
        system, token = city_events.register_system(OPERATOR, name=name, source_prefix=source_prefix)
    except InvalidInput as exc:
        for field, problems in exc.fields.items():
            for p in problems:
                err.print(f"[red]{field}: {p.message}[/]")
        raise typer.Exit(2) from None
    console.print(f"Event system {system.name} ({system.source_prefix}…): bearer token (shown once)")
    print(token, flush=True)


@hotline_app.command("import-policies")
def import_policies(
    file: Annotated[Path, typer.Argument(help="CSV with 文号, 标题, 正文 (and 发文机关, 发布日期).")],
):
    """Load policy texts into the knowledge base the operator answers consultations from (直接办结)."""
    _django()
    import csv
    import datetime as dt

    from tongban.core.authz import SYSTEM
    from tongban.hotline import duplicates

    if not file.exists():
        err.print(f"[red]{file}: no such file[/]")
        raise typer.Exit(2)
    columns = {"ref": ("文号", "ref"), "title": ("标题", "title"), "body": ("正文", "body")}
    optional = {"issuer": ("发文机关", "issuer"), "issued_on": ("发布日期", "issued_on")}
    with file.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = set(reader.fieldnames or [])
        chosen = {}
        for key, names in {**columns, **optional}.items():
            found = next((n for n in names if n in header), None)
            if found is None and key in columns:
                err.print(f"[red]{file.name}: no column {' or '.join(names)}[/]")
                raise typer.Exit(2)
            chosen[key] = found

        def day(value):
            try:
                return dt.date.fromisoformat(str(value or "").strip().replace("/", "-"))
            except ValueError:
                return None

        rows = [
            {
                **{key: r.get(name) or "" for key, name in chosen.items() if name and key != "issued_on"},
                "issued_on": day(r.get(chosen["issued_on"])) if chosen["issued_on"] else None,
            }
            for r in reader
        ]
    added = duplicates.import_policies(SYSTEM, rows)
    console.print(f"{file.name}: {len(rows)} rows, {added} policy texts added")
