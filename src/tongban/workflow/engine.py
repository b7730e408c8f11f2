"""The token engine: moves a process instance from one set of waiting steps to the next.

It is pure — no database. Given the graph, where tokens enter, the case data and the instance's
join counters, it walks the graph (gateways, script and business rule tasks, end events are passed
through at once)
until every token waits: at a user task (a work item), at a call activity (a child instance), or
at a parallel join that has not heard from all its branches. It returns what changed, and the
persistence layer writes exactly that: new work items, counters, a token balance, data updates.
That is why a step costs a few small row writes instead of a round trip of the whole engine state
(docs/workflow.md compares the two).

Token accounting: `tokens` counts tokens waiting in the instance. Entering a wait adds one;
a work item finishing, a child instance ending or a join firing removes the tokens that waited
there. The instance is complete when the balance is zero after a step.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Conflict, Formatted

from . import decisions, registry
from .bpmn import Flow, Node, ProcessGraph, catcher, subprocess_start

MAX_STEPS = 10_000  # a cycle of gateways and scripts with no wait would otherwise never end


class ProcessError(Conflict):
    """The definition cannot go on with this data (no exclusive branch applies, a loop without a wait).

    `reason` is a lazily translated message, shown in whichever language is active. It is a Conflict
    (409), so a step that cannot be completed is answered with the reason, never a server error,
    and the transaction it happened in changes nothing."""

    code = "process_error"

    def __init__(self, node_id: str, reason):
        self.node_id, self.reason = node_id, reason
        super().__init__(
            Formatted(
                _("The process cannot go on at step %(node)s: %(reason)s."),
                {"node": node_id, "reason": reason},
            )
        )

    def __str__(self) -> str:
        return f"{self.node_id}: {self.reason}"


@dataclass
class NewWork:
    node: Node
    assignees: list[str] = field(default_factory=list)  # countersign: one work item per entry
    count: int = 1  # a multi-instance task done by several at once: this many work items
    timers: list[Node] = field(default_factory=list)  # boundary timers on the step


@dataclass
class Effects:
    work: list[NewWork] = field(default_factory=list)
    calls: list[Node] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)  # nodes passed through, in order (for events)
    data: dict = field(default_factory=dict)  # updates to the case data
    token_delta: int = 0
    ended: int = 0  # tokens that reached an end event
    terminated: list[str] = field(default_factory=list)  # scopes a terminate end event ended ("" = all)
    waits: list[Node] = field(default_factory=list)  # timer and catch events now waiting
    # A wait in a race (after an event-based gateway, or one of several start events): the first of
    # the race to fire cancels the others. Wait node id → the race's key.
    races: dict[str, str] = field(default_factory=dict)
    listens: list[Node] = field(default_factory=list)  # event subprocesses now listening (no token)
    sent: list[tuple[str, str]] = field(default_factory=list)  # (thrower, "message:<name>" | "signal:<name>")
    follow: list[str] = field(default_factory=list)  # event subprocesses an error or escalation starts


def enter(
    graph: ProcessGraph,
    node_ids: list[str],
    data: dict,
    joins: dict[str, int],
    effects: Effects | None = None,
    *,
    scripts: bool = True,
) -> Effects:
    """Send one token into each of `node_ids` and run until all wait. `joins` is updated in place.

    Inside an embedded subprocess, `joins["<id>#inside"]` counts its tokens: a split adds, a join
    and an end event take away, and when none is left the subprocess's own outgoing flow is taken.
    `scripts=False` passes script tasks without calling them (a dry run that must not touch data)."""
    effects = effects or Effects()
    view = _DataView(data, effects.data)
    stack = list(reversed(node_ids))
    steps = 0
    while stack:
        steps += 1
        if steps > MAX_STEPS:
            raise ProcessError(stack[-1], _("the process loops without waiting for anyone"))
        node = graph.node(stack.pop())
        kind = node.kind
        if kind == "user":
            if node.test_before and not _loops_again(node, view, joins, first=True):
                stack.extend(reversed(_next(graph, node, view)))
                continue
            if _is_generic_mi(node):
                count = _instances(node, view)
                if node.mi_output:
                    effects.data[node.mi_output] = []  # the decisions of its instances, in order
                if count == 0:
                    stack.extend(reversed(_next(graph, node, view)))
                    continue
                if node.mi_sequential:
                    joins[f"{node.id}#done"], joins[f"{node.id}#of"] = 0, count
                    count = 1
                effects.work.append(NewWork(node, count=count, timers=timer_boundaries(graph, node.id)))
                effects.token_delta += 1
                continue
            effects.work.append(
                NewWork(node, _assignees(node, view), timers=timer_boundaries(graph, node.id))
            )
            effects.token_delta += 1
            continue
        if kind in ("timer", "catch"):
            effects.waits.append(node)
            effects.token_delta += 1
            continue
        if kind == "eventgw":
            effects.passed.append(node.id)
            for target in _targets(graph.outgoing[node.id]):
                effects.waits.append(graph.node(target))
                effects.races[target] = node.id
            effects.token_delta += 1  # one token, whichever event comes first
            continue
        if kind == "call":
            effects.calls.append(node)
            effects.token_delta += 1
            continue
        effects.passed.append(node.id)
        if node.throws == "send":
            effects.sent += [(node.id, trigger) for trigger in node.triggers]
            # the process's own event subprocesses hear its signals at once, while it still runs
            effects.follow += [
                n.id
                for n in graph.nodes.values()
                if n.kind == "eventsub"
                and any(t.startswith("signal:") and t in n.triggers for t in node.triggers)
            ]
        elif node.throws and kind != "boundary" and _throw(graph, node, joins, effects, stack):
            continue  # an interrupting boundary took over
        if kind == "end" and node.terminate:
            _terminate(graph, node.scope, joins, effects, stack)
            if node.scope:
                stack.extend(_targets(graph.outgoing[node.scope]))
            else:
                effects.ended += 1
            continue
        if kind == "end":
            if node.scope:
                stack.extend(_leave_scope(graph, node.scope, joins, view))
                if graph.node(node.scope).kind == "eventsub" and _inside(node.scope) not in joins:
                    effects.ended += 1  # the event subprocess is over; nothing follows it
            else:
                effects.ended += 1
            continue
        if kind == "script":
            if scripts:
                updates = registry.get(node.function)({"data": view.merged(), "node": node.id}) or {}
                effects.data.update(updates)
            stack.extend(reversed(_split(graph, node, joins)))
        elif kind == "rule":
            effects.data.update(_decide(graph, node, view))
            stack.extend(reversed(_split(graph, node, joins)))
        elif kind in ("pass", "boundary"):
            stack.extend(reversed(_split(graph, node, joins)))
        elif kind == "subprocess":
            count = _instances(node, view) if node.multi_instance else 1
            if count == 0:  # no instance at all: the subprocess is passed
                stack.extend(reversed(_split(graph, node, joins)))
                continue
            if node.multi_instance and node.mi_sequential:
                joins[f"{node.id}#done"], joins[f"{node.id}#of"] = 0, count
                count = 1
            joins[_inside(node.id)] = count  # the instances' tokens, counted together
            stack.extend([subprocess_start(graph, node.id)] * count)
        elif kind == "exclusive":
            stack.append(_choose(graph, node, view).target)
        elif kind == "inclusive":
            if len(graph.incoming[node.id]) > 1:
                arrived = joins.get(node.id, 0) + 1
                expected = joins.get(f"{node.id}#expect", 1)
                if arrived < expected:
                    joins[node.id] = arrived
                    effects.token_delta += 1
                    continue
                joins.pop(node.id, None)
                joins.pop(f"{node.id}#expect", None)
                effects.token_delta -= arrived - 1
                _count_inside(node.scope, joins, 1 - arrived)
            flows = _choose_all(graph, node, view)
            if node.pair:
                joins[f"{node.pair}#expect"] = len(flows)
            _count_inside(node.scope, joins, len(flows) - 1)
            stack.extend(reversed(_targets(flows)))
        elif kind == "parallel":
            incoming = len(graph.incoming[node.id])
            if incoming > 1:
                arrived = joins.get(node.id, 0) + 1
                if arrived < incoming:
                    joins[node.id] = arrived
                    effects.token_delta += 1  # waits at the join
                    continue
                joins.pop(node.id, None)
                effects.token_delta -= arrived - 1  # the tokens that waited here leave with this one
                _count_inside(node.scope, joins, 1 - arrived)
            targets = _targets(graph.outgoing[node.id])
            _count_inside(node.scope, joins, len(targets) - 1)
            stack.extend(reversed(targets))
        else:  # start
            stack.extend(reversed(_split(graph, node, joins)))
    return effects


def leave(
    graph: ProcessGraph,
    node_id: str,
    data: dict,
    joins: dict[str, int],
    decision: str = "",
    outputs: list | None = None,
) -> Effects:
    """A waiting step is done (its work item or child instance): its token moves on. `outputs` are
    the decisions of a parallel multi-instance group, in instance order (None: each took `decision`)."""
    effects = Effects(token_delta=-1)
    node = graph.node(node_id)
    view = _DataView(data, effects.data)
    if decision:
        effects.data["decision"] = decision
        effects.data[f"{node_id}_decision"] = decision
    if _is_generic_mi(node) and node.mi_output:
        if node.mi_sequential:
            collected = view.merged().get(node.mi_output)
            collected = list(collected) if isinstance(collected, list) else []
            effects.data[node.mi_output] = [*collected, decision or None]
        else:
            effects.data[node.mi_output] = list(outputs) if outputs is not None else [decision or None]
    if _is_generic_mi(node) and node.mi_sequential and _next_instance(node, view, joins):
        effects.work.append(NewWork(node, timers=timer_boundaries(graph, node.id)))
        effects.token_delta += 1
        return effects
    if (node.loop_condition is not None or node.loop_maximum is not None) and _loops_again(node, view, joins):
        effects.work.append(NewWork(node, _assignees(node, view), timers=timer_boundaries(graph, node.id)))
        effects.token_delta += 1
        return effects
    return enter(graph, _next(graph, node, view), data, joins, effects)


def _is_generic_mi(node: Node) -> bool:
    return node.multi_instance and node.countersign == "mi"


def _instances(node: Node, view: "_DataView") -> int:
    """How many times a multi-instance task is done: its loopCardinality, or the length of its list."""
    if node.mi_cardinality is not None:
        value = node.mi_cardinality.evaluate(view.merged())
        try:
            count = int(value)
        except (TypeError, ValueError):
            raise ProcessError(
                node.id, Formatted(_("loopCardinality gave %(value)s, not a number"), {"value": repr(value)})
            ) from None
    else:
        value = view.merged().get(node.collection)
        if not isinstance(value, list | tuple):
            raise ProcessError(
                node.id, Formatted(_("the list %(name)s is not in the case data"), {"name": node.collection})
            )
        count = len(value)
    if not 0 <= count <= 1000:
        raise ProcessError(
            node.id, Formatted(_("%(count)s instances: between 0 and 1000 are allowed"), {"count": count})
        )
    return count


def _next_instance(node: Node, view: "_DataView", joins: dict[str, int]) -> bool:
    """A sequential multi-instance task: whether another instance follows the one just done."""
    done = joins.get(f"{node.id}#done", 0) + 1
    total = joins.get(f"{node.id}#of", 1)
    finished = done >= total or (
        node.mi_completion is not None
        and node.mi_completion.evaluate(
            {
                **view.merged(),
                "nrOfInstances": total,
                "nrOfCompletedInstances": done,
                "nrOfActiveInstances": 0,
            }
        )
    )
    if finished:
        joins.pop(f"{node.id}#done", None)
        joins.pop(f"{node.id}#of", None)
        return False
    joins[f"{node.id}#done"] = done
    return True


def completion_holds(node: Node, data: dict, total: int, completed: int) -> bool:
    """A parallel multi-instance task's completionCondition, over the counts BPMN names."""
    variables = {
        "nrOfInstances": total,
        "nrOfCompletedInstances": completed,
        "nrOfActiveInstances": total - completed,
    }
    return node.mi_completion is not None and node.mi_completion.evaluate({**data, **variables})


