"""The as-is simulation model: fitted from a log, it reproduces the log (the issue's validation on
receipt.csv: mean case duration within 10 %, activity frequencies within 5 %)."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import shared_data_dir
from tongban.insight import eventlog, simulation

LOGS = Path(shared_data_dir()) / "eventlogs"


@pytest.fixture
def receipt(tmp_path):
    eventlog.import_table(LOGS / "receipt.csv", tmp_path / "receipt.parquet")
    con = eventlog.connect()
    eventlog.load(con, tmp_path / "receipt.parquet")
    return con


def test_the_fitted_model_is_a_proper_markov_chain_with_the_logs_arrivals(receipt):
    model = simulation.fit(receipt)
    assert model.cases == 1434
    assert sum(model.start.values()) == pytest.approx(1.0)
    for activity, options in model.routes.items():
        assert sum(p for _b, p in options) == pytest.approx(1.0), activity
    # Every hand-over seen has its delays; the weekly arrival profile adds up to the log's cases.
    assert all(len(d) > 0 for d in model.delays.values())
    assert model.arrival_rates.sum() * 3600 * model.span / (7 * 86400) == pytest.approx(1434, rel=1e-6)
    # Fewer arrivals at night and on Sundays than on weekday mornings.
    assert model.arrival_rates[6 * 24 + 3] <= model.arrival_rates[0 * 24 + 10]


def test_runs_are_reproducible_by_seed_and_end_every_case(receipt):
    model = simulation.fit(receipt)
    first = simulation.simulate(model, seed=7, cases=300)
    again = simulation.simulate(model, seed=7, cases=300)
    assert first.cases == 300 and first.durations == again.durations
    assert simulation.simulate(model, seed=8, cases=300).durations != first.durations
    by_span = simulation.simulate(model, seed=1)  # arrivals from the weekly profile over the span
    assert 1434 * 0.85 < by_span.cases < 1434 * 1.15


def test_the_as_is_model_reproduces_receipt(receipt):
    result = simulation.validate(receipt, replications=50)
    assert result.duration_error <= 0.10
    assert result.worst_frequency_error <= 0.05
    assert result.ok and result.worst_activity
    assert result.duration_ci[0] <= result.simulated_mean_duration <= result.duration_ci[1]


def test_validate_sim_from_the_command_line(db):
    from tongban.cli.main import app

    done = CliRunner().invoke(
        app,
        ["insight", "validate-sim", str(LOGS / "receipt.csv"), "--replications", "50"],
        env={"COLUMNS": "200"},
    )
    assert done.exit_code == 0, done.output
    assert "mean-duration error" in done.output and "worst activity-frequency error" in done.output
    missing = CliRunner().invoke(app, ["insight", "validate-sim", "no-such-log"])
    assert missing.exit_code == 2
