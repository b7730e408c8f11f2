"""The critical path against a network computed by hand (forward and backward pass, lags, the
working-day calendar across 中秋/国庆 2026)."""

import datetime as dt

import pytest

from tongban.programme import schedule, services
from tongban.programme.models import Task


def node(key, d, preds=(), nb=0):
    return schedule.Node(key, d, nb, list(preds))


def test_forward_and_backward_pass_of_a_hand_computed_network():
    nodes = {
        "A": node("A", 3),
        "B": node("B", 2, [("A", 0)]),
        "C": node("C", 4, [("A", 0)]),
        "D": node("D", 2, [("B", 1)]),
        "E": node("E", 3, [("C", 0), ("D", 0)]),
        "F": node("F", 1, [("E", 2)]),
    }
    t = schedule.cpm(nodes)
    # (ES, EF, LS, LF) worked out on paper
    expected = {
        "A": (0, 3, 0, 3),
        "B": (3, 5, 3, 5),
        "C": (3, 7, 4, 8),
        "D": (6, 8, 6, 8),
        "E": (8, 11, 8, 11),
        "F": (13, 14, 13, 14),
    }
    assert {k: (v.es, v.ef, v.ls, v.lf) for k, v in t.items()} == expected
    assert {k for k, v in t.items() if v.critical} == {"A", "B", "D", "E", "F"}
    assert t["C"].total_float == 1


def test_a_start_constraint_takes_the_float_of_its_predecessors():
    nodes = {"A": node("A", 2), "B": node("B", 2, [("A", 0)], nb=5)}
    t = schedule.cpm(nodes)
    assert (t["B"].es, t["B"].ef) == (5, 7)
    assert t["A"].total_float == 3 and not t["A"].critical and t["B"].critical


def test_a_loop_is_named():
    nodes = {"A": node("A", 1, [("C", 0)]), "B": node("B", 1, [("A", 0)]), "C": node("C", 1, [("B", 0)])}
    with pytest.raises(schedule.CycleError) as caught:
        schedule.cpm(nodes)
    assert caught.value.members == ["A", "B", "C"]


def test_imported_plan_is_scheduled_on_working_days(planned):
    dates = {t.code: (t.start, t.finish) for t in Task.objects.filter(programme=planned)}
    d = dt.date
    assert dates == {
        "A": (d(2026, 9, 28), d(2026, 9, 30)),
        "B": (d(2026, 10, 8), d(2026, 10, 9)),  # 国庆 skipped
        "C": (d(2026, 10, 8), d(2026, 10, 12)),  # Saturday 10 Oct is a working day (调休)
        "D": (d(2026, 10, 12), d(2026, 10, 13)),  # lag 1 skips Saturday 10 Oct
        "E": (d(2026, 10, 14), d(2026, 10, 16)),
        "F": (d(2026, 10, 21), d(2026, 10, 21)),  # lag 2 skips Mon 19 and Tue 20
        "M": (d(2026, 10, 21), d(2026, 10, 21)),  # a milestone on the day F finishes
    }
    baseline = {t.code: (t.baseline_start, t.baseline_finish) for t in Task.objects.filter(programme=planned)}
    assert baseline == dates


def test_gantt_marks_the_critical_path(planner, planned):
    data = services.gantt(planner, planned.code, on=dt.date(2026, 10, 1))
    assert data["critical_path"] == ["A", "B", "D", "E", "F", "M"]
    by_code = {t["code"]: t for t in data["tasks"]}
    assert by_code["C"]["float"] == 1 and not by_code["C"]["critical"]
    assert {(link["from"], link["to"], link["lag"]) for link in data["links"]} == {
        ("A", "B", 0),
        ("A", "C", 0),
        ("B", "D", 1),
        ("C", "E", 0),
        ("D", "E", 0),
        ("E", "F", 2),
        ("F", "M", 0),
    }
    assert data["may_plan"] is True


def _reference_passes(durations, not_before, links):
    """ES and LF by relaxing every link until nothing changes: slow, but independent of any order."""
    n = len(durations)
    es = list(not_before)
    changed = True
    while changed:
        changed = False
        for p, s, lag in links:
            if es[p] + durations[p] + lag > es[s]:
                es[s] = es[p] + durations[p] + lag
                changed = True
    end = max((es[i] + durations[i] for i in range(n)), default=0)
    lf = [end] * n
    changed = True
    while changed:
        changed = False
        for p, s, lag in links:
            if lf[s] - durations[s] - lag < lf[p]:
                lf[p] = lf[s] - durations[s] - lag
                changed = True
    return es, lf


def test_the_indexed_passes_agree_with_plain_relaxation_on_random_networks():
    import random

    rng = random.Random(15)
    for _ in range(40):
        n = rng.randint(1, 60)
        durations = [rng.choice((0, 1, 2, 5, 9)) for _ in range(n)]
        not_before = [rng.randint(0, 12) for _ in range(n)]
        # links only from a lower to a higher number (no loop), listed in shuffled order
        links = [(p, s, rng.choice((0, 0, 1, 3))) for s in range(n) for p in range(s) if rng.random() < 0.08]
        rng.shuffle(links)
        es, ef, ls, lf = schedule.cpm_indexed(
            durations,
            not_before,
            [p for p, _s, _l in links],
            [s for _p, s, _l in links],
            [g for *_x, g in links],
        )
        want_es, want_lf = _reference_passes(durations, not_before, links)
        assert es == want_es
        assert lf == want_lf
        assert ef == [a + d for a, d in zip(es, durations, strict=True)]
        assert ls == [b - d for b, d in zip(lf, durations, strict=True)]


def test_the_indexed_passes_name_a_loop_by_task_number():
    # 0 → 1 → 2 → 1 loops; 3 comes after 2, so it can never be scheduled either; 0 can
    with pytest.raises(schedule.CycleError) as caught:
        schedule.cpm_indexed([1, 1, 1, 1], [0, 0, 0, 0], [0, 1, 2, 2], [1, 2, 1, 3], [0, 0, 0, 0])
    assert caught.value.members == [1, 2, 3]
