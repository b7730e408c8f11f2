"""The production shape and its faults (issue 17), run once per `make test` in a step of their own
(scripts/run-tests.sh sets TONGBAN_CLUSTER_TESTS=1): they start real servers, so they neither need
nor use the SQLite/PostgreSQL passes' test database.

Each test prints what it measured in the closing summary (acknowledged vs found, time to serve
again). Without nginx, Redis or the PostgreSQL server programs they skip with a message — except
under CI=true, where they must run (.ci/run installs them with scripts/system-deps.sh cluster)."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ENABLED = os.environ.get("TONGBAN_CLUSTER_TESTS") == "1"
if not ENABLED:
    collect_ignore_glob = ["test_*.py"]

FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("fault tests: what was measured")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def figures():
    def report(name: str, **values):
        shown = " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        FIGURES.append(f"FAULT {name} {shown}")

    return report


def _prerequisites() -> None:
    from tongban.cli.cluster import missing_programs

    missing = missing_programs()
    if missing:
        message = f"cluster tests need {', '.join(missing)} (bash scripts/system-deps.sh cluster)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " — required under CI=true")
        pytest.skip(message)


@pytest.fixture(scope="session")
def cluster(request):
    """The whole shape, up once for the session: proxy, 2 app servers, primary + replica, Redis,
    2 workers, with the demo city."""
    _prerequisites()
    from tongban.cli.cluster import Cluster

    reuse = os.environ.get("TONGBAN_CLUSTER_REUSE")  # a developer's running cluster, kept afterwards
    if reuse:
        cluster = Cluster(reuse)
        cluster.up(seed=True, say=lambda what: None)
        yield cluster
        return
    folder = Path(tempfile.mkdtemp(prefix="tongban-cluster-"))
    cluster = Cluster(folder)
    try:
        cluster.up(seed=True, say=lambda what: None)
    except Exception:
        _show_logs(folder)
        cluster.down()
        raise
    yield cluster
    failed = request.session.testsfailed
    cluster.down()
    if failed:
        _show_logs(folder)
        print(f"cluster folder kept for inspection: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


def _show_logs(folder: Path) -> None:
    for log in sorted(folder.glob("logs/*.log")) + sorted(folder.glob("pg/*.log")):
        try:
            text = log.read_text(errors="replace")[-3000:]
        except OSError:
            continue
        print(f"--- {log} ---\n{text}")
