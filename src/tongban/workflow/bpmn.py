"""Reading BPMN 2.0 process definitions safely into an executable graph.

Uploaded XML is untrusted: it is parsed with defusedxml (no entities, no external references),
capped in size and element count, and only the elements our engine executes are accepted — any
other flow element is reported rather than silently ignored. Script and service tasks may only
name a function from our registry (tongban.workflow.registry); inline script bodies are refused.
Conditions on sequence flows use the small safe language of tongban.workflow.expressions.

tongban extension attributes (namespace TB_NS) say who works on a user task and for how long:
  tb:department  department code (default: the item's implementing department)
  tb:role        role that may claim it (clerk, reviewer, section_head, …; default reviewer)
  tb:limitDays   working days the step may take (for 催办 reminders and escalation)
  tb:countersign on a multi-instance task: all | any | n-of-m as "2" (how many must approve)
  tb:collection  on a multi-instance task: the case data key listing the countersigners
  tb:function    on a script or service task: the registered function to call
Diagram interchange (bpmndi) is kept for the viewer and ignored by the engine.
"""

from dataclasses import dataclass, field

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Formatted

from . import expressions, registry

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
TB_NS = "https://tongban.dev/schema/bpmn"
MAX_BYTES = 1024 * 1024
MAX_ELEMENTS = 5000
ROLES = (
    "clerk",
    "reviewer",
    "section_head",
    "division_head",
    "bureau_head",
    "supervisor",
    "data_officer",
    "admin",
)

# Flow elements the engine executes (local names in the BPMN namespace).
NODE_KINDS = {
    "startEvent": "start",
    "endEvent": "end",
    "userTask": "user",
    "manualTask": "user",
    "task": "user",
    "scriptTask": "script",
    "serviceTask": "script",
    "exclusiveGateway": "exclusive",
    "parallelGateway": "parallel",
    "callActivity": "call",
}
# Elements inside a process that carry no behaviour of their own.
IGNORED = {
    "sequenceFlow",
    "laneSet",
    "lane",
    "textAnnotation",
    "association",
    "documentation",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
    "extensionElements",
    "incoming",
    "outgoing",
    "boundaryEvent",
}


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _tb(name: str) -> str:
    return f"{{{TB_NS}}}{name}"


@dataclass(frozen=True)
class Flow:
    id: str
    source: str
    target: str
    condition: expressions.Condition | None = None
    name: str = ""


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # start | end | user | script | exclusive | parallel | call
    name: str = ""
    department: str = ""
    role: str = "reviewer"
    limit_days: int | None = None
    function: str = ""
    called_process: str = ""
    default_flow: str = ""
    multi_instance: bool = False
    collection: str = ""
    countersign: str = "all"  # all | any | a number


@dataclass
class ProcessGraph:
    """An executable process: nodes by id, and outgoing / incoming flows of each node."""

    id: str
    name: str
    nodes: dict[str, Node]
    outgoing: dict[str, list[Flow]]
    incoming: dict[str, list[Flow]]
    start: str

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    @property
    def user_tasks(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == "user"]


@dataclass
class Problem:
    element: str
    code: str
    message: object


@dataclass
class ParseResult:
    processes: dict[str, ProcessGraph] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class BpmnError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.element}: {p.message}" for p in problems[:5]))


def parse(xml: bytes | str) -> ParseResult:
    """Every executable process of a BPMN document, or the problems that stop it from running."""
    result = ParseResult()
    data = xml.encode() if isinstance(xml, str) else xml
    if len(data) > MAX_BYTES:
        result.problems.append(Problem("document", "too_large", _("The BPMN file is larger than 1 MB.")))
        return result
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        result.problems.append(Problem("document", "unsafe", _("The BPMN file declares entities or a DTD.")))
        return result
    except ElementTree.ParseError as exc:
        result.problems.append(
            Problem(
                "document", "xml", Formatted(_("The file is not well-formed XML: %(e)s"), {"e": str(exc)})
            )
        )
        return result
    if sum(1 for _e in root.iter()) > MAX_ELEMENTS:
        result.problems.append(Problem("document", "too_large", _("The BPMN file has too many elements.")))
        return result
    if root.tag != _q("definitions"):
        result.problems.append(
            Problem("document", "not_bpmn", _("This is not a BPMN 2.0 definitions document."))
        )
        return result
    processes = root.findall(_q("process"))
    if not processes:
        result.problems.append(Problem("document", "no_process", _("The document has no process.")))
    for element in processes:
        graph = _parse_process(element, result.problems)
        if graph is not None:
            result.processes[graph.id] = graph
    return result


