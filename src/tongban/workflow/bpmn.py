"""Reading BPMN 2.0 process definitions safely into an executable graph.

Uploaded XML is untrusted: it is parsed with defusedxml (no entities, no external references),
capped in size and element count. Every element of BPMN's process vocabulary is recognised;
what our engine runs becomes part of the graph, and anything it does not run is refused with one
problem per root cause (naming the element, in zh-Hans and English) — never silently changed or
dropped. Flows into or out of a refused element raise no further problems of their own.

Processes marked isExecutable="false" (drawn models: the MIWG references, 流程地图) are read as
reference models: `ParseResult.references` lists what blocks their execution (the same problems,
plus lanes with no department), and they never run. Script and service tasks may only name a
function from our registry (tongban.workflow.registry); inline script bodies are refused.

Conditions on sequence flows are FEEL (tongban.rules). Documents written by tongban (declaring
the TB_NS namespace) may still use the older condition language of tongban.workflow.expressions,
so stored definitions keep working; any other language (JUEL, Python, …) is refused saying FEEL
is expected.

tongban extension attributes (namespace TB_NS) say who works on a user task and for how long:
  tb:department  department code (on a task or its lane; default: the item's department), or
                 "=key": the department whose code the subject's data holds under key
  tb:role        role that may claim it (clerk, reviewer, section_head, …; default reviewer)
  tb:limitDays   working days the step may take (for 催办 reminders and escalation)
  tb:countersign on a multi-instance task: all | any | n-of-m as "2" (how many must approve)
  tb:collection  on a multi-instance task: the case data key listing the countersigners
  tb:function    on a script or service task: the registered function to call
Diagram interchange (bpmndi) is kept for the viewer and ignored by the engine.
"""

import re
from dataclasses import dataclass, field

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tongban.core.errors import Formatted
from tongban.rules import FeelSyntaxError, compile_expression

from . import expressions, registry

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
TB_NS = "https://tongban.dev/schema/bpmn"
MAX_BYTES = 1024 * 1024
MAX_ELEMENTS = 20000
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

# Activities the engine runs, by local name.
TASKS = {
    "userTask": "user",
    "manualTask": "user",
    "task": "user",
    "scriptTask": "script",
    "serviceTask": "script",
    "callActivity": "call",
}
# Elements inside a process (or in an activity) that carry no behaviour of their own.
ARTIFACTS = {
    "laneSet",
    "textAnnotation",
    "association",
    "group",
    "documentation",
    "extensionElements",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
    "ioSpecification",
    "property",
    "incoming",
    "outgoing",
    "auditing",
    "monitoring",
    "categoryValueRef",
    "dataInputAssociation",
    "dataOutputAssociation",
    "resourceRole",
    "performer",
    "humanPerformer",
    "potentialOwner",
}
EVENTS = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")
EVENT_KINDS = {
    "timerEventDefinition": "timer",
    "messageEventDefinition": "message",
    "signalEventDefinition": "signal",
    "errorEventDefinition": "error",
    "escalationEventDefinition": "escalation",
    "conditionalEventDefinition": "conditional",
    "compensateEventDefinition": "compensation",
    "cancelEventDefinition": "cancel",
    "linkEventDefinition": "link",
    "terminateEventDefinition": "terminate",
}
ELEMENT_LABELS = {
    "startEvent": _("start event"),
    "endEvent": _("end event"),
    "intermediateCatchEvent": _("intermediate catch event"),
    "intermediateThrowEvent": _("intermediate throw event"),
    "boundaryEvent": _("boundary event"),
    "subProcess": _("subprocess"),
    "eventSubProcess": _("event subprocess"),
    "transaction": _("transaction"),
    "adHocSubProcess": _("ad-hoc subprocess"),
    "sendTask": _("send task"),
    "receiveTask": _("receive task"),
    "businessRuleTask": _("business rule task"),
    "inclusiveGateway": _("inclusive gateway"),
    "eventBasedGateway": _("event-based gateway"),
    "complexGateway": _("complex gateway"),
    "standardLoopCharacteristics": _("standard loop"),
    "multiInstanceLoopCharacteristics": _("multi-instance activity"),
    "choreographyTask": _("choreography task"),
    "task": _("task"),
    "userTask": _("user task"),
    "manualTask": _("manual task"),
    "scriptTask": _("script task"),
    "serviceTask": _("service task"),
    "callActivity": _("call activity"),
}
EVENT_LABELS = {
    "timer": pgettext_lazy("bpmn event", "timer"),
    "message": pgettext_lazy("bpmn event", "message"),
    "signal": pgettext_lazy("bpmn event", "signal"),
    "error": pgettext_lazy("bpmn event", "error"),
    "escalation": pgettext_lazy("bpmn event", "escalation"),
    "conditional": pgettext_lazy("bpmn event", "conditional"),
    "compensation": pgettext_lazy("bpmn event", "compensation"),
    "cancel": pgettext_lazy("bpmn event", "cancel"),
    "link": pgettext_lazy("bpmn event", "link"),
    "terminate": pgettext_lazy("bpmn event", "terminate"),
    "multiple": pgettext_lazy("bpmn event", "multiple"),
}


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _tb(name: str) -> str:
    return f"{{{TB_NS}}}{name}"


def _local(tag) -> str:
    return tag.split("}", 1)[-1] if isinstance(tag, str) and tag.startswith("{") else str(tag)


def _is_bpmn(element) -> bool:
    return isinstance(element.tag, str) and element.tag.startswith(f"{{{BPMN_NS}}}")


class FeelCondition:
    """A FEEL condition on a flow: it holds only when it is true (null, e.g. a missing value, is not).

    `names` are names of several words the condition may use (FEEL allows `Vacation Approval`)."""

    def __init__(self, source: str, names: frozenset[str] = frozenset()):
        self.source = source
        self.expression = compile_expression(source, names)

    def evaluate(self, data: dict) -> bool:
        try:
            return self.expression.holds(data)
        except Exception:  # a value FEEL cannot take makes the condition not hold
            return False

    def names(self) -> set[str]:
        return set(self.expression.names)


@dataclass(frozen=True)
class Flow:
    id: str
    source: str
    target: str
    condition: object | None = None  # expressions.Condition or FeelCondition: .evaluate(data)
    name: str = ""


@dataclass(frozen=True)
class Node:
    id: str
    # start | end | user | script | rule | exclusive | parallel | inclusive | call | subprocess | catch
    # | eventgw | eventsub | pass | timer | boundary | refused
    kind: str
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
    scope: str = ""  # the embedded subprocess the node belongs to ("" for the process itself)
    tag: str = ""  # the BPMN element it was read from
    role_in_flow: str = ""  # for a refused element: start | end | "" (keeps the structure checks quiet)
    terminate: bool = False  # an end event that ends its whole (sub)process at once
    pair: str = ""  # an inclusive split: the inclusive join where its branches meet
    loop_condition: object | None = None  # a standard loop: repeat while this holds
    loop_maximum: int | None = None
    test_before: bool = False
    mi_cardinality: object | None = None  # multi-instance: a FEEL expression giving how many
    mi_sequential: bool = False  # multi-instance: one after the other (else all at once)
    mi_completion: object | None = None  # multi-instance: done early when this holds
    mi_output: str = ""  # multi-instance: the case data key that collects the instances' decisions
    throws: str = ""  # an end or throw event: "error" | "escalation"; a boundary event: what it catches
    code: str = ""  # the error or escalation code thrown or caught ("" on a boundary: any)
    attached: str = ""  # a boundary event: the subprocess it is attached to
    interrupting: bool = True  # a boundary event: whether it ends the subprocess (or the step)
    seconds: float | None = None  # a timer event: how long it waits
    working_days: int | None = None  # a timer event: how many working days it waits
    # A catching event (intermediate catch, receive task, start event with a trigger, boundary, the
    # start of an event subprocess): what it waits for, as "message:<name>", "signal:<name>",
    # "conditional" or "timer"; with several, any one (all of them when `all_triggers`).
    triggers: tuple[str, ...] = ()
    all_triggers: bool = False
    event_condition: object | None = None  # a conditional event: it fires when this holds
    variable: str = ""  # a message or signal caught: the case data key its payload is kept under
    decision: str = ""  # a business rule task: the id of the DMN decision it evaluates
    result_variable: str = ""  # a business rule task: where the result goes ("" : outputs merged)
    result_mapping: str = ""  # a business rule task: camunda:mapDecisionResult, with a result variable


