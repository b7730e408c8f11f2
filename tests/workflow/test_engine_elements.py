"""Running the BPMN elements people draw: terminate end events, inclusive gateways and standard loops
(the pure engine), and a terminate end event cancelling open steps in the database."""

from tongban.workflow import bpmn, engine

from .bpmn_samples import document

INCLUSIVE = document("""
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:inclusiveGateway id="split" default="f_c"/>
    <bpmn:userTask id="a" name="规划"/>
    <bpmn:userTask id="b" name="消防"/>
    <bpmn:userTask id="c" name="综合"/>
    <bpmn:inclusiveGateway id="join"/>
    <bpmn:userTask id="done" name="出证"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="split"/>
    <bpmn:sequenceFlow id="f_a" sourceRef="split" targetRef="a">
      <bpmn:conditionExpression>area &gt; 500</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_b" sourceRef="split" targetRef="b">
      <bpmn:conditionExpression>floors &gt;= 3</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_c" sourceRef="split" targetRef="c"/>
    <bpmn:sequenceFlow id="g_a" sourceRef="a" targetRef="join"/>
    <bpmn:sequenceFlow id="g_b" sourceRef="b" targetRef="join"/>
    <bpmn:sequenceFlow id="g_c" sourceRef="c" targetRef="join"/>
    <bpmn:sequenceFlow id="f_j" sourceRef="join" targetRef="done"/>
    <bpmn:sequenceFlow id="f_e" sourceRef="done" targetRef="e"/>
  </bpmn:process>""")


def _work(effects):
    return [w.node.id for w in effects.work]


def test_an_inclusive_split_takes_every_branch_whose_condition_holds_and_the_join_waits_for_them():
    graph = bpmn.parse_one(INCLUSIVE)
    assert graph.node("split").pair == "join"
    effects, joins = engine.start(graph, {"area": 800, "floors": 5})
    assert _work(effects) == ["a", "b"] and effects.token_delta == 2
    first = engine.leave(graph, "a", {}, joins, "approve")
    assert first.work == [] and first.token_delta == 0  # a's token now waits at the join
    second = engine.leave(graph, "b", {}, joins, "approve")
    assert _work(second) == ["done"] and second.token_delta == -1
    assert joins == {}


def test_an_inclusive_split_with_one_branch_passes_the_join_at_once_and_falls_back_to_the_default():
    graph = bpmn.parse_one(INCLUSIVE)
    effects, joins = engine.start(graph, {"area": 800})
    assert _work(effects) == ["a"]
    assert _work(engine.leave(graph, "a", {}, joins, "approve")) == ["done"]
    effects, joins = engine.start(graph, {})
    assert _work(effects) == ["c"]


def test_an_inclusive_join_without_a_split_is_refused():
    xml = INCLUSIVE.replace(
        '<bpmn:inclusiveGateway id="split" default="f_c"/>', '<bpmn:parallelGateway id="split"/>'
    )
    xml = xml.replace("<bpmn:conditionExpression>area &gt; 500</bpmn:conditionExpression>", "")
    xml = xml.replace("<bpmn:conditionExpression>floors &gt;= 3</bpmn:conditionExpression>", "")
    assert ("join", "inclusive_join") in [(p.element, p.code) for p in bpmn.parse(xml).problems]


TERMINATE = document("""
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:userTask id="review" name="审查"/>
    <bpmn:userTask id="check" name="核查"/>
    <bpmn:exclusiveGateway id="ok" default="go"/>
    <bpmn:endEvent id="stop"><bpmn:terminateEventDefinition/></bpmn:endEvent>
    <bpmn:endEvent id="e1"/>
    <bpmn:endEvent id="e2"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="fork"/>
    <bpmn:sequenceFlow id="f1" sourceRef="fork" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="check"/>
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="ok"/>
    <bpmn:sequenceFlow id="no" sourceRef="ok" targetRef="stop">
      <bpmn:conditionExpression>decision = "reject"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="go" sourceRef="ok" targetRef="e1"/>
    <bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="e2"/>
  </bpmn:process>""")


