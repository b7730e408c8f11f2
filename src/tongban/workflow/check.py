"""`tongban workflow check`: what a BPMN file would be here, without storing anything.

Each file is
- `executable`: every process not marked isExecutable="false" parses and runs here; a dry run that
  approves every step with empty data says whether it reaches an end;
- `reference`: a sound BPMN model that cannot run here as it is — marked isExecutable="false", or
  using elements we do not run, or lacking what we need (a lane's department, a split's condition,
  the DMN decision a business rule task calls — DMN files given with the BPMN files provide them):
  it can be imported as a reference model, and the blockers say what stands in the way of running;
- `refused`: not a sound model (broken XML, flows to nowhere, duplicate ids, …), or a process marked
  executable whose conditions or scripts are written for another engine (JUEL, Python): the root
  causes are listed;
- `crashed`: a bug of ours (the checker never lets one file stop the others).
"""

from collections import deque
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Formatted
from tongban.rules import RuleError
from tongban.rules import dmn as rules_dmn

from . import bpmn, engine
from . import decisions as decisions_

MAX_STEPS = 2000
MAX_DEPTH = 10


@dataclass
class DryRun:
    reaches_end: bool | None  # None: it could not be decided from this file alone
    message: object
    steps: list[str] = field(default_factory=list)  # user tasks approved, in order


@dataclass
class FileCheck:
    name: str
    status: str  # executable | reference | refused | crashed
    problems: list[bpmn.Problem] = field(default_factory=list)  # root causes or blockers
    dry_run: DryRun | None = None
    processes: int = 0


def check(data: bytes, name: str = "", decisions: decisions_.Library | None = None) -> FileCheck:
    """`decisions`: the DMN decisions given with the file (business rule tasks call them by id)."""
    try:
        return _check(data, name, decisions if decisions is not None else decisions_.Library())
    except Exception as exc:  # the checker reports its own bugs per file and goes on
        return FileCheck(
            name,
            "crashed",
            [
                bpmn.Problem(
                    "document", "crashed", Formatted(_("The checker failed: %(e)s"), {"e": repr(exc)})
                )
            ],
        )


def unreadable(reason: str) -> bpmn.Problem:
    return bpmn.Problem(
        "document", "unreadable", Formatted(_("The file cannot be read: %(e)s"), {"e": reason})
    )


# A document with these is not a sound BPMN model: it is refused, even as a drawing.
BROKEN = {"xml", "unsafe", "too_large", "not_bpmn", "no_process", "id", "duplicate", "dangling", "crosses"}
BROKEN |= {"start_incoming", "default", "limit", "role", "countersign"}
# A process marked executable with these was written to run on another engine: refused.
FOREIGN = {"script", "condition_syntax", "condition_language"}


def _check(data: bytes, name: str, library: decisions_.Library) -> FileCheck:
    result = bpmn.parse(data)
    if any(p.element == "document" for p in result.problems):
        return FileCheck(name, "refused", result.problems)
    if result.ok and result.processes:
        missing = bpmn.missing_decisions(result, library)
        if missing:  # a sound model that lacks what it needs to run: its decisions
            return FileCheck(name, "reference", missing, processes=len(result.processes))
        for graph in result.processes.values():
            graph.decide = deciding(library)
        root = _root_process(result)
        return FileCheck(name, "executable", [], dry_run(result, root), len(result.processes))
    drawing = bpmn.parse(data, as_reference=True)
    blockers = [p for r in drawing.references.values() for p in r.blockers]
    broken = [p for p in blockers if p.code in BROKEN]
    foreign = [p for p in result.problems if p.code in FOREIGN]
    if broken or foreign:
        return FileCheck(name, "refused", broken + foreign)
    return FileCheck(name, "reference", blockers, processes=len(drawing.references))


def deciding(library: decisions_.Library):
    """A graph's `decide`: business rule tasks evaluate the decisions of `library`."""

    def decide(node: bpmn.Node, data: dict) -> dict:
        found = library.find(node.decision)
        if found is None:
            raise decisions_.DecisionFailed(
                Formatted(_("the decision “%(decision)s” is not available"), {"decision": node.decision})
            )
        return decisions_.evaluate(
            found, data, result_variable=node.result_variable, mapping=node.result_mapping
        )

    return decide


