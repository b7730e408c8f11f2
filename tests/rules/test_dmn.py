"""DMN as other tools write it: hit policies, requirement graphs, item definitions, refusals."""

from decimal import Decimal

import pytest

from tongban.core.i18n import bilingual
from tongban.rules import dmn
from tongban.rules.errors import DmnError, Unsupported

NS = {
    "1.1": "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "1.3": "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "1.5": "https://www.omg.org/spec/DMN/20230324/MODEL/",
}


def model(body: str, version: str = "1.5", extra: str = "") -> dmn.Model:
    return dmn.load(
        f'<definitions xmlns="{NS[version]}" {extra} id="d" name="test" namespace="urn:test">'
        f"{body}</definitions>"
    )


def table(
    policy: str, rules: list[tuple[str, str]], *, aggregation: str = "", outputs: str = "", inputs=None
) -> str:
    """A decision "D" over input data "Age" with one output column unless ``outputs`` says otherwise."""
    inputs = inputs or [
        '<input id="i1" label="Age"><inputExpression typeRef="number">'
        "<text>Age</text></inputExpression></input>"
    ]
    outputs = outputs or '<output id="o1" name="out"/>'
    rows = "".join(
        f'<rule id="r{n}"><inputEntry><text>{when}</text></inputEntry>'
        + "".join(f"<outputEntry><text>{v}</text></outputEntry>" for v in then.split("|"))
        + "</rule>"
        for n, (when, then) in enumerate(rules, start=1)
    )
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    return (
        '<inputData id="age" name="Age"><variable name="Age" typeRef="number"/></inputData>'
        '<decision id="D" name="D"><informationRequirement>'
        '<requiredInput href="#age"/></informationRequirement>'
        f'<decisionTable hitPolicy="{policy}"{agg}>{"".join(inputs)}{outputs}{rows}</decisionTable>'
        "</decision>"
    )


def decide(m: dmn.Model, **inputs):
    result = m.evaluate(inputs).decisions["D"]
    return result.value, result


RULES = [("&gt;= 18", '"adult"'), ("&gt;= 60", '"senior"'), ("&lt; 18", '"minor"')]
PRIORITY_OUTPUT = (
    '<output id="o1" name="out"><outputValues><text>"senior","adult","minor"</text></outputValues></output>'
)


def test_unique_first_and_any():
    unique = model(table("UNIQUE", RULES))
    assert decide(unique, Age=30)[0] == "adult"
    value, result = decide(unique, Age=70)  # two rules match: the UNIQUE policy is violated
    assert value is None and result.matched == ["r1", "r2"]
    assert (
        "UNIQUE" in bilingual(result.errors[0])["en"] and "UNIQUE" in bilingual(result.errors[0])["zh-Hans"]
    )
    assert decide(model(table("FIRST", RULES)), Age=70)[0] == "adult"
    assert decide(model(table("ANY", [("&gt;= 18", '"yes"'), ("&gt;= 60", '"yes"')])), Age=70)[0] == "yes"
    value, result = decide(model(table("ANY", RULES)), Age=70)
    assert value is None and result.errors


def test_priority_and_output_order_follow_the_output_values():
    assert decide(model(table("PRIORITY", RULES, outputs=PRIORITY_OUTPUT)), Age=70)[0] == "senior"
    assert decide(model(table("OUTPUT ORDER", RULES, outputs=PRIORITY_OUTPUT)), Age=70)[0] == [
        "senior",
        "adult",
    ]
    assert decide(model(table("RULE ORDER", RULES)), Age=70)[0] == ["adult", "senior"]
    with pytest.raises(DmnError):
        model(table("PRIORITY", RULES))  # no output values: no order to choose by