def timer_boundaries(graph: ProcessGraph, node_id: str) -> list[Node]:
    return [
        n
        for n in graph.nodes.values()
        if n.kind == "boundary" and "timer" in n.triggers and n.attached == node_id
    ]


def fire_boundary(graph: ProcessGraph, boundary_id: str, data: dict, joins: dict[str, int]) -> Effects:
    """A boundary timer came due on a step that is still open. Interrupting: the step's token leaves by
    the boundary (the caller cancels the step); otherwise a new token leaves beside it."""
    boundary = graph.node(boundary_id)
    if boundary.interrupting:
        return enter(graph, [boundary.id], data, joins, Effects(token_delta=-1))
    _count_inside(boundary.scope, joins, 1)
    return enter(graph, [boundary.id], data, joins, Effects())


def _next(graph: ProcessGraph, node: Node, view: "_DataView") -> list[str]:
    outgoing = graph.outgoing[node.id]
    return [(_choose(graph, node, view) if len(outgoing) > 1 else outgoing[0]).target]


def _loops_again(node: Node, view: "_DataView", joins: dict[str, int], first: bool = False) -> bool:
    """A standard loop: run (again) while the condition holds, at most loopMaximum times in all.
    `joins["<id>#loop"]` counts the runs so far."""
    key = f"{node.id}#loop"
    done = 0 if first else joins.get(key, 1)
    holds = node.loop_condition is None or node.loop_condition.evaluate(view.merged())
    if holds and (node.loop_maximum is None or done < node.loop_maximum):
        joins[key] = done + 1
        return True
    joins.pop(key, None)
    return False


