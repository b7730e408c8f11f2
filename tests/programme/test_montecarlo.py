"""The Monte Carlo schedule risk against closed forms: a single triangular task's quantiles, a
PERT task's mean, a certain risk's delay, and criticality in a network with a known outcome."""

import numpy as np
import pytest

from tongban.programme import montecarlo as mc


def test_single_triangular_task_percentiles_match_the_closed_form():
    a, m, b = 10.0, 20.0, 40.0
    result = mc.simulate([mc.TaskEstimate("T", a, m, b)], runs=400_000, seed=7)
    for p in (10, 50, 80, 90):
        assert result.percentile(p) == pytest.approx(mc.triangular_quantile(p / 100, a, m, b), abs=0.08)
    # P50 by hand: 40 − √(0.5·30·20) = 22.679
    assert mc.triangular_quantile(0.5, a, m, b) == pytest.approx(22.6795, abs=1e-4)
    assert result.criticality == {"T": 1.0}


def test_pert_mean_is_the_weighted_three_point_mean():
    result = mc.simulate([mc.TaskEstimate("T", 4, 6, 14)], runs=200_000, seed=3, distribution="pert")
    assert result.finishes.mean() == pytest.approx(mc.pert_mean(4, 6, 14), abs=0.03)
    assert result.finishes.min() >= 4 and result.finishes.max() <= 14


def test_the_seed_repeats_a_run_and_another_seed_does_not():
    tasks = [mc.TaskEstimate("A", 1, 2, 6), mc.TaskEstimate("B", 2, 3, 9, preds=(("A", 1),))]
    one = mc.simulate(tasks, runs=1000, seed=42)
    again = mc.simulate(tasks, runs=1000, seed=42)
    other = mc.simulate(tasks, runs=1000, seed=43)
    assert np.array_equal(one.finishes, again.finishes)
    assert not np.array_equal(one.finishes, other.finishes)


def test_a_certain_risk_adds_its_delay_and_an_impossible_one_nothing():
    tasks = [mc.TaskEstimate("A", 5, 5, 5), mc.TaskEstimate("B", 3, 3, 3, preds=(("A", 0),))]
    sure = mc.simulate(tasks, [mc.RiskEvent("R", 1.0, 4, ("B",))], runs=100, seed=1)
    never = mc.simulate(tasks, [mc.RiskEvent("R", 0.0, 4, ("B",))], runs=100, seed=1)
    assert set(sure.finishes.tolist()) == {12.0}
    assert set(never.finishes.tolist()) == {8.0}


def test_criticality_index_of_two_parallel_paths():
    # A ~ triangular(0, 5, 10) against B fixed at 5: A is longer, so critical, in half the runs
    tasks = [mc.TaskEstimate("A", 0, 5, 10), mc.TaskEstimate("B", 5, 5, 5)]
    result = mc.simulate(tasks, runs=100_000, seed=11)
    assert result.criticality["A"] == pytest.approx(0.5, abs=0.01)
    assert result.criticality["B"] == pytest.approx(0.5, abs=0.01)
    # a risk of probability 0.3 on B (delay 20) makes B critical in ≈ 0.5·0.7 + 0.3 of the runs
    risky = mc.simulate(tasks, [mc.RiskEvent("R", 0.3, 20, ("B",))], runs=100_000, seed=11)
    assert risky.criticality["B"] == pytest.approx(0.65, abs=0.01)
