"""A DMN model written by another tool is attached to a 秒批 item unchanged: the 秒批 contract
(which decision and output decide, which values approve, where each input comes from, which are
required) is a mapping made when it is attached, not a constraint on the file."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import samples
from tests.cases.test_office_views import RULES, _actor, _html, _login, auto_item  # noqa: F401 - fixture
from tongban.cases import rules, services
from tongban.cases.models import Case, DecisionTable

# As a DMN modeler writes it: input data with spaces in their names, typed; a decision requiring
# another; its own output values; hit policy PRIORITY; no data./check. keys, no "decision" output.
SHOP_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="shop" name="Small shop"
             namespace="http://example.com/shop">
  <inputData id="area" name="Shop Area"><variable name="Shop Area" typeRef="number"/></inputData>
  <inputData id="complete" name="Materials Complete">
    <variable name="Materials Complete" typeRef="boolean"/>
  </inputData>
  <decision id="risk" name="Risk">
    <variable name="Risk" typeRef="string"/>
    <informationRequirement><requiredInput href="#area"/></informationRequirement>
    <literalExpression><text>if Shop Area &gt; 200 then "high" else "low"</text></literalExpression>
  </decision>
  <decision id="eligibility" name="Eligibility">
    <variable name="Eligibility" typeRef="string"/>
    <informationRequirement><requiredDecision href="#risk"/></informationRequirement>
    <informationRequirement><requiredInput href="#complete"/></informationRequirement>
    <decisionTable id="t" hitPolicy="PRIORITY">
      <input id="i1" label="Risk">
        <inputExpression typeRef="string"><text>Risk</text></inputExpression>
      </input>
      <input id="i2" label="Complete">
        <inputExpression typeRef="boolean"><text>Materials Complete</text></inputExpression>
      </input>
      <output id="o1" name="Eligibility" typeRef="string">
        <outputValues><text>"INELIGIBLE","ELIGIBLE"</text></outputValues>
      </output>
      <rule id="ok"><inputEntry><text>"low"</text></inputEntry><inputEntry><text>true</text></inputEntry>
        <outputEntry><text>"ELIGIBLE"</text></outputEntry></rule>
      <rule id="risky"><inputEntry><text>"high"</text></inputEntry><inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"INELIGIBLE"</text></outputEntry></rule>
      <rule id="incomplete"><inputEntry><text>-</text></inputEntry><inputEntry><text>false</text></inputEntry>
        <outputEntry><text>"INELIGIBLE"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""

CONTRACT = {
    "decision": "Eligibility",
    "outcome": "",
    "approve": ["ELIGIBLE"],
    "inputs": {"Shop Area": "data.area", "Materials Complete": "check.materials_complete"},
    "required": ["Shop Area"],
}


def test_a_model_from_another_tool_decides_through_its_contract():
    table = rules.validate_dmn_table(SHOP_DMN.encode(), CONTRACT)
    assert table["format"] == "dmn" and table["name"] == "Small shop"
    assert [c["key"] for c in table["inputs"]] == ["data.area", "check.materials_complete"]

    def decide(data, check):
        return rules.evaluate(table, {"data": data, "check": check})

    approved = decide({"area": "150"}, {"materials_complete": True})  # form text taken as a number
    assert (approved.decision, approved.rule_id, approved.cause) == ("approve", "ok", "rule")
    assert approved.outputs == {"decision": "approve", "Eligibility": "ELIGIBLE"}
    risky = decide({"area": 800}, {"materials_complete": True})
    assert (risky.decision, risky.rule_id, risky.outputs["Eligibility"]) == ("manual", "risky", "INELIGIBLE")
    # A required input that is missing stops the model before it runs; the record says which.
    missing = decide({}, {"materials_complete": True})
    assert (missing.decision, missing.cause, missing.matched) == ("manual", "missing", ())
    assert [(f.key, f.problem) for f in missing.failed] == [("data.area", "missing")]
    assert json.dumps(missing.as_record(), ensure_ascii=False)  # storable in the decision basis
    # An input the contract does not require may be null: the model's own rules then decide.
    unknown = decide({"area": 100}, {})
    assert (unknown.decision, unknown.cause) == ("manual", "no_match")
    assert rules.table_to_dmn(table) == SHOP_DMN.encode()  # given back as it came
    assert rules.validate_table(table) == table


def test_a_contract_that_does_not_fit_the_model_is_refused_per_field():
    bad = {
        "decision": "Nope",
        "approve": [],
        "inputs": {"Shop Area": "form.area", "Colour": "data.colour"},
        "required": ["Colour"],
        "extra": 1,
    }
    with pytest.raises(rules.InvalidInput) as refused:
        rules.validate_dmn_table(SHOP_DMN.encode(), bad)
    assert set(refused.value.fields) >= {
        "contract.decision",
        "contract.approve",
        "contract.inputs.Shop Area",
        "contract.inputs.Materials Complete",
        "contract.inputs.Colour",
        "contract.required",
    }
    with pytest.raises(rules.InvalidInput) as not_dmn:
        rules.validate_dmn_table(b"<nope/>", CONTRACT)
    assert "dmn" in not_dmn.value.fields


def test_a_manager_attaches_the_model_with_its_contract_and_cases_are_decided_by_it(auto_item):  # noqa: F811
    admin = _login("admin")
    upload = SimpleUploadedFile("shop.dmn", SHOP_DMN.encode())
    page = _html(
        admin.post(f"{RULES}/dmn", {"dmn": upload, "contract": json.dumps({**CONTRACT, "approve": []})})
    )
    assert "contract" in page and not DecisionTable.objects.exists()
    upload = SimpleUploadedFile("shop.dmn", SHOP_DMN.encode())
    response = admin.post(f"{RULES}/dmn", {"dmn": upload, "contract": json.dumps(CONTRACT)})
    assert response.status_code == 302
    draft = DecisionTable.objects.get(item__code=auto_item, status="draft")
    assert draft.table["contract"]["approve"] == ["ELIGIBLE"] and "<definitions" in draft.table["dmn"]
    html = _html(admin.get(RULES))
    assert 'data-testid="dmn-contract-view"' in html and "data.area" in html
    assert admin.get(f"{RULES}/v{draft.version}.dmn").content == SHOP_DMN.encode()

    services.tables.publish(_actor("admin"), auto_item)
    case = services.apply_online(
        _actor("zhangsan"),
        item_code=auto_item,
        data={**_form(), "area": "800"},
        files={"营业执照": samples.upload()},
    )
    services.accept(_actor("clerk"), case.number)
    basis = Case.objects.get(pk=case.pk).decision_basis
    assert basis["kind"] == "rules_failed" and basis["rule"] == "risky" and basis["hit_policy"] == "DMN"


def _form() -> dict:
    from tests.cases.test_office_views import _data

    return _data()