def test_a_terminate_end_event_ends_the_process_with_steps_still_open():
    graph = bpmn.parse_one(TERMINATE)
    effects, joins = engine.start(graph, {})
    assert _work(effects) == ["review", "check"]
    ended = engine.leave(graph, "check", {}, joins, "reject")
    assert ended.terminated == [""] and ended.ended == 1
    approved = engine.leave(graph, "check", {}, joins, "approve")
    assert approved.terminated == [] and approved.token_delta == -1


def test_a_terminate_end_event_inside_a_subprocess_ends_only_the_subprocess():
    xml = document("""
      <bpmn:process id="p" isExecutable="true">
        <bpmn:startEvent id="s"/>
        <bpmn:subProcess id="sub">
          <bpmn:startEvent id="ss"/><bpmn:parallelGateway id="fork"/>
          <bpmn:userTask id="a"/><bpmn:endEvent id="t"><bpmn:terminateEventDefinition/></bpmn:endEvent>
          <bpmn:endEvent id="ea"/>
          <bpmn:sequenceFlow id="s1" sourceRef="ss" targetRef="fork"/>
          <bpmn:sequenceFlow id="s2" sourceRef="fork" targetRef="a"/>
          <bpmn:sequenceFlow id="s3" sourceRef="fork" targetRef="t"/>
          <bpmn:sequenceFlow id="s4" sourceRef="a" targetRef="ea"/>
        </bpmn:subProcess>
        <bpmn:userTask id="after"/><bpmn:endEvent id="e"/>
        <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sub"/>
        <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="after"/>
        <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="e"/>
      </bpmn:process>""")
    graph = bpmn.parse_one(xml)
    effects, joins = engine.start(graph, {})
    # a was created and then terminated in the same step: only the step after the subprocess is open
    assert _work(effects) == ["after"] and effects.token_delta == 1 and effects.terminated == ["sub"]
    assert joins == {}


LOOP = document("""
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="fix" name="补正">
      <bpmn:standardLoopCharacteristics loopMaximum="3">
        <bpmn:loopCondition>decision = "reject"</bpmn:loopCondition>
      </bpmn:standardLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="fix"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fix" targetRef="e"/>
  </bpmn:process>""")


def test_a_standard_loop_repeats_while_its_condition_holds_at_most_loop_maximum_times():
    graph = bpmn.parse_one(LOOP)
    effects, joins = engine.start(graph, {})
    assert _work(effects) == ["fix"]
    again = engine.leave(graph, "fix", {}, joins, "reject")
    assert _work(again) == ["fix"] and again.token_delta == 0
    done = engine.leave(graph, "fix", {}, joins, "approve")
    assert done.ended == 1 and joins == {}
    effects, joins = engine.start(graph, {})
    runs = 1
    while True:
        step = engine.leave(graph, "fix", {}, joins, "reject")
        if not step.work:
            break
        runs += 1
    assert runs == 3 and step.ended == 1  # loopMaximum


def test_a_standard_loop_that_could_never_end_is_refused():
    xml = LOOP.replace(' loopMaximum="3"', "").replace(
        '<bpmn:loopCondition>decision = "reject"</bpmn:loopCondition>', ""
    )
    assert [(p.element, p.code) for p in bpmn.parse(xml).problems] == [("fix", "loop")]


MULTI = document("""
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="sign" name="联合踏勘">
      <bpmn:multiInstanceLoopCharacteristics isSequential="false">
        <bpmn:loopCardinality>3</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:userTask id="after" name="出证"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sign"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sign" targetRef="after"/>
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="e"/>
  </bpmn:process>""")

SEQUENTIAL = MULTI.replace('isSequential="false"', 'isSequential="true"').replace(
    "<bpmn:loopCardinality>3</bpmn:loopCardinality>", "<bpmn:loopDataInputRef>sites</bpmn:loopDataInputRef>"
)


def test_a_parallel_multi_instance_task_opens_loop_cardinality_work_items_at_once():
    graph = bpmn.parse_one(MULTI)
    effects, joins = engine.start(graph, {})
    assert [(w.node.id, w.count) for w in effects.work] == [("sign", 3)] and effects.token_delta == 1
    assert engine.countersign_outcome("every", 3, 2, 0) is None
    assert engine.countersign_outcome("every", 3, 2, 1) == "reject"
    assert _work(engine.leave(graph, "sign", {}, joins, "approve")) == ["after"]