@dataclass
class ProcessGraph:
    """An executable process: nodes by id, and outgoing / incoming flows of each node."""

    id: str
    name: str
    nodes: dict[str, Node]
    outgoing: dict[str, list[Flow]]
    incoming: dict[str, list[Flow]]
    start: str
    # Evaluates a business rule task: (node, data) → process variable updates. Set by whoever runs
    # the graph (services: the stored decisions; the checker: the DMN files beside the BPMN file).
    decide: object = None

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
class ReferenceModel:
    """A process drawn to be read, not run (isExecutable="false"), with what blocks running it."""

    id: str
    name: str
    elements: int
    blockers: list[Problem]
    graph: ProcessGraph | None = None  # the structure, for conformance checks and as a starting point


@dataclass
class ParseResult:
    processes: dict[str, ProcessGraph] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    references: dict[str, ReferenceModel] = field(default_factory=dict)
    declared_executable: bool = False  # some process says isExecutable="true"

    @property
    def ok(self) -> bool:
        return not self.problems


class BpmnError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.element}: {p.message}" for p in problems[:5]))


def parse(xml: bytes | str, *, as_reference: bool = False) -> ParseResult:
    """Every executable process of a BPMN document, or the problems that stop it from running.

    Processes marked isExecutable="false" go to `references`; a document with nothing else is a
    problem for whoever wants to run it ("not_executable"). `as_reference` reads every process as
    a reference model (a drawing that does not say whether it is executable)."""
    result = ParseResult()
    root = _root(xml, result.problems)
    if root is None:
        return result
    processes = root.findall(_q("process"))
    if not processes:
        result.problems.append(Problem("document", "no_process", _("The document has no process.")))
    result.declared_executable = any(p.get("isExecutable") == "true" for p in processes)
    legacy = _declares_tb(xml)
    codes = _codes(root)
    language = root.get("expressionLanguage") or ""
    for element in processes:
        if as_reference or element.get("isExecutable") == "false":
            problems: list[Problem] = []
            graph = _parse_process(element, problems, legacy, language, reference=True, codes=codes)
            reference = ReferenceModel(
                element.get("id") or "process",
                element.get("name") or element.get("id") or "",
                sum(1 for _e in element.iter()),
                problems,
                graph,
            )
            result.references[reference.id] = reference
            continue
        graph = _parse_process(element, result.problems, legacy, language, codes=codes)
        if graph is not None:
            result.processes[graph.id] = graph
    if processes and not result.processes and not result.problems:
        result.problems.append(
            Problem(
                processes[0].get("id") or "process",
                "not_executable",
                _(
                    'The process is marked isExecutable="false": it is a drawn model, imported as a '
                    "reference model, not run."
                ),
            )
        )
    return result


def _declares_tb(xml: bytes | str) -> bool:
    return (TB_NS.encode() if isinstance(xml, bytes) else TB_NS) in xml


def _root(xml: bytes | str, problems: list[Problem]):
    data = xml.encode() if isinstance(xml, str) else xml
    if len(data) > MAX_BYTES:
        problems.append(Problem("document", "too_large", _("The BPMN file is larger than 1 MB.")))
        return None
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        problems.append(Problem("document", "unsafe", _("The BPMN file declares entities or a DTD.")))
        return None
    except ElementTree.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        problems.append(
            Problem(
                "document",
                "xml",
                Formatted(
                    _("The file is not well-formed XML (line %(line)s, column %(column)s)."),
                    {"line": line, "column": column + 1},
                ),
            )
        )
        return None
    if sum(1 for _e in root.iter()) > MAX_ELEMENTS:
        problems.append(Problem("document", "too_large", _("The BPMN file has too many elements.")))
        return None
    if root.tag != _q("definitions"):
        problems.append(Problem("document", "not_bpmn", _("This is not a BPMN 2.0 definitions document.")))
        return None
    return root


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


# --- one process -------------------------------------------------------------------------------------


@dataclass
class _Scope:
    """What a process collects while its elements (and those of embedded subprocesses) are read."""

    problems: list[Problem]
    legacy: bool
    language: str
    reference: bool
    nodes: dict[str, Node] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    defaults: dict[str, str] = field(default_factory=dict)
    lanes: dict[str, str] = field(default_factory=dict)  # node id → department of its lane
    refused: set[str] = field(default_factory=set)
    current: str = ""  # the subprocess whose elements are being read
    names: frozenset[str] = frozenset()  # names of several words a FEEL condition may use
    codes: dict[str, str] = field(default_factory=dict)  # error / escalation id → its code

    def refuse(
        self, element, element_id: str, code: str, message, role_in_flow: str = "", scope_id: str = ""
    ) -> None:
        """One problem for a root cause (none when `code` is empty: it was reported already); the
        element stays in the graph as a placeholder so flows around it raise nothing more."""
        if code:
            self.problems.append(Problem(element_id, code, message))
        self.refused.add(element_id)
        if element_id and element_id not in self.nodes:
            self.nodes[element_id] = Node(
                element_id,
                "refused",
                name=element.get("name") or "",
                tag=_local(element.tag),
                role_in_flow=role_in_flow,
                scope=scope_id or self.current,
            )


def _codes(root) -> dict[str, str]:
    """Error and escalation ids → their codes; "message#<id>" / "signal#<id>" → the name of that
    message or signal; "payload#<id>" → the tag of another engine's payload expression on it."""
    codes = {}
    for tag, attribute in (("error", "errorCode"), ("escalation", "escalationCode")):
        for element in root.findall(_q(tag)):
            if element.get("id"):
                codes[element.get("id")] = element.get(attribute) or element.get("id")
    for tag in ("message", "signal", "error", "escalation"):
        for element in root.findall(_q(tag)):
            element_id = element.get("id")
            if not element_id:
                continue
            codes[f"{tag}#{element_id}"] = (element.get("name") or element_id).strip()
            extensions = element.find(_q("extensionElements"))
            for extension in extensions if extensions is not None else ():
                if _local(extension.tag) in PAYLOAD_EXTENSIONS:
                    codes[f"payload#{element_id}"] = _local(extension.tag)
    return codes


# Another engine's expressions computing what a message, signal or error carries (Python in
# SpiffWorkflow's files): behaviour we would drop, so refused like scripts.
PAYLOAD_EXTENSIONS = {"payloadExpression", "messagePayload"}


def _parse_process(element, problems, legacy, language, reference=False, codes=None) -> ProcessGraph | None:
    process_id = element.get("id") or ""
    problems_before = len(problems)
    if not process_id:
        problems.append(Problem("process", "id", _("A process needs an id.")))
        return None
    scope = _Scope(problems, legacy, language, reference, names=_spaced_names(element), codes=codes or {})
    _duplicate_ids(element, problems)
    _read_lanes(element, scope, "")
    _parse_elements(element, scope, "")
    graph = _assemble(process_id, element.get("name") or process_id, scope)
    if reference:
        return graph
    return graph if len(problems) == problems_before else None


def _duplicate_ids(element, problems: list[Problem]) -> None:
    seen: set[str] = set()
    reported: set[str] = set()
    for child in element.iter():
        element_id = child.get("id") if _is_bpmn(child) else None
        if element_id and element_id in seen and element_id not in reported:
            problems.append(Problem(element_id, "duplicate", _("This id is used twice.")))
            reported.add(element_id)
        elif element_id:
            seen.add(element_id)


SCRIPT_EXTENSIONS = {
    "preScript",
    "postScript",
    "script",
    "executionListener",
    "taskListener",
    "messagePayload",
}


def _foreign_scripts(child, element_id: str, scope: _Scope) -> None:
    """Extension elements that run another engine's code (SpiffWorkflow's pre/post-scripts,
    Camunda's listeners) carry execution semantics we would silently drop: refuse them."""
    extensions = child.find(_q("extensionElements"))
    if extensions is None:
        return
    for extension in extensions:
        name = _local(extension.tag)
        if name in SCRIPT_EXTENSIONS:
            scope.problems.append(
                Problem(
                    element_id,
                    "script",
                    Formatted(
                        _(
                            "“%(name)s” carries a script for another engine (%(extension)s); "
                            "tongban runs no scripts."
                        ),
                        {"name": child.get("name") or element_id, "extension": name},
                    ),
                )
            )
            return