def test_collect_with_and_without_aggregation():
    numbers = [("&gt; 1", "100"), ("&gt; 2", "200"), ("&gt; 3", "300")]
    assert decide(model(table("COLLECT", numbers)), Age=4)[0] == [100, 200, 300]
    assert decide(model(table("COLLECT", numbers, aggregation="SUM")), Age=4)[0] == 600
    assert decide(model(table("COLLECT", numbers, aggregation="COUNT")), Age=4)[0] == 3
    assert decide(model(table("COLLECT", numbers, aggregation="MIN")), Age=4)[0] == 100
    assert decide(model(table("COLLECT", numbers, aggregation="MAX")), Age=4)[0] == 300
    assert decide(model(table("COLLECT", numbers, aggregation="COUNT")), Age=0)[0] == 0
    assert decide(model(table("COLLECT", numbers, aggregation="SUM")), Age=0)[0] is None
    with pytest.raises(DmnError):
        model(table("FIRST", numbers, aggregation="SUM"))


def test_missing_input_matches_no_test_but_the_any_cell():
    m = model(table("FIRST", [("&lt; 18", '"minor"'), ("-", '"unknown"')]))
    value, result = decide(m)  # Age not given: null; "< 18" is unknown, so only "-" matches
    assert value == "unknown" and result.matched == ["r2"]


def test_default_output_entries_and_several_outputs():
    outputs = (
        '<output name="status"><defaultOutputEntry><text>"manual"</text></defaultOutputEntry></output>'
        '<output name="reason"><defaultOutputEntry><text>"no rule"</text></defaultOutputEntry></output>'
    )
    m = model(table("UNIQUE", [("&gt;= 60", '"approve"|"老年人"')], outputs=outputs))
    assert decide(m, Age=65)[0] == {"status": "approve", "reason": "老年人"}
    assert decide(m, Age=30)[0] == {"status": "manual", "reason": "no rule"}


def test_input_values_and_input_entries_that_read_variables():
    inputs = [
        '<input label="Kind"><inputExpression typeRef="string"><text>Kind</text></inputExpression>'
        '<inputValues><text>"a","b"</text></inputValues></input>'
    ]
    body = (
        '<inputData id="k" name="Kind"><variable name="Kind" typeRef="string"/></inputData>'
        '<inputData id="m" name="Max Age"><variable name="Max Age" typeRef="number"/></inputData>'
        '<decision id="D" name="D"><decisionTable hitPolicy="FIRST">'
        + inputs[0]
        + '<input label="Age"><inputExpression><text>Age</text></inputExpression></input>'
        '<output name="ok"/>'
        '<rule><inputEntry><text>"a"</text></inputEntry><inputEntry><text>&lt;= Max Age</text></inputEntry>'
        "<outputEntry><text>true</text></outputEntry></rule>"
        "</decisionTable></decision>"
        '<inputData id="age" name="Age"><variable name="Age" typeRef="number"/></inputData>'
    )
    m = model(body)
    assert m.evaluate({"Kind": "a", "Age": 30, "Max Age": 40}).value("D") is True
    assert m.evaluate({"Kind": "a", "Age": 50, "Max Age": 40}).value("D") is None
    refused = m.evaluate({"Kind": "z", "Age": 30, "Max Age": 40}).decisions["D"]
    assert refused.value is None and "input values" in bilingual(refused.errors[0])["en"]


def test_requirement_graph_evaluates_required_decisions_first():
    body = (
        '<inputData id="s" name="Monthly Salary">'
        '<variable name="Monthly Salary" typeRef="number"/></inputData>'
        '<decision id="y" name="Yearly Salary"><variable name="Yearly Salary" typeRef="number"/>'
        '<informationRequirement><requiredInput href="#s"/></informationRequirement>'
        "<literalExpression><text>12 * Monthly Salary</text></literalExpression></decision>"
        '<decision id="b" name="Bonus"><informationRequirement>'
        '<requiredDecision href="#y"/></informationRequirement>'
        "<literalExpression><text>Yearly Salary / 12</text></literalExpression></decision>"
    )
    m = model(body)
    assert m.order == ["Yearly Salary", "Bonus"]
    result = m.evaluate({"Monthly Salary": 1000}, ["Bonus"])
    assert result.value("Bonus") == 1000 and list(result.decisions) == ["Bonus"]
    assert m.evaluate({"Monthly Salary": "abc"}).value("Bonus") is None  # not a number: null, reported
    assert m.evaluate({"Monthly Salary": "abc"}).input_errors


