"""BPMN documents used by the workflow tests (written by hand, as a modeler would export them)."""

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:tb="https://tongban.dev/schema/bpmn" id="defs" targetNamespace="https://tongban.dev/test">\n'
)


def document(*processes: str) -> str:
    return HEAD + "\n".join(processes) + "\n</bpmn:definitions>\n"


PARALLEL = document("""
  <bpmn:process id="qykb" name="企业开办" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="accept"/>
    <bpmn:userTask id="accept" name="受理" tb:role="clerk" tb:department="xzspj-zhslk" tb:limitDays="1"/>
    <bpmn:sequenceFlow id="f1" sourceRef="accept" targetRef="fork"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:sequenceFlow id="a1" sourceRef="fork" targetRef="reg"/>
    <bpmn:sequenceFlow id="a2" sourceRef="fork" targetRef="seal"/>
    <bpmn:sequenceFlow id="a3" sourceRef="fork" targetRef="tax"/>
    <bpmn:userTask id="reg" name="设立登记" tb:department="xzspj-qyfwk"/>
    <bpmn:userTask id="seal" name="公章刻制" tb:department="gaj"/>
    <bpmn:userTask id="tax" name="发票申领" tb:department="swj-nsfwk"/>
    <bpmn:sequenceFlow id="b1" sourceRef="reg" targetRef="join"/>
    <bpmn:sequenceFlow id="b2" sourceRef="seal" targetRef="join"/>
    <bpmn:sequenceFlow id="b3" sourceRef="tax" targetRef="join"/>
    <bpmn:parallelGateway id="join"/>
    <bpmn:sequenceFlow id="c1" sourceRef="join" targetRef="issue"/>
    <bpmn:userTask id="issue" name="出件" tb:role="clerk" tb:department="xzspj-zhslk"/>
    <bpmn:sequenceFlow id="c2" sourceRef="issue" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>""")

EXCLUSIVE = document("""
  <bpmn:process id="licence" name="许可">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="review"/>
    <bpmn:userTask id="review" name="审查" tb:department="scjgj-spjyk" tb:limitDays="3"/>
    <bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="size"/>
    <bpmn:exclusiveGateway id="size" default="small"/>
    <bpmn:sequenceFlow id="big" sourceRef="size" targetRef="head">
      <bpmn:conditionExpression>area &gt; 500 or risk == "high"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="small" sourceRef="size" targetRef="mark"/>
    <bpmn:userTask id="head" name="科长审核" tb:role="section_head" tb:department="scjgj-spjyk"/>
    <bpmn:sequenceFlow id="h1" sourceRef="head" targetRef="mark"/>
    <bpmn:scriptTask id="mark" name="记录" tb:function="mark_decided"/>
    <bpmn:sequenceFlow id="m1" sourceRef="mark" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>""")

COUNTERSIGN = document("""
  <bpmn:process id="cs" name="会签">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="sign"/>
    <bpmn:userTask id="sign" name="会签" tb:department="scjgj" tb:countersign="2" tb:collection="signers">
      <bpmn:multiInstanceLoopCharacteristics isSequential="false"/>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="sign" targetRef="gate"/>
    <bpmn:exclusiveGateway id="gate"/>
    <bpmn:sequenceFlow id="ok" sourceRef="gate" targetRef="end_ok">
      <bpmn:conditionExpression>decision == "approve"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="no" sourceRef="gate" targetRef="end_no">
      <bpmn:conditionExpression>decision == "reject"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="end_ok"/>
    <bpmn:endEvent id="end_no"/>
  </bpmn:process>""")

CALL = document(
    """
  <bpmn:process id="parent" name="一件事">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="child_call"/>
    <bpmn:callActivity id="child_call" name="子事项" calledElement="child"/>
    <bpmn:sequenceFlow id="f1" sourceRef="child_call" targetRef="issue"/>
    <bpmn:userTask id="issue" name="出件" tb:role="clerk"/>
    <bpmn:sequenceFlow id="f2" sourceRef="issue" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>""",
    """
  <bpmn:process id="child" name="子事项">
    <bpmn:startEvent id="cstart"/>
    <bpmn:sequenceFlow id="g0" sourceRef="cstart" targetRef="work"/>
    <bpmn:userTask id="work" name="审查"/>
    <bpmn:sequenceFlow id="g1" sourceRef="work" targetRef="cend"/>
    <bpmn:endEvent id="cend"/>
  </bpmn:process>""",
)
