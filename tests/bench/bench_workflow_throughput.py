"""workflow_throughput: the 企业开办 process (accept → 5 departments in parallel → issue) through the
workflow service layer, each staff action committed in its own audited transaction to a
file-backed SQLite database with the settings of `make demo`, against SpiffWorkflow running the
same BPMN in memory with nothing persisted, measured in the same run.

It is the engine-and-persistence part of issue 3's case_throughput benchmark (which will add the
cases app's own writes: case status, domain events); it shows whether a relational token engine
keeps enough of Spiff's in-memory speed to be worth having instead of persisting Spiff's state
(which alone costs ~1.5 ms per step to serialise and load again). Target: ratio ≥ 0.25.
"""

import json
import subprocess
import sys
import tempfile
import time

CASES = 200
TARGET_RATIO = 0.25

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:tb="https://tongban.dev/schema/bpmn"
  id="defs" targetNamespace="https://tongban.dev/bench">
  <bpmn:process id="qykb" name="企业开办" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="accept"/>
    <bpmn:userTask id="accept" name="受理" tb:role="clerk" tb:department="xzspj-zhslk" tb:limitDays="1"/>
    <bpmn:sequenceFlow id="f1" sourceRef="accept" targetRef="fork"/>
    <bpmn:parallelGateway id="fork"/>
    {branches}
    <bpmn:parallelGateway id="join"/>
    <bpmn:sequenceFlow id="c1" sourceRef="join" targetRef="issue"/>
    <bpmn:userTask id="issue" name="出件" tb:role="clerk" tb:department="xzspj-zhslk" tb:limitDays="1"/>
    <bpmn:sequenceFlow id="c2" sourceRef="issue" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""
DEPARTMENTS = [
    ("reg", "设立登记", "xzspj-qyfwk"),
    ("seal", "公章刻制", "gaj-hzk"),
    ("tax", "发票申领", "swj-nsfwk"),
    ("si", "社保登记", "rsj-shbxk"),
    ("hf", "公积金开户", "zjj-jzglk"),
]


def bpmn() -> str:
    parts = []
    for node, name, department in DEPARTMENTS:
        parts.append(f'<bpmn:sequenceFlow id="in_{node}" sourceRef="fork" targetRef="{node}"/>')
        parts.append(
            f'<bpmn:userTask id="{node}" name="{name}" tb:role="reviewer" tb:department="{department}" '
            'tb:limitDays="1"/>'
        )
        parts.append(f'<bpmn:sequenceFlow id="out_{node}" sourceRef="{node}" targetRef="join"/>')
    return BPMN.format(branches="\n    ".join(parts))


def spiff_rate(cases: int) -> float:
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    parser = BpmnParser()
    parser.add_bpmn_str(bpmn().encode())
    spec = parser.get_spec("qykb")

    def run():
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        while not wf.is_completed():
            for task in wf.get_tasks(state=TaskState.READY, manual=True):
                task.data["decision"] = "approve"
                task.run()
            wf.do_engine_steps()

    run()
    started = time.perf_counter()
    for _ in range(cases):
        run()
    return cases / (time.perf_counter() - started)


def tongban_rate(cases: int) -> dict:
    from tests.bench import harness

    harness.configure(f"sqlite:///{tempfile.mkdtemp(prefix='tongban-bench-')}/bench.sqlite3")
    from tongban.accounts import services as account_services
    from tongban.accounts.actors import Actor
    from tongban.accounts.models import Department, User
    from tongban.accounts.seed import seed_demo
    from tongban.core import audit
    from tongban.core.authz import SYSTEM
    from tongban.workflow import services

    seed_demo()
    for node, _name, department in DEPARTMENTS:
        if not User.objects.filter(username=f"bench_{node}").exists():
            account_services.create_staff(
                SYSTEM,
                username=f"bench_{node}",
                display_name=node,
                department_code=department,
                roles=[("reviewer", False)],
            )
    actors = {node: Actor(User.objects.get(username=f"bench_{node}")) for node, _n, _d in DEPARTMENTS}
    clerk = Actor(User.objects.get(username="clerk"))
    for actor in (clerk, *actors.values()):
        _ = actor.grants  # load roles once, as a request would
    definition = services.publish_definition(
        SYSTEM, key="bench:qykb", bpmn_xml=bpmn(), department=Department.objects.get(code="xzspj")
    )

    def act(actor, name, fn):
        with audit.audited(name, actor=actor, object_type="work_item"):
            return fn()

    def run(n: int) -> None:
        with audit.audited("bench.case.submit", actor=clerk, object_type="case"):
            _instance, result = services.start(definition, subject=f"B-{n}", data={})
        accept = result.created[0]
        act(clerk, "bench.claim", lambda: services.claim(clerk, accept.public_id))
        _item, step = act(
            clerk,
            "bench.complete",
            lambda: services.complete(clerk, accept.public_id, decision="approve", data={}),
        )
        branches = {w.node_id: w for w in step.created}
        last = None
        for node, actor in actors.items():
            work = branches[node]
            act(actor, "bench.claim", lambda a=actor, w=work: services.claim(a, w.public_id))
            _item, last = act(
                actor,
                "bench.complete",
                lambda a=actor, w=work: services.complete(a, w.public_id, decision="approve", data={}),
            )
        issue = last.created[0]
        act(clerk, "bench.claim", lambda: services.claim(clerk, issue.public_id))
        _item, final = act(
            clerk,
            "bench.complete",
            lambda: services.complete(clerk, issue.public_id, decision="approve", data={}),
        )
        assert final.completed

    run(-1)
    profiler = None
    if "--profile" in sys.argv:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    for n in range(cases):
        run(n)
    elapsed = time.perf_counter() - started
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
    transactions = cases * 15
    return {"rate": cases / elapsed, "tx_per_s": transactions / elapsed}


def main() -> int:
    from rich.table import Table

    from tests.bench import harness

    with harness.console.status("workflow_throughput: SpiffWorkflow in memory"):
        reference = spiff_rate(CASES)
    with harness.console.status("workflow_throughput: tongban on SQLite"):
        out = subprocess.run(
            [sys.executable, "-m", "tests.bench.bench_workflow_throughput", "--tongban"],
            capture_output=True,
            text=True,
            check=False,
        )
    if out.returncode != 0:
        harness.console.print(out.stderr[-3000:])
        return 1
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    table = Table(title=f"企业开办 process, {CASES} cases, 7 steps each (claim + complete)")
    for col in ("engine", "cases/s", "note"):
        table.add_column(col)
    table.add_row("SpiffWorkflow 3.2 (reference)", f"{reference:.1f}", "in memory, nothing persisted")
    table.add_row(
        "tongban workflow",
        f"{measured['rate']:.1f}",
        f"SQLite file, 15 audited transactions per case ({measured['tx_per_s']:.0f} tx/s)",
    )
    harness.console.print(table)
    ratio = measured["rate"] / reference
    harness.bench_line(
        "workflow_throughput",
        measured["rate"],
        "cases/s(sqlite)",
        ratio,
        f"ratio>={TARGET_RATIO}",
        ratio >= TARGET_RATIO,
    )
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    if "--tongban" in sys.argv:
        print(json.dumps(tongban_rate(CASES)))
    else:
        sys.exit(main())