def test_cycles_are_refused_naming_the_decisions():
    body = (
        '<decision id="a" name="A"><informationRequirement>'
        '<requiredDecision href="#b"/></informationRequirement>'
        "<literalExpression><text>B + 1</text></literalExpression></decision>"
        '<decision id="b" name="B"><informationRequirement>'
        '<requiredDecision href="#a"/></informationRequirement>'
        "<literalExpression><text>A + 1</text></literalExpression></decision>"
    )
    with pytest.raises(DmnError) as caught:
        model(body)
    text = bilingual(caught.value.message)
    assert "A → B → A" in text["en"] and "循环" in text["zh-Hans"]


def test_item_definitions_with_components_collections_and_allowed_values():
    body = (
        '<itemDefinition name="tStatus"><typeRef>string</typeRef>'
        '<allowedValues><text>"EMPLOYED","UNEMPLOYED"</text></allowedValues></itemDefinition>'
        '<itemDefinition name="tLoan"><itemComponent name="amount"><typeRef>number</typeRef></itemComponent>'
        '<itemComponent name="rate"><typeRef>number</typeRef></itemComponent></itemDefinition>'
        '<itemDefinition name="tNames" isCollection="true"><typeRef>string</typeRef></itemDefinition>'
        '<inputData id="s" name="Status"><variable name="Status" typeRef="tStatus"/></inputData>'
        '<inputData id="l" name="Loan"><variable name="Loan" typeRef="tLoan"/></inputData>'
        '<decision id="d1" name="Statement"><literalExpression>'
        '<text>"You are " + Status</text></literalExpression></decision>'
        '<decision id="d2" name="Interest"><literalExpression>'
        "<text>Loan.amount * Loan.rate</text></literalExpression></decision>"
        '<decision id="d3" name="Names"><variable name="Names" typeRef="tNames"/>'
        '<literalExpression><text>"only one"</text></literalExpression></decision>'
    )
    m = model(body)
    ok = m.evaluate({"Status": "EMPLOYED", "Loan": {"amount": 1000, "rate": 0.05}})
    assert ok.value("Statement") == "You are EMPLOYED" and ok.value("Interest") == Decimal("50.00")
    assert ok.value("Names") == ["only one"]  # a single value where a collection is declared: a one-item list
    bad = m.evaluate({"Status": "RETIRED", "Loan": {"amount": "lots", "rate": 0.05}})
    assert bad.value("Statement") is None and bad.value("Interest") is None and len(bad.input_errors) == 2


def test_knowledge_models_invocations_and_contexts():
    body = (
        '<businessKnowledgeModel id="pmt" name="PMT"><encapsulatedLogic>'
        '<formalParameter name="p" typeRef="number"/><formalParameter name="r" typeRef="number"/>'
        '<formalParameter name="n" typeRef="number"/>'
        "<literalExpression><text>(p*r/12)/(1-(1+r/12)**-n)</text></literalExpression>"
        "</encapsulatedLogic></businessKnowledgeModel>"
        '<decision id="m" name="Monthly"><knowledgeRequirement>'
        '<requiredKnowledge href="#pmt"/></knowledgeRequirement>'
        "<invocation><literalExpression><text>PMT</text></literalExpression>"
        '<binding><parameter name="p"/><literalExpression><text>600000</text></literalExpression></binding>'
        '<binding><parameter name="r"/><literalExpression><text>0.0375</text></literalExpression></binding>'
        '<binding><parameter name="n"/><literalExpression><text>360</text></literalExpression></binding>'
        "</invocation></decision>"
        '<decision id="c" name="Summary"><context>'
        '<contextEntry><variable name="base"/><literalExpression>'
        "<text>PMT(1200, 0, 12)</text></literalExpression></contextEntry>"
        "<contextEntry><literalExpression><text>base * 2</text></literalExpression></contextEntry>"
        "</context></decision>"
    )
    m = model(body)
    result = m.evaluate({})
    assert abs(result.value("Monthly") - Decimal("2778.69354943277")) < Decimal("1e-8")
    assert result.value("Summary") is None  # r = 0: division by zero is null, not a crash