def _spaced_names(element) -> frozenset[str]:
    """Names of the process's elements that hold spaces: a decision's or data object's name may be
    a FEEL name of several words in a condition (`Vacation Approval = "Approved"`)."""
    names = {e.get("name").strip() for e in element.iter() if " " in (e.get("name") or "").strip()}
    return frozenset(n for n in names if "\n" not in n and len(n) <= 60)


def _read_lanes(element, scope: _Scope, inherited: str) -> None:
    """Lanes may name the department of the tasks in them; a drawn model's lanes must, to run."""
    for lane_set in element.findall(_q("laneSet")) + element.findall(_q("childLaneSet")):
        for lane in lane_set.findall(_q("lane")):
            department = lane.get(_tb("department")) or inherited
            children = lane.find(_q("childLaneSet"))
            if not department and scope.reference and children is None:
                scope.problems.append(
                    Problem(
                        lane.get("id") or "lane",
                        "lane_department",
                        Formatted(
                            _("The lane “%(name)s” names no department (tb:department)."),
                            {"name": lane.get("name") or lane.get("id") or ""},
                        ),
                    )
                )
            for ref in lane.findall(_q("flowNodeRef")):
                if department and (ref.text or "").strip():
                    scope.lanes.setdefault(ref.text.strip(), department)
            if children is not None:
                _read_lanes(lane, scope, department)


LOOPS = {"multiInstanceLoopCharacteristics", "standardLoopCharacteristics"}


def _parse_elements(container, scope: _Scope, scope_id: str) -> None:
    for child in container:
        if not _is_bpmn(child):
            continue  # foreign extension elements
        tag = _local(child.tag)
        element_id = child.get("id") or ""
        if tag == "sequenceFlow":
            scope.flows.append(_parse_flow(child, scope))
            continue
        if tag in ARTIFACTS or tag in LOOPS:  # a subprocess's own loop is read with the subprocess
            continue
        if not element_id:
            scope.problems.append(Problem(tag, "id", _("Every flow element needs an id.")))
            continue
        if element_id in scope.nodes:
            continue  # reported once by _duplicate_ids
        _foreign_scripts(child, element_id, scope)
        node = _parse_node(child, tag, element_id, scope, scope_id)
        if node is None:
            continue
        scope.nodes[element_id] = node
        if child.get("default"):
            scope.defaults[element_id] = child.get("default")
        if node.kind in ("subprocess", "eventsub"):
            outer, scope.current = scope.current, element_id
            _parse_elements(child, scope, element_id)
            scope.current = outer


def _unsupported(child, tag: str, element_id: str, scope: _Scope, what=None, role_in_flow: str = "") -> None:
    label = what if what is not None else ELEMENT_LABELS.get(tag, tag)
    scope.refuse(
        child,
        element_id,
        "unsupported",
        Formatted(
            _("The %(what)s “%(name)s” is not run by tongban."),
            {"what": label, "name": child.get("name") or element_id},
        ),
        role_in_flow,
    )


DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def _timer_wait(child, element_id: str, scope: "_Scope", role: str) -> dict | None:
    """How long a timer waits: tb:workingDays (working days, by the calendar of 催办), or an ISO 8601
    timeDuration in weeks, days, hours, minutes and seconds. Dates, cycles and calendar months or
    years are refused."""
    definition = child.find(_q("timerEventDefinition"))
    working = child.get(_tb("workingDays")) or (
        definition.get(_tb("workingDays")) if definition is not None else None
    )
    if working:
        if working.isdigit() and 0 < int(working) <= 3650:
            return {"working_days": int(working)}
        scope.refuse(
            child, element_id, "timer", _("tb:workingDays must be a whole number of working days."), role
        )
        return None
    duration = definition.find(_q("timeDuration")) if definition is not None else None
    text = (duration.text or "").strip() if duration is not None else ""
    text = text.removeprefix("=").strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()  # a string literal (FEEL, or Python in SpiffWorkflow's files)
    match = DURATION.match(text) if text not in ("", "P", "PT") else None
    if match is None:
        scope.refuse(
            child,
            element_id,
            "timer",
            Formatted(
                _(
                    "The timer “%(name)s” must wait for a duration (ISO 8601, such as P3D or PT2H) or "
                    "tb:workingDays; “%(text)s” is neither."
                ),
                {"name": child.get("name") or element_id, "text": text or "—"},
            ),
            role,
        )
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    seconds = (
        parts.get("weeks", 0) * 604800
        + parts.get("days", 0) * 86400
        + parts.get("hours", 0) * 3600
        + parts.get("minutes", 0) * 60
        + parts.get("seconds", 0)
    )
    return {"seconds": seconds}


CATCHES = {
    "intermediateCatchEvent": ("message", "signal", "conditional", "timer"),
    "boundaryEvent": ("message", "signal", "conditional", "timer"),
    "startEvent": ("message", "signal", "conditional", "timer"),
    "eventSubProcess": ("message", "signal", "conditional", "timer", "error", "escalation"),
}


def _catching(child, tag: str, element_id: str, scope: "_Scope", scope_id: str, role: str, common: dict):
    """An event that waits for a message, a signal, a condition or a timer (or, starting an event
    subprocess, an error or escalation): an intermediate catch event, a boundary event, a start event."""
    container = scope.nodes.get(scope_id)
    in_eventsub = container is not None and container.kind == "eventsub"
    if tag == "startEvent" and scope_id and not in_eventsub:
        what = Formatted(
            _("%(event)s %(element)s inside a subprocess"),
            {"event": EVENT_LABELS[_event_kind(child)], "element": ELEMENT_LABELS[tag]},
        )
        _unsupported(child, tag, element_id, scope, what, role_in_flow=role)
        return None
    allowed = CATCHES["eventSubProcess" if in_eventsub else tag]
    triggers: list[str] = []
    attrs: dict = {}
    for definition in child:
        if not _is_bpmn(definition):
            continue
        local = _local(definition.tag)
        event = EVENT_KINDS.get(local, "")
        if local == "eventDefinitionRef" or (event and event not in allowed):
            what = Formatted(
                _("%(event)s %(element)s"),
                {
                    "event": EVENT_LABELS.get(event or "message", event),
                    "element": ELEMENT_LABELS["eventSubProcess" if in_eventsub else tag],
                },
            )
            _unsupported(child, tag, element_id, scope, what, role_in_flow=role)
            return None
        if event in ("message", "signal"):
            ref = definition.get(f"{event}Ref") or ""
            extensions = definition.find(_q("extensionElements"))
            foreign = [
                _local(e.tag)
                for e in (extensions if extensions is not None else ())
                if _local(e.tag) in PAYLOAD_EXTENSIONS
            ]
            if foreign:
                _payload_refused(child, element_id, scope, foreign[0], role)
                return None
            if ref and f"payload#{ref}" in scope.codes:
                _payload_refused(child, element_id, scope, scope.codes[f"payload#{ref}"], role, ref, event)
                return None
            triggers.append(f"{event}:{scope.codes.get(f'{event}#{ref}', ref)}")
            attrs["variable"] = attrs.get("variable") or _message_variable(definition)
        elif event == "conditional":
            condition = definition.find(_q("condition"))
            if condition is None or not (condition.text or "").strip() or "event_condition" in attrs:
                scope.refuse(
                    child,
                    element_id,
                    "conditional",
                    Formatted(
                        _("The conditional event “%(name)s” needs one condition (FEEL)."),
                        {"name": child.get("name") or element_id},
                    ),
                    role,
                )
                return None
            compiled = _condition(element_id, condition, scope)
            if compiled is None:
                scope.refuse(child, element_id, "", None, role)  # the condition's problem is the root cause
                return None
            attrs["event_condition"] = compiled
            triggers.append("conditional")
        elif event == "timer":
            if "timer" in triggers:
                continue
            wait = _timer_wait(child, element_id, scope, role)
            if wait is None:
                return None
            attrs.update(wait)
            triggers.append("timer")
        elif event in ("error", "escalation"):
            attrs.update(throws=event, code=_thrown_code(child, event, scope))
            triggers.append(event)
    attrs["triggers"] = tuple(triggers)
    attrs["all_triggers"] = child.get("parallelMultiple") == "true" and len(triggers) > 1
    if tag == "boundaryEvent":
        return Node(
            kind="boundary",
            throws=attrs.pop("throws", "")
            or ("multiple" if len(triggers) > 1 else triggers[0].split(":")[0]),
            attached=child.get("attachedToRef") or "",
            interrupting=child.get("cancelActivity") != "false",
            **attrs,
            **common,
        )
    if tag == "startEvent":
        return Node(kind="start", interrupting=child.get("isInterrupting") != "false", **attrs, **common)
    return Node(kind="catch", **attrs, **common)


