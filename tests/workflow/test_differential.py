"""Differential tests: our engine and SpiffWorkflow (the reference, a test dependency) run the same
BPMN with the same data and the same decisions, and must reach the same user tasks in the same
order (round by round: the set of steps open at once) and the same end state.

Run over the samples of these tests and over the files of ../shared/data/bpmn/spiffworkflow that
`tongban workflow check` finds executable (read in place; skipped when the data is not here)."""

from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import shared_data_dir
from tongban.workflow import bpmn, check, engine

from .bpmn_samples import PARALLEL
from .test_bpmn_elements import SUBPROCESS
from .test_engine_elements import INCLUSIVE, LOOP, MULTI, SEQUENTIAL, TERMINATE

MAX_ROUNDS = 50


def ours(xml: str, data: dict, decide) -> tuple[list[list[str]], bool]:
    """Rounds of open user tasks, and whether the process ended, in our engine."""
    result = bpmn.parse(xml)
    graph = check._root_process(result)
    data = dict(data)
    effects, joins = engine.start(graph, data)
    data.update(effects.data)
    balance, ended = effects.token_delta, effects.ended
    waiting = [(w.node.id, w.count) for w in effects.work]
    assert not effects.calls, "call activities are compared through SpiffWorkflow's subprocess specs"
    rounds = []
    while waiting and len(rounds) < MAX_ROUNDS:
        rounds.append(sorted(node_id for node_id, count in waiting for _ in range(count)))
        following = []
        for node_id, _count in sorted(waiting):  # a multi-instance group moves on once all are done
            step = engine.leave(graph, node_id, data, joins, decide(node_id, len(rounds)))
            data.update(step.data)
            balance += step.token_delta
            ended += step.ended
            following += [(w.node.id, w.count) for w in step.work]
            if step.terminated == [""]:
                return rounds, True
        waiting = following
    return rounds, balance == 0 and ended > 0


def spiff(xml: str, data: dict, decide) -> tuple[list[list[str]], bool]:
    """The same in SpiffWorkflow, each completed task given the decision as our engine records it."""
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    parser = BpmnParser()
    parser.add_bpmn_str(xml.encode())
    process_id = check._root_process(bpmn.parse(xml)).id
    workflow = BpmnWorkflow(parser.get_spec(process_id), parser.get_subprocess_specs(process_id))
    workflow.task_tree.data.update(data)
    for task in workflow.get_tasks():
        task.data.update(data)
    workflow.do_engine_steps()
    rounds = []
    while len(rounds) < MAX_ROUNDS:
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        rounds.append(sorted(t.task_spec.bpmn_id for t in ready))
        for task in sorted(ready, key=lambda t: t.task_spec.bpmn_id):
            decision = decide(task.task_spec.bpmn_id, len(rounds))
            task.data.update({"decision": decision, f"{task.task_spec.bpmn_id}_decision": decision})
            task.run()
        workflow.do_engine_steps()
    return rounds, workflow.is_completed()


def approve(node_id: str, round_number: int) -> str:
    return "approve"


def reject_first(node_id: str, round_number: int) -> str:
    return "reject" if round_number == 1 else "approve"


def reject_always(node_id: str, round_number: int) -> str:
    return "reject"


def reject_twice(node_id: str, round_number: int) -> str:
    return "reject" if round_number <= 2 else "approve"


# Conditions in the older tongban language, which SpiffWorkflow's Python also reads.
SAMPLES = [
    ("parallel", PARALLEL, {}, approve),
    ("subprocess", SUBPROCESS, {}, approve),
    ("inclusive two branches", INCLUSIVE, {"area": 800, "floors": 5}, approve),
    ("inclusive one branch", INCLUSIVE, {"area": 800, "floors": 1}, approve),
    ("inclusive default", INCLUSIVE, {"area": 100, "floors": 1}, approve),
    ("terminate", TERMINATE.replace('decision = "reject"', 'decision == "reject"'), {}, reject_first),
    ("no terminate", TERMINATE.replace('decision = "reject"', 'decision == "reject"'), {}, approve),
    ("loop twice", LOOP.replace('decision = "reject"', 'decision == "reject"'), {}, reject_twice),
    (
        "loop at most three times",
        LOOP.replace('decision = "reject"', 'decision == "reject"'),
        {},
        reject_always,
    ),
    ("multi-instance at once", MULTI, {}, approve),
    ("multi-instance one after the other", SEQUENTIAL, {"sites": ["东区", "西区", "南区"]}, approve),
]


@pytest.mark.parametrize("name,xml,data,decide", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_samples_run_the_same_in_both_engines(name, xml, data, decide):
    assert ours(xml, data, decide) == spiff(xml, data, decide)


def _shared_files() -> list[Path]:
    data = shared_data_dir()
    folder = Path(data) / "bpmn" / "spiffworkflow" if data else None
    if folder is None or not folder.is_dir():
        pytest.skip("shared data (../shared/data, or TONGBAN_DATA_DIR) has no bpmn/spiffworkflow: skipped")
    return sorted(folder.glob("*.bpmn"))


def comparable(path: Path) -> str | None:
    """The file's text when both engines can run it on their own, else None."""
    xml = path.read_text(encoding="utf-8")
    result = bpmn.parse(xml)
    if not (result.ok and result.processes):
        return None
    root = check._root_process(result)
    if any(n.kind == "call" and n.called_process not in result.processes for n in root.nodes.values()):
        return None
    if any(n.kind == "call" for g in result.processes.values() for n in g.nodes.values()):
        return None  # our engine runs calls as child instances in the database, not in this harness
    if any(
        n.kind in ("catch", "eventgw", "eventsub") or n.throws == "send" or (n.kind == "start" and n.triggers)
        for g in result.processes.values()
        for n in g.nodes.values()
    ):
        return None  # events wait in the database: compared through the services (test_events.py)
    return xml


def test_the_executable_spiffworkflow_files_run_the_same_in_both_engines():
    outcomes = Counter()
    differences = []
    for path in _shared_files():
        xml = comparable(path)
        if xml is None:
            continue
        try:
            reference = spiff(xml, {}, approve)
        except Exception:  # SpiffWorkflow cannot run it without its own script engine or data
            outcomes["spiff cannot run"] += 1
            continue
        mine = ours(xml, {}, approve)
        if mine == reference:
            outcomes["same"] += 1
        else:
            differences.append((path.name, mine, reference))
    assert differences == []
    assert outcomes["same"] >= 10, outcomes