def scope_members(graph: ProcessGraph, scope: str) -> set[str]:
    """The nodes inside subprocess `scope` at any depth ("" : every node of the process)."""
    members = set()
    for node in graph.nodes.values():
        inner = node.scope
        while inner and inner != scope:
            inner = graph.nodes[inner].scope
        if not scope or (node.scope and inner == scope):
            members.add(node.id)
    return members


def _terminate(
    graph: ProcessGraph, scope: str, joins: dict[str, int], effects: Effects, stack: list[str]
) -> None:
    """A terminate end event: every other token of its (sub)process goes, those created in this very
    step (work, calls, tokens in flight, waits at joins) here; the persistence layer cancels the rest."""
    members = scope_members(graph, scope)
    kept = [w for w in effects.work if w.node.id not in members]
    effects.token_delta -= len(effects.work) - len(kept)
    effects.work = kept
    calls = [c for c in effects.calls if c.id not in members]
    effects.token_delta -= len(effects.calls) - len(calls)
    effects.calls = calls
    stack[:] = [node_id for node_id in stack if node_id not in members]
    for key in list(joins):
        node_id = key.split("#", 1)[0]
        if node_id in members or (scope and node_id == scope):
            value = joins.pop(key)
            if "#" not in key:
                effects.token_delta -= value  # tokens that waited at a join inside
    effects.terminated.append(scope)