def parse_one(xml: bytes | str, process_id: str | None = None) -> ProcessGraph:
    result = parse(xml)
    if not result.ok:
        raise BpmnError(result.problems)
    if process_id is None:
        if len(result.processes) != 1:
            raise BpmnError([Problem("document", "ambiguous", _("Name the process to run."))])
        return next(iter(result.processes.values()))
    if process_id not in result.processes:
        raise BpmnError([Problem(process_id, "missing", _("No such process in the document."))])
    return result.processes[process_id]


def _int_attr(element, name: str, problems: list[Problem], element_id: str) -> int | None:
    value = element.get(_tb(name))
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 0 <= number <= 3650:
        problems.append(
            Problem(element_id, "limit", _("tb:limitDays must be a whole number of working days."))
        )
        return None
    return number


def _parse_process(element, problems: list[Problem]) -> ProcessGraph | None:
    process_id = element.get("id") or ""
    problems_before = len(problems)
    if not process_id:
        problems.append(Problem("process", "id", _("A process needs an id.")))
        return None
    nodes: dict[str, Node] = {}
    flows: list[Flow] = []
    defaults: dict[str, str] = {}
    for child in element:
        tag = child.tag.split("}", 1)[-1] if child.tag.startswith("{") else child.tag
        if not child.tag.startswith(f"{{{BPMN_NS}}}"):
            continue  # foreign extension elements
        element_id = child.get("id") or ""
        if tag == "sequenceFlow":
            flows.append(_parse_flow(child, problems))
            continue
        if tag in IGNORED:
            if tag == "boundaryEvent":
                problems.append(
                    Problem(
                        element_id or tag,
                        "unsupported",
                        _(
                            "Boundary events are not executed; give the task tb:limitDays for "
                            "reminders and escalation."
                        ),
                    )
                )
            continue
        if tag not in NODE_KINDS:
            problems.append(
                Problem(
                    element_id or tag,
                    "unsupported",
                    Formatted(_("The element %(tag)s is not supported."), {"tag": tag}),
                )
            )
            continue
        if not element_id:
            problems.append(Problem(tag, "id", _("Every flow element needs an id.")))
            continue
        if element_id in nodes:
            problems.append(Problem(element_id, "duplicate", _("This id is used twice.")))
            continue
        nodes[element_id] = _parse_node(child, NODE_KINDS[tag], element_id, problems)
        if child.get("default"):
            defaults[element_id] = child.get("default")
    graph = _assemble(process_id, element.get("name") or process_id, nodes, flows, defaults, problems)
    return graph if len(problems) == problems_before else None


def _parse_flow(child, problems: list[Problem]) -> Flow:
    flow_id = child.get("id") or "sequenceFlow"
    condition = None
    expression = child.find(_q("conditionExpression"))
    if expression is not None and (expression.text or "").strip():
        try:
            condition = expressions.compile_condition(expression.text)
        except expressions.ExpressionError as exc:
            problems.append(
                Problem(
                    flow_id, "condition", Formatted(_("The condition cannot be used: %(e)s"), {"e": str(exc)})
                )
            )
    return Flow(
        flow_id,
        child.get("sourceRef") or "",
        child.get("targetRef") or "",
        condition,
        child.get("name") or "",
    )