def _sent(child, element_id: str, scope: "_Scope", role: str) -> tuple[str, ...] | None:
    """What a message or signal throw event (or end event) sends."""
    sent = []
    for definition in child:
        local = _local(definition.tag) if _is_bpmn(definition) else ""
        event = EVENT_KINDS.get(local, "")
        if local == "eventDefinitionRef" or (event and event not in ("message", "signal")):
            _unsupported(child, _local(child.tag), element_id, scope, role_in_flow=role)
            return None
        if not event:
            continue
        ref = definition.get(f"{event}Ref") or ""
        extensions = definition.find(_q("extensionElements"))
        foreign = [
            _local(e.tag)
            for e in (extensions if extensions is not None else ())
            if _local(e.tag) in PAYLOAD_EXTENSIONS
        ]
        if foreign:
            _payload_refused(child, element_id, scope, foreign[0], role)
            return None
        if ref and f"payload#{ref}" in scope.codes:
            _payload_refused(child, element_id, scope, scope.codes[f"payload#{ref}"], role, ref, event)
            return None
        sent.append(f"{event}:{scope.codes.get(f'{event}#{ref}', ref)}")
    return tuple(sent)


def _payload_refused(
    child, element_id: str, scope: "_Scope", extension: str, role: str = "", ref: str = "", event: str = ""
) -> None:
    """Another engine's payload expression: on the event itself, or on the message or signal `ref` it
    sends or catches — then reported once, on that message or signal, however many events use it."""
    if ref:
        if any(p.element == ref and p.code == "script" for p in scope.problems):
            scope.refuse(child, element_id, "", None, role)  # reported already, on the message or signal
            return
        scope.problems.append(
            Problem(
                ref,
                "script",
                Formatted(
                    _(
                        "“%(name)s” carries a script for another engine (%(extension)s); "
                        "tongban runs no scripts."
                    ),
                    {"name": scope.codes.get(f"{event}#{ref}", ref), "extension": extension},
                ),
            )
        )
        scope.refuse(child, element_id, "", None, role)
        return
    scope.refuse(
        child,
        element_id,
        "script",
        Formatted(
            _("“%(name)s” carries a script for another engine (%(extension)s); tongban runs no scripts."),
            {"name": child.get("name") or element_id, "extension": extension},
        ),
        role,
    )


def _message_variable(element) -> str:
    """The case data key a caught message's payload goes to (SpiffWorkflow's messageVariable)."""
    extensions = element.find(_q("extensionElements"))
    for extension in extensions if extensions is not None else ():
        if _local(extension.tag) == "messageVariable" and (extension.text or "").strip():
            name = extension.text.strip()
            if name.replace("_", "").isalnum():
                return name
    return ""


def _thrown_code(child, event: str, scope: "_Scope") -> str:
    """The errorCode / escalationCode an event definition refers to ("" when it names none)."""
    definition = child.find(_q(f"{event}EventDefinition"))
    ref = definition.get(f"{event}Ref") if definition is not None else None
    return scope.codes.get(ref, ref) if ref else ""


def _event_kind(child) -> str:
    kinds = [EVENT_KINDS[_local(c.tag)] for c in child if _is_bpmn(c) and _local(c.tag) in EVENT_KINDS]
    kinds += ["message" for c in child if _is_bpmn(c) and _local(c.tag) == "eventDefinitionRef"]
    if len(kinds) > 1:
        return "multiple"
    return kinds[0] if kinds else ""


def _parse_node(child, tag: str, element_id: str, scope: _Scope, scope_id: str) -> Node | None:
    name = child.get("name") or ""
    common = {"id": element_id, "name": name, "scope": scope_id, "tag": tag}
    if tag in EVENTS:
        event = _event_kind(child)
        role = {"startEvent": "start", "endEvent": "end"}.get(tag, "")
        if tag == "boundaryEvent":
            role = "boundary"
        if not event and tag in ("startEvent", "endEvent"):
            return Node(kind=role, **common)
        if event == "terminate" and tag == "endEvent":
            return Node(kind="end", terminate=True, **common)
        if not event and tag == "intermediateThrowEvent":
            return Node(kind="pass", **common)  # a milestone: the token passes through
        if event == "timer" and tag in ("boundaryEvent", "intermediateCatchEvent"):
            wait = _timer_wait(child, element_id, scope, role)
            if wait is None:
                return None
            if tag == "intermediateCatchEvent":
                return Node(kind="timer", throws="timer", **wait, **common)
            return Node(
                kind="boundary",
                throws="timer",
                triggers=("timer",),
                attached=child.get("attachedToRef") or "",
                interrupting=child.get("cancelActivity") != "false",
                **wait,
                **common,
            )
        if event == "link" and tag in ("intermediateThrowEvent", "intermediateCatchEvent"):
            definition = child.find(_q("linkEventDefinition"))
            link = (definition.get("name") or "") if definition is not None else ""
            return Node(
                kind="pass", throws="link" if tag == "intermediateThrowEvent" else "", code=link, **common
            )
        if tag in ("startEvent", "intermediateCatchEvent", "boundaryEvent") and (
            event in ("message", "signal", "conditional", "multiple")
            or (tag == "startEvent" and event in ("timer", "error", "escalation"))
        ):
            return _catching(child, tag, element_id, scope, scope_id, role, common)
        if tag in ("intermediateThrowEvent", "endEvent") and event in ("message", "signal", "multiple"):
            sent = _sent(child, element_id, scope, role)
            if sent is None:
                return None
            kind = "end" if tag == "endEvent" else "pass"
            return Node(kind=kind, throws="send", triggers=sent, **common)
        thrown = {"endEvent": ("error", "escalation"), "intermediateThrowEvent": ("escalation",)}
        if event in thrown.get(tag, ()):
            kind = "end" if tag == "endEvent" else "pass"
            return Node(kind=kind, throws=event, code=_thrown_code(child, event, scope), **common)
        if tag == "boundaryEvent" and event in ("error", "escalation"):
            return Node(
                kind="boundary",
                throws=event,
                code=_thrown_code(child, event, scope),
                attached=child.get("attachedToRef") or "",
                interrupting=event == "error" or child.get("cancelActivity") != "false",
                **common,
            )
        what = Formatted(
            _("%(event)s %(element)s"),
            {"event": EVENT_LABELS.get(event, event or "—"), "element": ELEMENT_LABELS[tag]},
        )
        _unsupported(child, tag, element_id, scope, what, role_in_flow=role)
        return None
    if tag == "subProcess":
        if child.get("triggeredByEvent") == "true":
            if scope_id or _loop(child, element_id, scope, "eventSubProcess"):
                what = Formatted(
                    _("%(element)s inside a subprocess"), {"element": ELEMENT_LABELS["eventSubProcess"]}
                )
                if scope_id:
                    _unsupported(child, "eventSubProcess", element_id, scope, what, role_in_flow="boundary")
                return None
            return Node(kind="eventsub", **common)
        loop = child.find(_q("multiInstanceLoopCharacteristics"))
        if loop is not None and child.find(_q("standardLoopCharacteristics")) is None:
            attrs = _subprocess_instances(child, loop, element_id, scope)
            if attrs is None:
                return None
            return Node(kind="subprocess", **attrs, **common)
        if _loop(child, element_id, scope, tag):
            return None
        return Node(kind="subprocess", **common)
    if tag in ("exclusiveGateway", "parallelGateway", "inclusiveGateway"):
        return Node(kind=tag.removesuffix("Gateway"), **common)
    if tag == "eventBasedGateway":
        if child.get("instantiate") == "true" or child.get("eventGatewayType") == "Parallel":
            what = Formatted(
                _("%(element)s that starts the process"), {"element": ELEMENT_LABELS["eventBasedGateway"]}
            )
            _unsupported(child, tag, element_id, scope, what)
            return None
        return Node(kind="eventgw", **common)
    if tag in ("sendTask", "receiveTask"):
        if _loop(child, element_id, scope, tag):
            return None
        ref = child.get("messageRef") or ""
        if not ref:
            scope.refuse(
                child,
                element_id,
                "message",
                Formatted(
                    _("The %(element)s “%(name)s” names no message (messageRef)."),
                    {"element": ELEMENT_LABELS[tag], "name": child.get("name") or element_id},
                ),
            )
            return None
        if f"payload#{ref}" in scope.codes:
            _payload_refused(child, element_id, scope, scope.codes[f"payload#{ref}"], "", ref, "message")
            return None
        name = scope.codes.get(f"message#{ref}", ref)
        if tag == "sendTask":
            return Node(kind="pass", throws="send", triggers=(f"message:{name}",), **common)
        return Node(kind="catch", triggers=(f"message:{name}",), variable=_message_variable(child), **common)
    if tag == "businessRuleTask":
        if _loop(child, element_id, scope, tag):
            return None
        return _business_rule(child, element_id, scope, common)
    if tag in TASKS:
        kind = TASKS[tag]
        countersign = kind == "user" and child.find(_q("multiInstanceLoopCharacteristics")) is not None
        standard = child.find(_q("standardLoopCharacteristics"))
        if kind == "user" and standard is not None:
            loop = _standard_loop(child, standard, element_id, scope)
            if loop is None:
                return None
            return _parse_task(child, kind, {**common, **loop}, scope)
        if not countersign and _loop(child, element_id, scope, tag):
            return None
        return _parse_task(child, kind, common, scope)
    if tag in ELEMENT_LABELS:
        _unsupported(child, tag, element_id, scope)
        return None
    _unsupported(child, tag, element_id, scope, what=tag)
    return None


CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
DECISION_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,119}")
# Camunda 7 runs a business rule task with its own Java or JUEL code: refused, never dropped.
FOREIGN_RULE_ATTRIBUTES = ("class", "expression", "delegateExpression")


def _business_rule(child, element_id: str, scope: _Scope, common: dict) -> Node | None:
    """A business rule task evaluates a DMN decision named by tb:decision, camunda:decisionRef,
    spiffworkflow:calledDecisionId or zeebe:calledDecision; the decision itself is looked up when
    the process is published or checked (`missing_decisions`)."""
    name = child.get("name") or element_id
    extensions = child.find(_q("extensionElements"))
    extension = {_local(e.tag): e for e in (extensions if extensions is not None else ())}
    foreign = [a for a in FOREIGN_RULE_ATTRIBUTES if child.get(f"{{{CAMUNDA_NS}}}{a}")]
    if foreign:  # Java or JUEL of Camunda 7
        scope.refuse(
            child,
            element_id,
            "script",
            Formatted(
                _("“%(name)s” carries a script for another engine (%(extension)s); tongban runs no scripts."),
                {"name": name, "extension": f"camunda:{foreign[0]}"},
            ),
        )
        return None
    worker = (
        "zeebe:taskDefinition" if "taskDefinition" in extension and "calledDecision" not in extension else ""
    )
    worker = worker or ("camunda:topic" if child.get(f"{{{CAMUNDA_NS}}}topic") else "")
    if worker:
        scope.refuse(
            child,
            element_id,
            "decision",
            Formatted(
                _(
                    "The business rule task “%(name)s” is done by a worker of another engine (%(worker)s); "
                    "tongban evaluates a DMN decision named by camunda:decisionRef, "
                    "spiffworkflow:calledDecisionId, zeebe:calledDecision or tb:decision."
                ),
                {"name": name, "worker": worker},
            ),
        )
        return None
    called = extension.get("calledDecision")
    spiff = extension.get("calledDecisionId")
    decision = (
        child.get(_tb("decision"))
        or child.get(f"{{{CAMUNDA_NS}}}decisionRef")
        or ((spiff.text or "").strip() if spiff is not None else "")
        or (called.get("decisionId") or "" if called is not None else "")
    ).strip()
    result_variable = (
        (called.get("resultVariable") or "" if called is not None else "")
        or child.get(f"{{{CAMUNDA_NS}}}resultVariable")
        or ""
    ).strip()
    mapping = ""
    if child.get(f"{{{CAMUNDA_NS}}}resultVariable"):
        mapping = child.get(f"{{{CAMUNDA_NS}}}mapDecisionResult") or "resultList"
    binding = child.get(f"{{{CAMUNDA_NS}}}decisionRefBinding") or "latest"
    problem = None
    if not decision:
        problem = Formatted(
            _(
                "The business rule task “%(name)s” names no decision (camunda:decisionRef, "
                "spiffworkflow:calledDecisionId, zeebe:calledDecision or tb:decision)."
            ),
            {"name": name},
        )
    elif not DECISION_ID.fullmatch(decision):
        problem = Formatted(
            _(
                "The business rule task “%(name)s” calls the decision “%(decision)s”: tongban expects a "
                "decision id, not an expression."
            ),
            {"name": name, "decision": decision},
        )
    elif result_variable and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,119}", result_variable):
        problem = Formatted(
            _("The business rule task “%(name)s” keeps its result in “%(variable)s”, which is not a name."),
            {"name": name, "variable": result_variable},
        )
    elif mapping and mapping not in ("singleEntry", "singleResult", "collectEntries", "resultList"):
        problem = Formatted(
            _(
                "The business rule task “%(name)s” maps its result with “%(mapping)s”, which is not a "
                "camunda:mapDecisionResult."
            ),
            {"name": name, "mapping": mapping},
        )
    elif binding != "latest":
        problem = Formatted(
            _(
                "The business rule task “%(name)s” binds its decision by %(binding)s; tongban evaluates the "
                "latest published version."
            ),
            {"name": name, "binding": binding},
        )
    if problem is not None:
        scope.refuse(child, element_id, "decision", problem)
        return None
    return Node(
        kind="rule", decision=decision, result_variable=result_variable, result_mapping=mapping, **common
    )


def missing_decisions(result: ParseResult, known) -> list[Problem]:
    """Business rule tasks whose decision is not among `known` (ids): one problem each."""
    problems = []
    for graph in result.processes.values():
        for node in graph.nodes.values():
            if node.kind == "rule" and node.decision not in known:
                problems.append(
                    Problem(
                        node.id,
                        "decision_missing",
                        Formatted(
                            _(
                                "The business rule task “%(name)s” calls the decision “%(decision)s”, "
                                "which is neither published nor in a DMN file given with it."
                            ),
                            {"name": node.name or node.id, "decision": node.decision},
                        ),
                    )
                )
    return problems


def _standard_loop(child, loop, element_id: str, scope: _Scope) -> dict | None:
    """A user task repeated while loopCondition (FEEL) holds, at most loopMaximum times."""
    maximum = loop.get("loopMaximum")
    condition = None
    expression = loop.find(_q("loopCondition"))
    if expression is not None and (expression.text or "").strip():
        condition = _condition(element_id, expression, scope)
        if condition is None:
            scope.refuse(child, element_id, "", None)  # the condition's problem is the root cause
            return None
    if maximum is not None and not maximum.strip().isdigit():
        scope.problems.append(Problem(element_id, "loop", _("loopMaximum must be a whole number.")))
        return None
    if condition is None and maximum is None:
        scope.refuse(
            child,
            element_id,
            "loop",
            Formatted(
                _(
                    "The standard loop on “%(name)s” has neither a loopCondition nor a loopMaximum: "
                    "it would never end."
                ),
                {"name": child.get("name") or element_id},
            ),
        )
        return None
    return {
        "loop_condition": condition,
        "loop_maximum": int(maximum) if maximum is not None else None,
        "test_before": loop.get("testBefore") == "true",
    }


