"""The DMN TCK's compliance level 2, as other tools wrote it: no wrong answer, and the pass ratio.
The benchmark (``make bench NAME=dmn_tck``) prints the same count with each failure."""

from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import shared_data_dir
from tongban.rules.testcases import read_suite, run_folder, same


def _level_2() -> Path:
    data = shared_data_dir()
    folder = Path(data) / "dmn-tck" / "compliance-level-2" if data else None
    if folder is None or not folder.is_dir():
        pytest.skip(
            "shared data (../shared/data, or TONGBAN_DATA_DIR) has no dmn-tck/compliance-level-2: TCK skipped"
        )
    return folder


def test_tck_level_2_gives_no_wrong_answer():
    outcomes = run_folder(_level_2())
    counts = Counter(o.status for o in outcomes)
    wrong = [f"{o.suite} #{o.case_id}: {o.describe()}" for o in outcomes if o.status == "wrong"]
    assert not wrong, "\n".join(wrong)
    assert len(outcomes) == 116  # 28 models, 116 test cases
    assert counts["passed"] / len(outcomes) >= 0.9, counts
    assert counts["passed"] == len(outcomes), [o.describe() for o in outcomes if o.status != "passed"]


def test_tck_comparison_rules():
    from decimal import Decimal

    assert same(Decimal("2778.69354943277"), Decimal("2778.693549432766768088520383236299"))
    assert not same(Decimal("1"), Decimal("1.0001"))
    assert same([{"a": Decimal(1)}], [{"a": Decimal("1.0")}])
    assert not same({"a": None}, {"a": None, "b": None})
    assert same(None, None) and not same(None, "")
    assert not same("1", Decimal(1))


def test_test_files_with_nested_values_are_read():
    xml = b"""<testCases xmlns="http://www.omg.org/spec/DMN/20160719/testcase"
        xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
      <modelName>m.dmn</modelName>
      <testCase id="1">
        <inputNode name="loan"><component name="amount">
          <value xsi:type="xsd:decimal">10</value></component></inputNode>
        <inputNode name="when"><value xsi:type="xsd:date">2026-01-01</value></inputNode>
        <inputNode name="none"><value xsi:nil="true"/></inputNode>
        <resultNode name="r"><expected><list><item>
          <value xsi:type="xsd:string">a</value></item></list></expected></resultNode>
      </testCase>
    </testCases>"""
    suite = read_suite(xml)
    case = suite.cases[0]
    assert suite.model_name == "m.dmn"
    assert case.inputs["loan"] == {"amount": 10} and str(case.inputs["when"]) == "2026-01-01"
    assert case.inputs["none"] is None and case.results[0].value == ["a"]