def test_dmn_1_1_documents_with_qualified_type_refs():
    body = (
        '<inputData id="a" name="age"><variable name="age" typeRef="feel:number"/></inputData>'
        '<decision id="D" name="D"><decisionTable hitPolicy="FIRST">'
        '<input><inputExpression typeRef="feel:number"><text>age</text></inputExpression></input>'
        '<output name="band" typeRef="feel:string"/>'
        "<rule><inputEntry><text>[18..60]</text></inputEntry>"
        '<outputEntry><text>"adult"</text></outputEntry></rule>'
        "</decisionTable></decision>"
    )
    m = model(body, "1.1", 'xmlns:feel="http://www.omg.org/spec/FEEL/20140401"')
    assert m.version == "1.1" and m.evaluate({"age": 30}).value("D") == "adult"


@pytest.mark.parametrize(
    "body,error",
    [
        ('<import namespace="urn:x" locationURI="x.dmn" importType="dmn"/>', Unsupported),
        (
            '<decision id="d" name="D"><literalExpression expressionLanguage="juel"><text>${x}</text>'
            "</literalExpression></decision>",
            Unsupported,
        ),
        (
            '<businessKnowledgeModel id="b" name="B"><encapsulatedLogic kind="Java">'
            "<literalExpression><text>x</text></literalExpression>"
            "</encapsulatedLogic></businessKnowledgeModel>",
            Unsupported,
        ),
        ('<decision id="d" name="D"><conditional/></decision>', Unsupported),
        (
            '<decision id="d" name="D"><literalExpression><text>1 +</text></literalExpression></decision>',
            DmnError,
        ),
        (
            '<decision id="d" name="D"><literalExpression>'
            "<text>unknownFn(1)</text></literalExpression></decision>",
            DmnError,
        ),
        (
            '<decision id="d" name="D"><informationRequirement><requiredDecision href="other.dmn#x"/>'
            "</informationRequirement></decision>",
            Unsupported,
        ),
        ('<decision id="d" name="D"><variable name="D" typeRef="tNope"/></decision>', DmnError),
    ],
)
def test_refusals_name_the_element(body, error):
    with pytest.raises(error) as caught:
        model(body)
    text = bilingual(caught.value.message)
    assert text["en"] != text["zh-Hans"]
    if error is Unsupported or "<decision" in body:
        assert "“D”" in text["en"] or "import" in text["en"] or "“B”" in text["en"]


@pytest.mark.parametrize(
    "xml",
    [
        b"not xml",
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]>'
        b'<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/"/>',
        b'<definitions xmlns="urn:not-dmn"/>',
        b"<definitions/>",
        b"x" * (dmn.MAX_BYTES + 1),
        "不是 XML",
        None,
    ],
)
def test_bad_documents_are_refused_without_a_crash(xml):
    with pytest.raises(DmnError):
        dmn.load(xml)


def test_lenient_loading_keeps_the_decisions_it_can_read():
    body = (
        '<decision id="a" name="A"><literalExpression><text>1 + 1</text></literalExpression></decision>'
        '<decision id="b" name="B"><literalExpression><text>nope(1)</text></literalExpression></decision>'
    )
    m = dmn.load(f'<definitions xmlns="{NS["1.5"]}" name="t">{body}</definitions>', strict=False)
    result = m.evaluate({})
    assert result.value("A") == 2 and result.value("B") is None and result.decisions["B"].errors
