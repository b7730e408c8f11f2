"""`tongban insight import` for OCEL 2.0 (the case notion by --object-type, the types listed when
it is left out) and for a log without timestamps."""

import json

from typer.testing import CliRunner

from tests.insight.test_eventlog_import import OCEL
from tongban.cli.main import app
from tongban.insight.models import EventLog


def _run(*args):
    return CliRunner().invoke(app, ["insight", "import", *map(str, args)], env={"COLUMNS": "200"})


def test_an_ocel_file_is_imported_on_the_object_type_given(db, settings, tmp_path):
    settings.VAR_DIR = str(tmp_path)
    source = tmp_path / "orders.jsonocel"
    source.write_text(json.dumps(OCEL), encoding="utf-8")
    asked = _run(source)
    assert asked.exit_code == 1 and "item、order、package" in asked.output and not EventLog.objects.exists()
    done = _run(source, "--object-type", "order", "--name", "订单")
    assert done.exit_code == 0, done.output
    assert "3 events, 2 cases" in done.output
    assert EventLog.objects.get(name="订单").mapping == {"object_type": "order"}


def test_a_log_without_timestamps_says_so(db, settings, tmp_path):
    settings.VAR_DIR = str(tmp_path)
    source = tmp_path / "order.csv"
    source.write_text("case,activity\nA,受理\nA,决定\n", encoding="utf-8")
    done = _run(source)
    assert done.exit_code == 0, done.output
    assert "no timestamps (file order)" in done.output