def test_a_sequential_multi_instance_task_runs_once_per_entry_of_a_list_one_after_the_other():
    graph = bpmn.parse_one(SEQUENTIAL)
    effects, joins = engine.start(graph, {"sites": ["东区", "西区"]})
    assert [(w.node.id, w.count) for w in effects.work] == [("sign", 1)]
    second = engine.leave(graph, "sign", {}, joins, "approve")
    assert _work(second) == ["sign"] and second.token_delta == 0
    assert _work(engine.leave(graph, "sign", {}, joins, "approve")) == ["after"]
    assert joins == {}
    nothing, _joins = engine.start(graph, {"sites": []})
    assert _work(nothing) == ["after"]  # no entry: the task is not done at all


def test_a_multi_instance_task_collects_its_instances_decisions_into_loop_data_output_ref():
    xml = SEQUENTIAL.replace(
        "</bpmn:multiInstanceLoopCharacteristics>",
        "<bpmn:loopDataOutputRef>opinions</bpmn:loopDataOutputRef></bpmn:multiInstanceLoopCharacteristics>",
    )
    graph = bpmn.parse_one(xml)
    data = {"sites": ["东区", "西区"]}
    effects, joins = engine.start(graph, data)
    assert effects.data["opinions"] == []
    data.update(effects.data)
    first = engine.leave(graph, "sign", data, joins, "reject")
    data.update(first.data)
    second = engine.leave(graph, "sign", data, joins, "approve")
    assert second.data["opinions"] == ["reject", "approve"] and _work(second) == ["after"]
    parallel = bpmn.parse_one(
        MULTI.replace(
            "</bpmn:multiInstanceLoopCharacteristics>",
            "<bpmn:loopDataOutputRef>opinions</bpmn:loopDataOutputRef></bpmn:multiInstanceLoopCharacteristics>",
        )
    )
    _effects, joins = engine.start(parallel, {})
    done = engine.leave(parallel, "sign", {}, joins, "approve", ["approve", "approve", None])
    assert done.data["opinions"] == ["approve", "approve", None]


def test_a_completion_condition_ends_a_sequential_multi_instance_task_early():
    xml = SEQUENTIAL.replace(
        "</bpmn:multiInstanceLoopCharacteristics>",
        '<bpmn:completionCondition>decision = "reject"</bpmn:completionCondition>'
        "</bpmn:multiInstanceLoopCharacteristics>",
    )
    graph = bpmn.parse_one(xml)
    _effects, joins = engine.start(graph, {"sites": ["a", "b", "c"]})
    assert _work(engine.leave(graph, "sign", {}, joins, "reject")) == ["after"]


def test_a_multi_instance_task_without_a_count_or_a_list_is_refused():
    xml = MULTI.replace("<bpmn:loopCardinality>3</bpmn:loopCardinality>", "")
    assert [(p.element, p.code) for p in bpmn.parse(xml).problems] == [("sign", "collection")]