def _multi_instance(child, loop, element_id: str, scope: _Scope) -> dict:
    """A user task done several times: loopCardinality (FEEL) many, or once per entry of a list in
    the case data (loopDataInputRef, or Camunda's collection); all at once or one after the other,
    ending early when completionCondition holds."""
    attrs: dict = {
        "multi_instance": True,
        "countersign": "mi",
        "mi_sequential": loop.get("isSequential") == "true",
    }
    cardinality = loop.find(_q("loopCardinality"))
    reference = loop.find(_q("loopDataInputRef"))
    collection = (reference.text or "").strip() if reference is not None else ""
    collection = collection or loop.get("{http://camunda.org/schema/1.0/bpmn}collection") or ""
    output = loop.find(_q("loopDataOutputRef"))
    output = (output.text or "").strip() if output is not None else ""
    if output and output.replace("_", "").replace(".", "").isalnum():
        attrs["mi_output"] = output  # the instances' decisions, in instance order
    elif output:
        scope.problems.append(
            Problem(
                element_id,
                "collection",
                Formatted(
                    _(
                        "The multi-instance task “%(name)s” collects its outputs into “%(output)s”, "
                        "not a name."
                    ),
                    {"name": child.get("name") or element_id, "output": output},
                ),
            )
        )
    if cardinality is not None and (cardinality.text or "").strip() and collection:
        scope.problems.append(
            Problem(
                element_id,
                "collection",
                Formatted(
                    _(
                        "The multi-instance task “%(name)s” gives both a loopCardinality and a list: "
                        "give one."
                    ),
                    {"name": child.get("name") or element_id},
                ),
            )
        )
    elif cardinality is not None and (cardinality.text or "").strip():
        text = cardinality.text.strip().removeprefix("=").strip()
        try:
            attrs["mi_cardinality"] = compile_expression(text, scope.names)
        except FeelSyntaxError as exc:
            scope.problems.append(
                Problem(
                    element_id,
                    "condition_syntax",
                    Formatted(
                        _(
                            "The loopCardinality “%(expression)s” is not FEEL: %(problem)s at position "
                            "%(position)s."
                        ),
                        {"expression": text, "problem": exc.problem, "position": exc.position},
                    ),
                )
            )
    elif collection and collection.replace("_", "").replace(".", "").isalnum():
        attrs["collection"] = collection
    else:
        scope.problems.append(
            Problem(
                element_id,
                "collection",
                Formatted(
                    _(
                        "The multi-instance task “%(name)s” needs a loopCardinality or a list in the case "
                        "data."
                    ),
                    {"name": child.get("name") or element_id},
                ),
            )
        )
    completion = loop.find(_q("completionCondition"))
    if completion is not None and (completion.text or "").strip():
        attrs["mi_completion"] = _condition(element_id, completion, scope)
    return attrs


def _subprocess_instances(child, loop, element_id: str, scope: _Scope) -> dict | None:
    """An embedded subprocess run several times: loopCardinality (FEEL) many, or as many as a list in
    the case data has entries; all at once, or one after the other (then a completionCondition may end
    it early). The instances share the case data, so what would make them differ — an element of the
    list for each, outputs collected per instance — is refused, as is a completion condition on
    instances running at once (`_check_instances` refuses what inside would mix their tokens)."""
    name = child.get("name") or element_id
    sequential = loop.get("isSequential") == "true"
    cardinality = loop.find(_q("loopCardinality"))
    cardinality = (cardinality.text or "").strip() if cardinality is not None else ""
    reference = loop.find(_q("loopDataInputRef"))
    collection = (reference.text or "").strip() if reference is not None else ""
    collection = collection or loop.get(f"{{{CAMUNDA_NS}}}collection") or ""
    per_instance = [
        tag
        for tag in ("inputDataItem", "loopDataOutputRef", "outputDataItem")
        if loop.find(_q(tag)) is not None
    ]
    per_instance += ["camunda:elementVariable"] if loop.get(f"{{{CAMUNDA_NS}}}elementVariable") else []
    completion = loop.find(_q("completionCondition"))
    completion = completion if completion is not None and (completion.text or "").strip() else None

    def refused(message) -> None:
        scope.refuse(
            child,
            element_id,
            "unsupported",
            Formatted(message, {"name": name, "what": ", ".join(per_instance)}),
        )

    if per_instance:
        refused(
            _(
                "The multi-instance subprocess “%(name)s” gives each instance data of its own (%(what)s); "
                "tongban runs the instances of a subprocess on the one case data."
            )
        )
        return None
    if completion is not None and not sequential:
        refused(
            _(
                "The multi-instance subprocess “%(name)s” has a completionCondition while its instances run "
                "at once; tongban ends such a subprocess when every instance is done."
            )
        )
        return None
    attrs: dict = {"multi_instance": True, "countersign": "mi", "mi_sequential": sequential}
    if cardinality and collection:
        scope.refuse(
            child,
            element_id,
            "collection",
            Formatted(
                _("The multi-instance task “%(name)s” gives both a loopCardinality and a list: give one."),
                {"name": name},
            ),
        )
        return None
    if cardinality:
        text = cardinality.removeprefix("=").strip()
        try:
            attrs["mi_cardinality"] = compile_expression(text, scope.names)
        except FeelSyntaxError as exc:
            scope.refuse(
                child,
                element_id,
                "condition_syntax",
                Formatted(
                    _(
                        "The loopCardinality “%(expression)s” is not FEEL: %(problem)s at position "
                        "%(position)s."
                    ),
                    {"expression": text, "problem": exc.problem, "position": exc.position},
                ),
            )
            return None
    elif collection and collection.replace("_", "").replace(".", "").isalnum():
        attrs["collection"] = collection
    else:
        scope.refuse(
            child,
            element_id,
            "collection",
            Formatted(
                _("The multi-instance task “%(name)s” needs a loopCardinality or a list in the case data."),
                {"name": name},
            ),
        )
        return None
    if completion is not None:
        attrs["mi_completion"] = _condition(element_id, completion, scope)
        if attrs["mi_completion"] is None:
            scope.refuse(child, element_id, "", None)  # the condition's problem is the root cause
            return None
    return attrs


INSTANCE_NAMES = {"loopCounter", "nrOfInstances", "nrOfActiveInstances", "nrOfCompletedInstances"}


def _check_instances(nodes: dict[str, Node], flows: list[Flow], incoming, problems: list[Problem]) -> None:
    """Inside a multi-instance subprocess the instances' tokens are counted together: refuse what would
    then tell them apart or mix them — a terminate end event (it ends one instance), a join of parallel
    branches while instances run at once, a condition reading the instance's loopCounter."""
    for node in nodes.values():
        if node.kind != "subprocess" or not node.multi_instance:
            continue
        inside = [n for n in nodes.values() if n.id != node.id and _within(nodes, n, node.id)]
        ids = {n.id for n in inside}
        reason = None
        if any(n.terminate for n in inside):
            reason = _("it ends an instance with a terminate end event")
        elif not node.mi_sequential and any(
            n.kind in ("parallel", "inclusive") and len(incoming.get(n.id, [])) > 1 for n in inside
        ):
            reason = _("its instances run at once and join parallel branches inside")
        elif any(
            f.source in ids and f.condition is not None and INSTANCE_NAMES & set(_names_of(f.condition))
            for f in flows
        ):
            reason = _("a condition inside reads the instance's loopCounter or instance counts")
        if reason is not None:
            problems.append(
                Problem(
                    node.id,
                    "unsupported",
                    Formatted(
                        _("The multi-instance subprocess “%(name)s” is not run by tongban: %(reason)s."),
                        {"name": node.name or node.id, "reason": reason},
                    ),
                )
            )


def _names_of(condition) -> set[str]:
    names = getattr(condition, "names", None)
    if callable(names):
        return set(names())
    return set(getattr(condition, "variables", ()) or ())


def _loop(child, element_id: str, scope: _Scope, tag: str) -> bool:
    """Refuse loop characteristics the engine does not run; True when refused."""
    for loop_tag in ("standardLoopCharacteristics", "multiInstanceLoopCharacteristics"):
        if child.find(_q(loop_tag)) is not None:
            what = Formatted(
                _("%(loop)s on the %(element)s"),
                {"loop": ELEMENT_LABELS[loop_tag], "element": ELEMENT_LABELS.get(tag, tag)},
            )
            _unsupported(child, tag, element_id, scope, what)
            return True
    return False


def _parse_flow(child, scope: _Scope) -> Flow:
    flow_id = child.get("id") or "sequenceFlow"
    condition = None
    expression = child.find(_q("conditionExpression"))
    if expression is not None and (expression.text or "").strip():
        condition = _condition(flow_id, expression, scope)
    return Flow(
        flow_id,
        child.get("sourceRef") or "",
        child.get("targetRef") or "",
        condition,
        child.get("name") or "",
    )