def start(graph: ProcessGraph, data: dict) -> tuple[Effects, dict[str, int]]:
    """Start an instance: from its start event, or — when its start events wait for a message, a
    signal, a condition or a timer — waiting for the first of them. Its event subprocesses listen."""
    joins: dict[str, int] = {}
    starts = [n for n in graph.nodes.values() if n.kind == "start" and not n.scope]
    listens = [n for n in graph.nodes.values() if n.kind == "eventsub"]
    if starts and all(n.triggers for n in starts):
        effects = Effects(waits=list(starts), token_delta=1, listens=listens)
        if len(starts) > 1:
            effects.races = {n.id: "#start" for n in starts}
        return effects, joins
    effects = Effects(listens=listens)
    return enter(graph, [graph.start], data, joins, effects), joins


def catch(graph: ProcessGraph, node_id: str, data: dict, joins: dict[str, int]) -> Effects:
    """What a waiting catch event (or start event, or receive task) waited for has come: it goes on."""
    node = graph.node(node_id)
    effects = Effects(token_delta=-1)
    effects.passed.append(node.id)
    return enter(graph, _split(graph, node, joins), data, joins, effects)


def arrived(node: Node, trigger: str, joins: dict[str, int]) -> bool:
    """One of the triggers of a catching event has come: whether the event fires now (with
    parallelMultiple, only once all of them have come)."""
    if not node.all_triggers:
        return True
    joins[f"{node.id}#{trigger}"] = 1
    if all(f"{node.id}#{t}" in joins for t in node.triggers):
        for t in node.triggers:
            joins.pop(f"{node.id}#{t}", None)
        return True
    return False


def start_eventsub(graph: ProcessGraph, subprocess_id: str, data: dict, joins: dict[str, int]) -> Effects:
    """An event subprocess starts: a token from its start event (an interrupting one is started by the
    caller after it has ended everything else of the process)."""
    joins[_inside(subprocess_id)] = joins.get(_inside(subprocess_id), 0) + 1
    effects = Effects()
    effects.passed.append(subprocess_id)
    return enter(graph, [subprocess_start(graph, subprocess_id)], data, joins, effects)


def event_boundaries(graph: ProcessGraph, node_id: str) -> list[Node]:
    """Boundary events on a step that wait for a message, a signal or a condition."""
    return [
        n
        for n in graph.nodes.values()
        if n.kind == "boundary" and n.attached == node_id and any(t != "timer" for t in n.triggers)
    ]


def _inside(subprocess_id: str) -> str:
    return f"{subprocess_id}#inside"  # '#' cannot occur in a BPMN id, so no node's join counter clashes


def _count_inside(scope: str, joins: dict[str, int], delta: int) -> None:
    if scope and delta:
        joins[_inside(scope)] = joins.get(_inside(scope), 1) + delta