ERROR = document("""
  <bpmn:error id="err_missing" errorCode="MISSING"/>
  <bpmn:escalation id="esc_slow" escalationCode="SLOW"/>
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:subProcess id="sub" name="核验">
      <bpmn:startEvent id="ss"/>
      <bpmn:parallelGateway id="fork"/>
      <bpmn:userTask id="check" name="核验材料"/>
      <bpmn:userTask id="visit" name="现场核查"/>
      <bpmn:exclusiveGateway id="ok" default="fine"/>
      <bpmn:endEvent id="missing"><bpmn:errorEventDefinition errorRef="err_missing"/></bpmn:endEvent>
      <bpmn:intermediateThrowEvent id="slow"><bpmn:escalationEventDefinition escalationRef="esc_slow"/>
      </bpmn:intermediateThrowEvent>
      <bpmn:endEvent id="fine_end"/>
      <bpmn:endEvent id="visit_end"/>
      <bpmn:sequenceFlow id="s1" sourceRef="ss" targetRef="fork"/>
      <bpmn:sequenceFlow id="s2" sourceRef="fork" targetRef="check"/>
      <bpmn:sequenceFlow id="s3" sourceRef="fork" targetRef="visit"/>
      <bpmn:sequenceFlow id="s4" sourceRef="check" targetRef="ok"/>
      <bpmn:sequenceFlow id="bad" sourceRef="ok" targetRef="missing">
        <bpmn:conditionExpression>decision = "reject"</bpmn:conditionExpression></bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="fine" sourceRef="ok" targetRef="fine_end"/>
      <bpmn:sequenceFlow id="s5" sourceRef="visit" targetRef="slow"/>
      <bpmn:sequenceFlow id="s6" sourceRef="slow" targetRef="visit_end"/>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="on_missing" attachedToRef="sub">
      <bpmn:errorEventDefinition errorRef="err_missing"/></bpmn:boundaryEvent>
    <bpmn:boundaryEvent id="on_slow" attachedToRef="sub" cancelActivity="false">
      <bpmn:escalationEventDefinition escalationRef="esc_slow"/></bpmn:boundaryEvent>
    <bpmn:userTask id="supplement" name="补正"/>
    <bpmn:userTask id="notify" name="告知"/>
    <bpmn:userTask id="approve" name="审批"/>
    <bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/><bpmn:endEvent id="e3"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sub"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="approve"/>
    <bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="e1"/>
    <bpmn:sequenceFlow id="f4" sourceRef="on_missing" targetRef="supplement"/>
    <bpmn:sequenceFlow id="f5" sourceRef="supplement" targetRef="e2"/>
    <bpmn:sequenceFlow id="f6" sourceRef="on_slow" targetRef="notify"/>
    <bpmn:sequenceFlow id="f7" sourceRef="notify" targetRef="e3"/>
  </bpmn:process>""")


def test_an_error_end_event_interrupts_its_subprocess_and_the_boundary_takes_over():
    graph = bpmn.parse_one(ERROR)
    effects, joins = engine.start(graph, {})
    assert _work(effects) == ["check", "visit"]
    caught = engine.leave(graph, "check", {}, joins, "reject")
    assert _work(caught) == ["supplement"] and caught.terminated == ["sub"]
    assert joins == {}


def test_a_non_interrupting_escalation_adds_a_token_beside_the_running_subprocess():
    graph = bpmn.parse_one(ERROR)
    _effects, joins = engine.start(graph, {})
    escalated = engine.leave(graph, "visit", {}, joins, "approve")
    assert _work(escalated) == ["notify"] and escalated.terminated == []
    assert _work(engine.leave(graph, "check", {}, joins, "approve")) == ["approve"]


def test_an_error_no_boundary_catches_is_refused():
    xml = ERROR.replace(
        '<bpmn:errorEventDefinition errorRef="err_missing"/></bpmn:boundaryEvent>',
        "<bpmn:timerEventDefinition/></bpmn:boundaryEvent>",
    )
    codes = {(p.element, p.code) for p in bpmn.parse(xml).problems}
    assert ("missing", "uncaught") in codes


def test_an_error_boundary_on_a_task_is_refused():
    xml = ERROR.replace('id="on_missing" attachedToRef="sub"', 'id="on_missing" attachedToRef="approve"')
    codes = [(p.element, p.code) for p in bpmn.parse(xml).problems]
    assert ("on_missing", "unsupported") in codes and ("missing", "uncaught") in codes