def load_dmn(data: bytes, name: str, library: decisions_.Library) -> tuple[list[str], object]:
    """Add the decisions of a DMN file to `library`: (their ids, None) or ([], why it was refused)."""
    try:
        model = rules_dmn.load(data)
    except RuleError as exc:
        return [], exc.message
    return library.add(model, name), None


def _root_process(result: bpmn.ParseResult) -> bpmn.ProcessGraph:
    called = {
        n.called_process for g in result.processes.values() for n in g.nodes.values() if n.kind == "call"
    }
    roots = [g for pid, g in result.processes.items() if pid not in called]
    return roots[0] if roots else next(iter(result.processes.values()))


def dry_run(result: bpmn.ParseResult, graph: bpmn.ProcessGraph) -> DryRun:
    """Run `graph` approving every step with empty data; call activities run their process."""
    steps: list[str] = []
    try:
        outcome = _run(result, graph, steps, 0)
    except engine.ProcessError as exc:
        outcome = DryRun(
            False,
            Formatted(
                _("the run stops at %(node)s: %(reason)s"), {"node": exc.node_id, "reason": exc.reason}
            ),
        )
    outcome.steps = steps
    return outcome


def _run(result: bpmn.ParseResult, graph: bpmn.ProcessGraph, steps: list[str], depth: int) -> DryRun:
    data: dict = {}
    effects, joins = engine.start(graph, data)
    effects.listens = []  # event subprocesses only start on what the run does not send them
    waiting: deque[str] = deque()
    races: dict[str, str] = {}  # a waiting event → the race it is in (one race per gateway passed)
    won: set[str] = set()
    balance, ended, stuck = 0, 0, []

    def absorb(effects: engine.Effects) -> None:
        nonlocal balance, ended
        data.update(effects.data)
        balance += effects.token_delta
        ended += effects.ended
        waiting.extend(work.node.id for work in effects.work)
        waiting.extend(node.id for node in effects.calls)
        for node_id, race in effects.races.items():
            races[node_id] = f"{race}@{count}"
        # timers pass at once; messages and signals come as they are waited for
        waiting.extend(node.id for node in effects.waits)
        for subprocess_id in effects.follow:
            absorb(engine.start_eventsub(graph, subprocess_id, data, joins))

    count = 0
    absorb(effects)
    while waiting:
        count += 1
        if count > MAX_STEPS:
            return DryRun(None, Formatted(_("still running after %(n)s steps"), {"n": MAX_STEPS}))
        node = graph.node(waiting.popleft())
        race = races.pop(node.id, "")
        if race and race in won:
            continue  # another event of its race came first
        if node.kind in ("catch", "start"):
            if node.triggers == ("conditional",) and not node.event_condition.evaluate(data):
                stuck.append(node.id)  # nothing in this run makes its condition hold
                continue
            won.add(race)
            absorb(engine.catch(graph, node.id, data, joins))
            continue
        if node.kind == "timer":
            won.add(race)
            absorb(engine.leave(graph, node.id, data, joins))
            continue
        if node.kind == "call":
            child = result.processes.get(node.called_process)
            if child is None:
                return DryRun(
                    None,
                    Formatted(
                        _("it calls %(process)s, which is not in this file"), {"process": node.called_process}
                    ),
                )
            if depth >= MAX_DEPTH:
                return DryRun(None, _("call activities nest too deeply"))
            outcome = _run(result, child, steps, depth + 1)
            if not outcome.reaches_end:
                return outcome
            absorb(engine.leave(graph, node.id, data, joins))
            continue
        steps.append(node.name or node.id)
        absorb(engine.leave(graph, node.id, data, joins, "approve"))
    if balance == 0 and ended:
        return DryRun(True, _("approving every step with empty data reaches an end"))
    if stuck:
        return DryRun(
            False,
            Formatted(
                _("the run waits at %(node)s for a condition that empty data never meets"),
                {"node": ", ".join(stuck)},
            ),
        )
    return DryRun(False, _("tokens are left waiting at a join that can never fire"))