def _parse_node(child, kind: str, element_id: str, problems: list[Problem]) -> Node:
    attrs = {"id": element_id, "kind": kind, "name": child.get("name") or ""}
    if kind == "user":
        role = child.get(_tb("role")) or "reviewer"
        if role not in ROLES:
            problems.append(Problem(element_id, "role", _("tb:role names an unknown role.")))
        attrs.update(
            department=child.get(_tb("department")) or "",
            role=role,
            limit_days=_int_attr(child, "limitDays", problems, element_id),
        )
        loop = child.find(_q("multiInstanceLoopCharacteristics"))
        if loop is not None:
            countersign = child.get(_tb("countersign")) or loop.get(_tb("countersign")) or "all"
            if countersign not in ("all", "any") and not countersign.isdigit():
                problems.append(
                    Problem(element_id, "countersign", _("tb:countersign is all, any or a number."))
                )
            collection = child.get(_tb("collection")) or loop.get(_tb("collection")) or ""
            if not collection:
                problems.append(
                    Problem(
                        element_id,
                        "collection",
                        _("A multi-instance task needs tb:collection, the list of countersigners."),
                    )
                )
            attrs.update(multi_instance=True, countersign=countersign, collection=collection)
    elif kind == "script":
        if child.find(_q("script")) is not None:
            problems.append(
                Problem(
                    element_id,
                    "script",
                    _("Inline scripts are not allowed; name a registered function with tb:function."),
                )
            )
        function = child.get(_tb("function")) or ""
        if not registry.is_registered(function):
            problems.append(
                Problem(
                    element_id, "function", Formatted(_("Unknown function %(f)s."), {"f": function or "—"})
                )
            )
        attrs["function"] = function
    elif kind == "call":
        called = child.get("calledElement") or ""
        if not called:
            problems.append(Problem(element_id, "called", _("A call activity needs calledElement.")))
        attrs["called_process"] = called
    return Node(**attrs)


def _assemble(process_id, name, nodes, flows, defaults, problems) -> ProcessGraph:
    outgoing: dict[str, list[Flow]] = {n: [] for n in nodes}
    incoming: dict[str, list[Flow]] = {n: [] for n in nodes}
    for flow in flows:
        if flow.source not in nodes or flow.target not in nodes:
            problems.append(
                Problem(flow.id, "dangling", _("The flow connects an element that does not exist."))
            )
            continue
        outgoing[flow.source].append(flow)
        incoming[flow.target].append(flow)
    starts = [n for n in nodes.values() if n.kind == "start"]
    if len(starts) != 1:
        problems.append(Problem(process_id, "start", _("A process needs exactly one start event.")))
    if not any(n.kind == "end" for n in nodes.values()):
        problems.append(Problem(process_id, "end", _("A process needs an end event.")))
    for node in nodes.values():
        outs, ins = outgoing[node.id], incoming[node.id]
        if node.kind != "end" and not outs:
            problems.append(Problem(node.id, "dead_end", _("Nothing follows this element.")))
        if node.kind != "start" and not ins:
            problems.append(Problem(node.id, "unreachable", _("Nothing leads to this element.")))
        if node.kind == "start" and ins:
            problems.append(
                Problem(node.id, "start_incoming", _("A start event cannot have incoming flows."))
            )
        if node.kind == "parallel" and any(f.condition for f in outs):
            problems.append(
                Problem(node.id, "condition", _("Flows out of a parallel gateway take no conditions."))
            )
        if node.kind in ("exclusive", "user") and len(outs) > 1:
            unconditioned = [f for f in outs if f.condition is None and f.id != defaults.get(node.id)]
            if unconditioned:
                problems.append(
                    Problem(
                        node.id,
                        "condition",
                        _(
                            "When several flows leave an element, each needs a condition or must be "
                            "the default flow."
                        ),
                    )
                )
        if node.kind in ("start", "end", "script", "call") and len(outs) > 1:
            problems.append(Problem(node.id, "split", _("Use a gateway to split the flow.")))
    for node_id, default in defaults.items():
        if default not in {f.id for f in outgoing.get(node_id, [])}:
            problems.append(Problem(node_id, "default", _("The default flow must leave this element.")))
    nodes = {node_id: _with_default(node, defaults.get(node_id, "")) for node_id, node in nodes.items()}
    return ProcessGraph(process_id, name, nodes, outgoing, incoming, starts[0].id if starts else "")


def _with_default(node: Node, default: str) -> Node:
    if not default:
        return node
    return Node(**{**node.__dict__, "default_flow": default})