def test_a_link_throw_event_continues_at_the_catch_event_of_the_same_name():
    xml = document("""
      <bpmn:process id="p" isExecutable="true">
        <bpmn:startEvent id="s"/><bpmn:userTask id="a"/>
        <bpmn:intermediateThrowEvent id="go">
          <bpmn:linkEventDefinition name="页2"/></bpmn:intermediateThrowEvent>
        <bpmn:intermediateCatchEvent id="here">
          <bpmn:linkEventDefinition name="页2"/></bpmn:intermediateCatchEvent>
        <bpmn:userTask id="b"/><bpmn:endEvent id="e"/>
        <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="a"/>
        <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="go"/>
        <bpmn:sequenceFlow id="f3" sourceRef="here" targetRef="b"/>
        <bpmn:sequenceFlow id="f4" sourceRef="b" targetRef="e"/>
      </bpmn:process>""")
    graph = bpmn.parse_one(xml)
    _effects, joins = engine.start(graph, {})
    assert _work(engine.leave(graph, "a", {}, joins, "approve")) == ["b"]
    broken = xml.replace(
        '<bpmn:linkEventDefinition name="页2"/></bpmn:intermediateCatchEvent>',
        '<bpmn:linkEventDefinition name="页3"/></bpmn:intermediateCatchEvent>',
    )
    assert ("go", "link") in [(p.element, p.code) for p in bpmn.parse(broken).problems]


TIMERS = document("""
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="review" name="审查" tb:department="scjgj-spjyk"/>
    <bpmn:boundaryEvent id="overdue" attachedToRef="review" tb:workingDays="3">
      <bpmn:timerEventDefinition/></bpmn:boundaryEvent>
    <bpmn:boundaryEvent id="nudge" attachedToRef="review" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT2H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="head" name="科长督办" tb:role="section_head" tb:department="scjgj-spjyk"/>
    <bpmn:userTask id="remind" name="提醒" tb:department="scjgj-spjyk"/>
    <bpmn:intermediateCatchEvent id="cool_off" name="公示期">
      <bpmn:timerEventDefinition><bpmn:timeDuration>P1W</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/><bpmn:endEvent id="e3"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="cool_off"/>
    <bpmn:sequenceFlow id="f3" sourceRef="cool_off" targetRef="e1"/>
    <bpmn:sequenceFlow id="f4" sourceRef="overdue" targetRef="head"/>
    <bpmn:sequenceFlow id="f5" sourceRef="head" targetRef="e2"/>
    <bpmn:sequenceFlow id="f6" sourceRef="nudge" targetRef="remind"/>
    <bpmn:sequenceFlow id="f7" sourceRef="remind" targetRef="e3"/>
  </bpmn:process>""")


def test_timers_are_read_with_their_durations_in_seconds_or_working_days():
    graph = bpmn.parse_one(TIMERS)
    overdue, nudge, cool = graph.node("overdue"), graph.node("nudge"), graph.node("cool_off")
    assert (overdue.working_days, overdue.interrupting, overdue.attached) == (3, True, "review")
    assert (nudge.seconds, nudge.interrupting) == (7200, False)
    assert (cool.kind, cool.seconds) == ("timer", 7 * 86400)
    effects, _joins = engine.start(graph, {})
    assert [t.id for t in effects.work[0].timers] == ["overdue", "nudge"]


def test_an_interrupting_boundary_timer_moves_the_steps_token_and_a_non_interrupting_one_adds_one():
    graph = bpmn.parse_one(TIMERS)
    _effects, joins = engine.start(graph, {})
    beside = engine.fire_boundary(graph, "nudge", {}, joins)
    assert _work(beside) == ["remind"] and beside.token_delta == 1
    instead = engine.fire_boundary(graph, "overdue", {}, joins)
    assert _work(instead) == ["head"] and instead.token_delta == 0
    waiting = engine.leave(graph, "review", {}, joins, "approve")
    assert [n.id for n in waiting.waits] == ["cool_off"] and waiting.token_delta == 0


def test_timers_we_cannot_run_are_refused_once():
    xml = TIMERS.replace(
        "<bpmn:timeDuration>P1W</bpmn:timeDuration>", "<bpmn:timeCycle>R3/PT1H</bpmn:timeCycle>"
    )
    assert [(p.element, p.code) for p in bpmn.parse(xml).problems] == [("cool_off", "timer")]
    months = TIMERS.replace("PT2H", "P1M")
    assert [(p.element, p.code) for p in bpmn.parse(months).problems] == [("nudge", "timer")]
    on_gateway = TIMERS.replace('attachedToRef="review" tb:workingDays', 'attachedToRef="s" tb:workingDays')
    assert ("overdue", "unsupported") in [(p.element, p.code) for p in bpmn.parse(on_gateway).problems]