def _leave_scope(graph: ProcessGraph, scope: str, joins: dict[str, int], view: "_DataView") -> list[str]:
    """A token reached an end event of a subprocess: the last one out continues after it — or, in a
    subprocess whose instances run one after the other, starts the next instance."""
    left = joins.get(_inside(scope), 1) - 1
    if left > 0:
        joins[_inside(scope)] = left
        return []
    joins.pop(_inside(scope), None)
    node = graph.node(scope)
    if node.multi_instance and node.mi_sequential and _next_instance(node, view, joins):
        joins[_inside(scope)] = 1
        return [subprocess_start(graph, scope)]
    return _split(graph, node, joins)


def _split(graph: ProcessGraph, node: Node, joins: dict[str, int]) -> list[str]:
    """All flows out of `node`: several unconditioned ones are a parallel split."""
    targets = _targets(graph.outgoing[node.id])
    _count_inside(node.scope, joins, len(targets) - 1)
    return targets


def _throw(
    graph: ProcessGraph, node: Node, joins: dict[str, int], effects: Effects, stack: list[str]
) -> bool:
    """An error or escalation thrown inside a subprocess: the boundary event catching it starts a
    token; an interrupting one first ends the subprocess (True: the thrower's token is gone too)."""
    boundary = catcher(graph.nodes, node)
    if boundary is None:
        return False  # an escalation nobody catches changes nothing (BPMN 10.5.3)
    if boundary.kind == "eventsub":
        if boundary.interrupting:
            _terminate(graph, "", joins, effects, stack)
            effects.follow.append(boundary.id)
            return True
        effects.follow.append(boundary.id)
        return False
    if boundary.interrupting:
        _terminate(graph, boundary.attached, joins, effects, stack)
        stack.append(boundary.id)
        return True
    _count_inside(boundary.scope, joins, 1)  # one more token beside the subprocess
    stack.append(boundary.id)
    return False


def _decide(graph: ProcessGraph, node: Node, view: "_DataView") -> dict:
    """A business rule task: its decision over the case data, as updates to the case data."""
    if graph.decide is None:
        raise ProcessError(
            node.id,
            Formatted(
                _("no decision tables are available to evaluate “%(decision)s”"), {"decision": node.decision}
            ),
        )
    try:
        return graph.decide(node, view.merged())
    except decisions.DecisionFailed as exc:
        raise ProcessError(node.id, exc.reason) from None


def _targets(flows: list[Flow]) -> list[str]:
    return [f.target for f in flows]


def _choose(graph: ProcessGraph, node: Node, view: "_DataView") -> Flow:
    data = view.merged()
    default = None
    for flow in graph.outgoing[node.id]:
        if flow.id == node.default_flow:
            default = flow
        elif flow.condition is not None and flow.condition.evaluate(data):
            return flow
    if default is not None:
        return default
    raise ProcessError(node.id, _("no outgoing condition holds and there is no default flow"))


def _choose_all(graph: ProcessGraph, node: Node, view: "_DataView") -> list[Flow]:
    """An inclusive split: every flow whose condition holds, else the default flow."""
    data = view.merged()
    chosen = [
        f
        for f in graph.outgoing[node.id]
        if f.id != node.default_flow and (f.condition is None or f.condition.evaluate(data))
    ]
    if chosen:
        return chosen
    default = [f for f in graph.outgoing[node.id] if f.id == node.default_flow]
    if default:
        return default
    raise ProcessError(node.id, _("no outgoing condition holds and there is no default flow"))


def _assignees(node: Node, view: "_DataView") -> list[str]:
    if not node.multi_instance:
        return []
    value = view.merged().get(node.collection)
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not value:
        raise ProcessError(
            node.id, Formatted(_("the countersign list %(name)s is empty"), {"name": node.collection})
        )
    return [str(v).strip() for v in value]


class _DataView:
    """The case data as the engine sees it mid-step: stored data overlaid with this step's updates."""

    def __init__(self, data: dict, updates: dict):
        self.data, self.updates = data, updates

    def merged(self) -> dict:
        return {**self.data, **self.updates} if self.updates else self.data


# --- countersign (会签) --------------------------------------------------------------------------------


def countersign_outcome(rule: str, total: int, approvals: int, rejections: int) -> str | None:
    """ "approve" or "reject" once the group's outcome is settled, else None (keep waiting)."""
    if rule in ("every", "cc"):  # a multi-instance task: done when every instance is
        if approvals + rejections < total:
            return None
        return "reject" if rejections else "approve"
    if rule == "any":
        needed = 1
    elif rule == "all":
        needed = total
    else:
        needed = min(max(int(rule), 1), total)
    if approvals >= needed:
        return "approve"
    if total - rejections < needed:
        return "reject"
    return None