def _condition(flow_id: str, expression, scope: _Scope):
    text = expression.text.strip()
    if text.startswith("="):
        text = text[1:].strip()  # Camunda 8 (Zeebe) marks FEEL expressions with a leading "="
    language = expression.get("language") or scope.language
    if language and "feel" not in language.lower() and "xpath" not in language.lower():
        scope.problems.append(
            Problem(
                flow_id,
                "condition_language",
                Formatted(
                    _("The condition “%(expression)s” is written in %(language)s; tongban expects FEEL."),
                    {"expression": text, "language": language},
                ),
            )
        )
        return None
    if scope.legacy:
        try:
            return expressions.compile_condition(text)
        except expressions.ExpressionError:
            pass  # not the older language: it must be FEEL
    try:
        return FeelCondition(text, scope.names)
    except FeelSyntaxError as exc:
        guess = _language_guess(text)
        params = {"expression": text, "problem": exc.problem, "position": exc.position}
        if guess:
            message = Formatted(
                _(
                    "The condition “%(expression)s” looks like %(language)s; tongban expects FEEL "
                    "(%(problem)s at position %(position)s)."
                ),
                {**params, "language": guess},
            )
        else:
            message = Formatted(
                _("The condition “%(expression)s” is not FEEL: %(problem)s at position %(position)s."), params
            )
        scope.problems.append(Problem(flow_id, "condition_syntax", message))
        return None


def _language_guess(text: str) -> str:
    if text.startswith(("${", "#{")):
        return "JUEL"
    if "bpmn:getDataObject(" in text or "bpmn:getDataInput(" in text:
        return "XPath"  # BPMN's own XPath functions (the MIWG models)
    import ast

    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        return ""
    return "Python"


def _parse_task(child, kind: str, common: dict, scope: _Scope) -> Node:
    element_id = common["id"]
    problems = scope.problems
    attrs = dict(common, kind=kind)
    if kind == "user":
        role = child.get(_tb("role")) or "reviewer"
        if role not in ROLES:
            problems.append(Problem(element_id, "role", _("tb:role names an unknown role.")))
        attrs.update(
            department=child.get(_tb("department")) or scope.lanes.get(element_id, ""),
            role=role,
            limit_days=_int_attr(child, "limitDays", problems, element_id),
        )
        loop = child.find(_q("multiInstanceLoopCharacteristics"))
        if loop is not None and not (
            child.get(_tb("collection")) or loop.get(_tb("collection")) or child.get(_tb("countersign"))
        ):
            attrs.update(_multi_instance(child, loop, element_id, scope))
        elif loop is not None:
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
        else:
            function = child.get(_tb("function")) or ""
            if not registry.is_registered(function):
                problems.append(
                    Problem(
                        element_id,
                        "function",
                        Formatted(_("Unknown function %(f)s."), {"f": function or "—"}),
                    )
                )
            attrs["function"] = function
    elif kind == "call":
        called = child.get("calledElement") or ""
        if not called:
            problems.append(Problem(element_id, "called", _("A call activity needs calledElement.")))
        attrs["called_process"] = called
    return Node(**attrs)


def _assemble(process_id, name, scope: _Scope) -> ProcessGraph:
    nodes, problems, defaults = scope.nodes, scope.problems, scope.defaults
    _event_subprocesses(nodes, problems)
    _check_boundaries(nodes, problems)
    _link_flows(nodes, scope.flows, problems)
    outgoing: dict[str, list[Flow]] = {n: [] for n in nodes}
    incoming: dict[str, list[Flow]] = {n: [] for n in nodes}
    for flow in scope.flows:
        if flow.source not in nodes or flow.target not in nodes:
            problems.append(
                Problem(flow.id, "dangling", _("The flow connects an element that does not exist."))
            )
            continue
        if nodes[flow.source].scope != nodes[flow.target].scope:
            problems.append(
                Problem(flow.id, "crosses", _("A sequence flow cannot cross the border of a subprocess."))
            )
            continue
        outgoing[flow.source].append(flow)
        incoming[flow.target].append(flow)
    _check_instances(nodes, scope.flows, incoming, problems)
    scopes = {""} | {n.id for n in nodes.values() if n.kind in ("subprocess", "eventsub")}
    for scope_id in sorted(scopes):
        members = [n for n in nodes.values() if n.scope == scope_id]
        owner = scope_id or process_id
        starts = [n for n in members if n.kind == "start" or n.role_in_flow == "start"]
        several = len(starts) > 1 and all(n.kind == "start" for n in starts)
        if several and not scope_id and all(n.triggers for n in starts):
            several = False  # a process that waits for any of several messages or signals to begin
        if not starts or several:
            message = (
                _("A subprocess needs exactly one start event.")
                if scope_id
                else _("A process needs exactly one start event.")
            )
            problems.append(Problem(owner, "start", message))
        if not any(n.kind == "end" or n.role_in_flow == "end" for n in members):
            problems.append(Problem(owner, "end", _("A process needs an end event.")))
    for node in nodes.values():
        if node.kind in ("refused", "eventsub"):
            if node.kind == "eventsub" and (outgoing[node.id] or incoming[node.id]):
                problems.append(
                    Problem(
                        node.id, "eventsub_flow", _("No sequence flow enters or leaves an event subprocess.")
                    )
                )
            continue
        outs, ins = outgoing[node.id], incoming[node.id]
        if node.kind == "eventgw":
            _check_event_gateway(node, nodes, outs, incoming, problems)
        if node.kind != "end" and not outs and not (node.kind == "boundary" and node.triggers):
            # (a boundary event with no flow ends its token, as BPMN says of events without one)
            problems.append(Problem(node.id, "dead_end", _("Nothing follows this element.")))
        if node.kind not in ("start", "boundary") and not ins:
            problems.append(Problem(node.id, "unreachable", _("Nothing leads to this element.")))
        if node.kind == "boundary" and ins:
            problems.append(
                Problem(node.id, "start_incoming", _("A boundary event cannot have incoming flows."))
            )
        if node.kind == "start" and ins:
            problems.append(
                Problem(node.id, "start_incoming", _("A start event cannot have incoming flows."))
            )
        if node.kind == "parallel" and any(f.condition for f in outs):
            problems.append(
                Problem(node.id, "condition", _("Flows out of a parallel gateway take no conditions."))
            )
        if node.kind in ("exclusive", "user", "inclusive") and len(outs) > 1:
            unconditioned = [
                f
                for f in outs
                if f.condition is None and f.id != defaults.get(node.id) and not _bad_condition(f, problems)
            ]
            if unconditioned:
                problems.append(
                    Problem(
                        node.id,
                        "condition",
                        Formatted(
                            _(
                                "When several flows leave “%(name)s”, each needs a condition or must be "
                                "the default flow (%(flows)s has none)."
                            ),
                            {
                                "name": node.name or node.id,
                                "flows": ", ".join(f.name or f.id for f in unconditioned),
                            },
                        ),
                    )
                )
        implicit = node.kind in (
            "start",
            "script",
            "rule",
            "pass",
            "subprocess",
            "boundary",
            "catch",
        ) and not any(
            f.condition for f in outs
        )  # several unconditioned flows out of these are a parallel split, as BPMN says
        if (
            node.kind in ("start", "end", "script", "rule", "call", "subprocess", "pass", "boundary", "catch")
            and len(outs) > 1
        ) and not implicit:
            problems.append(Problem(node.id, "split", _("Use a gateway to split the flow.")))
    for node_id, default in defaults.items():
        known = node_id in nodes and nodes[node_id].kind != "refused"
        if known and default not in {f.id for f in outgoing.get(node_id, [])}:
            problems.append(Problem(node_id, "default", _("The default flow must leave this element.")))
    nodes = {node_id: _with_default(node, defaults.get(node_id, "")) for node_id, node in nodes.items()}
    nodes = _pair_inclusive(nodes, outgoing, incoming, problems)
    for node in nodes.values():
        if (
            node.terminate
            and node.scope
            and any(n.kind == "call" and _within(nodes, n, node.scope) for n in nodes.values())
        ):
            problems.append(
                Problem(
                    node.id,
                    "terminate",
                    _("A terminate end event cannot end a subprocess that calls other processes."),
                )
            )
    starts = [n for n in nodes.values() if n.kind == "start" and not n.scope]
    return ProcessGraph(process_id, name, nodes, outgoing, incoming, starts[0].id if starts else "")


