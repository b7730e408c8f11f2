"""Writing BPMN 2.0 for the standard shapes, so every item and bundle has a process on day one.

An item without an uploaded definition gets 审查 (a reviewer of its department) → 审批 (the section
head), with a rejection at review ending the process. A bundle (一件事) gets a parallel gateway with
one call activity per member item, each calling that item's own process, and a join: the member
departments work at the same time (并联审批). The output is ordinary BPMN with diagram interchange,
so any modeler (and our viewer) can open it and an administrator can replace it.
"""

from xml.sax.saxutils import escape, quoteattr

from .bpmn import BPMN_NS, TB_NS

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"

TASK_W, TASK_H, EVENT, GATEWAY = 100, 80, 36, 50
GAP_X, GAP_Y = 60, 40


def item_key(code: str) -> str:
    return f"item:{code}"


def bundle_key(code: str) -> str:
    return f"bundle:{code}"


class _Diagram:
    """Collects elements, flows and their shapes for one process, laid out left to right."""

    def __init__(self, process_id: str, name: str):
        self.process_id, self.name = process_id, name
        self.elements: list[str] = []
        self.shapes: list[str] = []
        self.edges: list[str] = []
        self.bounds: dict[str, tuple[int, int, int, int]] = {}

    def add(self, xml: str, element_id: str, x: int, y: int, w: int, h: int) -> None:
        self.elements.append(xml)
        self.bounds[element_id] = (x, y, w, h)
        self.shapes.append(
            f'<bpmndi:BPMNShape id="{element_id}_di" bpmnElement="{element_id}">'
            f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/></bpmndi:BPMNShape>'
        )

    def flow(self, flow_id: str, source: str, target: str, condition: str = "", name: str = "") -> None:
        body = (
            f"<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>" if condition else ""
        )
        label = f" name={quoteattr(name)}" if name else ""
        self.elements.append(
            f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"{label}>{body}'
            "</bpmn:sequenceFlow>"
        )
        sx, sy, sw, sh = self.bounds[source]
        tx, ty, _tw, th = self.bounds[target]
        start, end = (sx + sw, sy + sh // 2), (tx, ty + th // 2)
        points = (
            [start, end]
            if start[1] == end[1]
            else [start, ((start[0] + end[0]) // 2, start[1]), ((start[0] + end[0]) // 2, end[1]), end]
        )
        waypoints = "".join(f'<di:waypoint x="{x}" y="{y}"/>' for x, y in points)
        self.edges.append(
            f'<bpmndi:BPMNEdge id="{flow_id}_di" bpmnElement="{flow_id}">{waypoints}</bpmndi:BPMNEdge>'
        )

    def document(self) -> str:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:bpmndi="{BPMNDI_NS}" xmlns:dc="{DC_NS}" '
            f'xmlns:di="{DI_NS}" xmlns:tb="{TB_NS}" id="defs_{self.process_id}" '
            'targetNamespace="https://tongban.dev/processes" exporter="tongban" exporterVersion="1">\n'
            f"  <bpmn:process id={quoteattr(self.process_id)} name={quoteattr(self.name)} "
            'isExecutable="true">\n    ' + "\n    ".join(self.elements) + "\n  </bpmn:process>\n"
            '  <bpmndi:BPMNDiagram id="diagram">'
            f'<bpmndi:BPMNPlane id="plane" bpmnElement="{self.process_id}">'
            + "".join(self.shapes)
            + "".join(self.edges)
            + "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>\n</bpmn:definitions>\n"
        )


def _process_id(key: str) -> str:
    return "p_" + "".join(c if c.isalnum() else "_" for c in key)[:100]


def item_process(code: str, name: str, department: str, limit_days: int | None) -> str:
    """审查 → 审批 for an item of `department`; a rejection at 审查 ends it at once."""
    d = _Diagram(_process_id(item_key(code)), name)
    review_days = approve_days = None
    if limit_days:
        review_days = max(1, (limit_days * 2) // 3)
        approve_days = max(1, limit_days - review_days) if limit_days > 1 else 1
    y = 100
    d.add('<bpmn:startEvent id="start" name="受理"/>', "start", 40, y + 22, EVENT, EVENT)
    d.add(_user_task("review", "审查", department, "reviewer", review_days), "review", 140, y, TASK_W, TASK_H)
    d.add(
        '<bpmn:exclusiveGateway id="reviewed" name="审查意见" default="to_approve"/>',
        "reviewed",
        300,
        y + 15,
        GATEWAY,
        GATEWAY,
    )
    d.add(
        _user_task("approve", "审批", department, "section_head", approve_days),
        "approve",
        410,
        y,
        TASK_W,
        TASK_H,
    )
    d.add('<bpmn:endEvent id="end" name="办结"/>', "end", 570, y + 22, EVENT, EVENT)
    d.add('<bpmn:endEvent id="end_rejected" name="不予许可"/>', "end_rejected", 410, y + 140, EVENT, EVENT)
    d.flow("f_start", "start", "review")
    d.flow("f_review", "review", "reviewed")
    d.flow("to_approve", "reviewed", "approve", name="通过")
    d.flow("to_rejected", "reviewed", "end_rejected", condition='decision == "reject"', name="不通过")
    d.flow("f_approve", "approve", "end")
    return d.document()


def bundle_process(code: str, name: str, members: list[tuple[str, str]]) -> str:
    """One call activity per member item (code, name), all in parallel between a fork and a join."""
    d = _Diagram(_process_id(bundle_key(code)), name)
    height = len(members) * (TASK_H + GAP_Y)
    middle = 60 + height // 2
    d.add('<bpmn:startEvent id="start" name="受理"/>', "start", 40, middle - EVENT // 2, EVENT, EVENT)
    d.add(
        '<bpmn:parallelGateway id="fork" name="并联审批"/>',
        "fork",
        130,
        middle - GATEWAY // 2,
        GATEWAY,
        GATEWAY,
    )
    d.add('<bpmn:parallelGateway id="join"/>', "join", 440, middle - GATEWAY // 2, GATEWAY, GATEWAY)
    d.add('<bpmn:endEvent id="end" name="办结"/>', "end", 540, middle - EVENT // 2, EVENT, EVENT)
    d.flow("f_start", "start", "fork")
    for i, (member_code, member_name) in enumerate(members):
        node = f"m{i + 1}"
        y = 60 + i * (TASK_H + GAP_Y)
        d.add(
            f'<bpmn:callActivity id="{node}" name={quoteattr(member_name)} '
            f"calledElement={quoteattr(item_key(member_code))}/>",
            node,
            240,
            y,
            TASK_W + 40,
            TASK_H,
        )
        d.flow(f"f_in_{node}", "fork", node)
        d.flow(f"f_out_{node}", node, "join")
    d.flow("f_end", "join", "end")
    return d.document()


def _user_task(node_id: str, name: str, department: str, role: str, limit_days: int | None) -> str:
    limit = f' tb:limitDays="{limit_days}"' if limit_days else ""
    return (
        f'<bpmn:userTask id="{node_id}" name={quoteattr(name)} tb:department={quoteattr(department)} '
        f'tb:role="{role}"{limit}/>'
    )