def _event_subprocesses(nodes: dict[str, Node], problems: list[Problem]) -> None:
    """An event subprocess starts on what its start event waits for: the subprocess takes it over."""
    for node in list(nodes.values()):
        if node.kind != "eventsub":
            continue
        starts = [n for n in nodes.values() if n.scope == node.id and n.kind == "start"]
        if len(starts) != 1:
            continue  # reported as a subprocess without exactly one start event
        start = starts[0]
        if not start.triggers:
            problems.append(
                Problem(
                    start.id,
                    "eventsub_start",
                    Formatted(
                        _(
                            "The start event of the event subprocess “%(name)s” must wait for a message, "
                            "signal, timer, condition, error or escalation."
                        ),
                        {"name": node.name or node.id},
                    ),
                )
            )
            continue
        nodes[node.id] = Node(
            **{
                **node.__dict__,
                "triggers": start.triggers,
                "all_triggers": start.all_triggers,
                "event_condition": start.event_condition,
                "variable": start.variable,
                "seconds": start.seconds,
                "working_days": start.working_days,
                "throws": start.throws,
                "code": start.code,
                "interrupting": start.interrupting,
            }
        )


WAITING_KINDS = ("catch", "timer")


def _check_event_gateway(node: Node, nodes, outs: list[Flow], incoming, problems: list[Problem]) -> None:
    """An event-based gateway is followed by the events (or receive tasks) that race for its token."""
    wrong = [
        f
        for f in outs
        if nodes[f.target].kind != "refused"
        and (nodes[f.target].kind not in WAITING_KINDS or len(incoming[f.target]) != 1 or f.condition)
    ]
    if len(outs) < 2 or wrong:
        problems.append(
            Problem(
                node.id,
                "event_gateway",
                Formatted(
                    _(
                        "The event-based gateway “%(name)s” must lead, without conditions, to two or more "
                        "catch events or receive tasks that nothing else leads to."
                    ),
                    {"name": node.name or node.id},
                ),
            )
        )


def _link_flows(nodes: dict[str, Node], flows: list[Flow], problems: list[Problem]) -> None:
    """A link throw event continues at the link catch event of the same name: a flow between them."""
    catches = {
        (n.scope, n.code): n for n in nodes.values() if n.tag == "intermediateCatchEvent" and n.kind == "pass"
    }
    for node in list(nodes.values()):
        if node.throws != "link":
            continue
        catch = catches.get((node.scope, node.code))
        if catch is None:
            problems.append(
                Problem(
                    node.id,
                    "link",
                    Formatted(_("No link catch event is named “%(name)s”."), {"name": node.code or "—"}),
                )
            )
            continue
        flows.append(Flow(f"{node.id}#link", node.id, catch.id))
        nodes[node.id] = Node(**{**node.__dict__, "throws": ""})  # from here on an ordinary flow


def _check_boundaries(nodes: dict[str, Node], problems: list[Problem]) -> None:
    """Error and escalation boundaries run on embedded subprocesses; an error must be caught."""
    for node in list(nodes.values()):
        if node.kind == "boundary" and node.triggers and node.throws not in ("error", "escalation"):
            if nodes.get(node.attached, Node("", "")).kind != "user":
                problems.append(
                    Problem(
                        node.id,
                        "unsupported",
                        Formatted(
                            _("The %(event)s boundary event “%(name)s” is run only on a user task."),
                            {"event": EVENT_LABELS[node.throws], "name": node.name or node.id},
                        ),
                    )
                )
                nodes[node.id] = Node(node.id, "refused", name=node.name, scope=node.scope, tag=node.tag)
            continue
        if node.kind == "boundary" and nodes.get(node.attached, Node("", "")).kind != "subprocess":
            problems.append(
                Problem(
                    node.id,
                    "unsupported",
                    Formatted(
                        _("The %(event)s boundary event “%(name)s” is run only on an embedded subprocess."),
                        {"event": EVENT_LABELS[node.throws], "name": node.name or node.id},
                    ),
                )
            )
            nodes[node.id] = Node(node.id, "refused", name=node.name, scope=node.scope, tag=node.tag)
        elif (
            node.kind == "boundary"
            and node.interrupting
            and any(n.kind == "call" and n.scope and _within(nodes, n, node.attached) for n in nodes.values())
        ):
            problems.append(
                Problem(
                    node.id,
                    "terminate",
                    _("A boundary event cannot interrupt a subprocess that calls other processes."),
                )
            )
    for node in nodes.values():
        if node.throws == "error" and node.kind == "end" and catcher(nodes, node) is None:
            problems.append(
                Problem(
                    node.id,
                    "uncaught",
                    Formatted(
                        _(
                            "No boundary event of an enclosing subprocess catches the error thrown by "
                            "“%(name)s”."
                        ),
                        {"name": node.name or node.id},
                    ),
                )
            )


def catcher(nodes: dict[str, Node], thrower: Node) -> Node | None:
    """The boundary event that catches what `thrower` throws: on the innermost enclosing subprocess
    with a boundary for that error or escalation code (or for any)."""
    scope = thrower.scope
    while scope:
        for node in nodes.values():
            if (
                node.kind == "boundary"
                and node.attached == scope
                and node.throws == thrower.throws
                and node.code in ("", thrower.code)
            ):
                return node
        scope = nodes[scope].scope if scope in nodes else ""
    for node in nodes.values():  # an event subprocess of the process that starts on it
        if (
            node.kind == "eventsub"
            and node.throws == thrower.throws
            and node.code in ("", thrower.code)
            and not _within(nodes, thrower, node.id)
        ):
            return node
    return None


def _within(nodes: dict[str, Node], node: Node, scope: str) -> bool:
    """Whether `node` lies inside subprocess `scope` (at any depth); every node lies inside ""."""
    inner = node.scope
    while True:
        if inner == scope or not scope:
            return True
        if not inner:
            return False
        inner = nodes[inner].scope if inner in nodes else ""


def _pair_inclusive(nodes, outgoing, incoming, problems) -> dict[str, Node]:
    """Each inclusive split with several branches is paired with the inclusive join all its branches
    reach first, so the join knows how many tokens to wait for; a join no split pairs with is refused."""
    paired: set[str] = set()
    for node in list(nodes.values()):
        if node.kind != "inclusive" or len(outgoing[node.id]) < 2:
            continue
        reach = [_joins_reached(nodes, outgoing, incoming, flow.target) for flow in outgoing[node.id]]
        common = set.intersection(*(set(r) for r in reach))
        if not common:
            continue  # the branches never meet again: each ends on its own
        join = min(common, key=lambda j: max(r[j] for r in reach))
        nodes[node.id] = Node(**{**node.__dict__, "pair": join})
        paired.add(join)
    for node in nodes.values():
        if node.kind == "inclusive" and len(incoming[node.id]) > 1 and node.id not in paired:
            problems.append(
                Problem(
                    node.id,
                    "inclusive_join",
                    Formatted(
                        _("The inclusive join “%(name)s” has no inclusive split whose branches it joins."),
                        {"name": node.name or node.id},
                    ),
                )
            )
    return nodes


def _joins_reached(nodes, outgoing, incoming, start: str) -> dict[str, int]:
    """Inclusive joins reachable from `start`, with their distance in flows."""
    found: dict[str, int] = {}
    seen = {start}
    frontier = [start]
    distance = 0
    while frontier:
        following = []
        for node_id in frontier:
            node = nodes.get(node_id)
            if node is None:
                continue
            if node.kind == "inclusive" and len(incoming.get(node_id, [])) > 1 and node_id not in found:
                found[node_id] = distance
            for flow in outgoing.get(node_id, []):
                if flow.target not in seen:
                    seen.add(flow.target)
                    following.append(flow.target)
        frontier = following
        distance += 1
    return found


def _bad_condition(flow: Flow, problems: list[Problem]) -> bool:
    """A flow whose condition was already refused is not also reported as having none."""
    return any(
        p.element == flow.id and p.code in ("condition_syntax", "condition_language") for p in problems
    )


def _with_default(node: Node, default: str) -> Node:
    if not default:
        return node
    return Node(**{**node.__dict__, "default_flow": default})


def subprocess_start(graph: ProcessGraph, subprocess_id: str) -> str:
    """The start event inside an embedded subprocess."""
    for node in graph.nodes.values():
        if node.scope == subprocess_id and node.kind == "start":
            return node.id
    raise KeyError(subprocess_id)
