"""秒批 decision tables: reading cells, deciding cases, refusing bad tables, and DMN in and out.

Plain functions with no database: the rules module is pure and the case services wire it in.
"""

import copy
import datetime as dt
import json
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.utils import timezone, translation
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tongban.cases import rules
from tongban.cases.rules import UNUSABLE, CellError, evaluate, parse_cell, table_from_dmn, table_to_dmn
from tongban.core.errors import InvalidInput


def elderly_card_table(**changes) -> dict:
    """老年人优待证: residents of 60 and over with a verified identity are approved; others go to a person."""
    table = {
        "name": "老年人优待证秒批",
        "hit_policy": "FIRST",
        "inputs": [
            {"key": "data.age", "label": "申请人年龄", "type": "number"},
            {"key": "check.id_valid", "label": "身份核验", "type": "boolean"},
            {"key": "data.district", "label": "户籍所在区", "type": "string"},
            {"key": "data.residence_since", "label": "落户日期", "type": "date"},
        ],
        "outputs": [
            {"key": "decision", "label": "结论", "type": "string"},
            {"key": "reason", "label": "理由", "type": "string"},
        ],
        "rules": [
            {
                "id": "blacklisted",
                "when": ["-", "false", "-", "-"],
                "then": ["manual", "身份核验未通过"],
                "note": "A failed identity check always goes to a person.",
            },
            {
                "id": "resident_60",
                "when": ["[60..150]", "true", '"511602", "511603"', '<= date("2025-12-31")'],
                "then": ["approve", "年满60周岁的本区户籍居民"],
            },
            {"id": "other", "when": ["-", "-", "-", "-"], "then": ["manual", "其他情形"]},
        ],
    }
    table.update(changes)
    return table


def context(**data) -> dict:
    check = {"id_valid": data.pop("id_valid", True)}
    base = {"age": 66, "district": "511602", "residence_since": "1990-05-01"}
    base.update(data)
    return {"data": {k: v for k, v in base.items() if v is not _ABSENT}, "check": check}


_ABSENT = object()


def problems(exc: InvalidInput) -> dict[str, list[str]]:
    """Field → codes, to assert where each problem was reported."""
    return {name: [p.code for p in found] for name, found in exc.fields.items()}


def english(exc: InvalidInput, field_name: str) -> str:
    with translation.override("en"):
        return " ".join(exc.messages_for(field_name))


# ---------------------------------------------------------------------------------------------
# Cells


@pytest.mark.parametrize(
    ("cell", "value", "expected"),
    [
        ("-", Decimal(5), True),
        ("-", None, True),
        ("-", UNUSABLE, True),
        ("", "anything", True),
        ('"511602"', "511602", True),
        ('"511602"', "511603", False),
        ('"他说\\"好\\""', '他说"好"', True),
        ("42", Decimal(42), True),
        ("42", Decimal("42.0"), True),
        ("42", Decimal(43), False),
        ("-1.5", Decimal("-1.5"), True),
        ("true", True, True),
        ("true", False, False),
        ("false", False, True),
        ('date("2026-01-01")', dt.date(2026, 1, 1), True),
        ('date("2026-01-01")', dt.date(2026, 1, 2), False),
        ("null", None, True),
        ("null", Decimal(0), False),
        ("= null", None, True),
        ("!= null", Decimal(0), True),
        ("!= null", None, False),
        ("< 5", Decimal(4), True),
        ("< 5", Decimal(5), False),
        ("<= 5", Decimal(5), True),
        ("<= 5", Decimal("5.01"), False),
        ("> 5", Decimal(5), False),
        ("> 5", Decimal("5.5"), True),
        (">= 5", Decimal(5), True),
        (">=5", Decimal(4), False),
        ("< -3", Decimal(-4), True),
        ('= "x"', "x", True),
        ('!= "x"', "x", False),
        ('!= "x"', "y", True),
        ('< date("2026-01-01")', dt.date(2025, 12, 31), True),
        ('< "b"', "a", True),
        ("[18..60]", Decimal(18), True),
        ("[18..60]", Decimal(60), True),
        ("[18..60]", Decimal(61), False),
        ("(18..60)", Decimal(18), False),
        ("(18..60)", Decimal(19), True),
        ("(18..60)", Decimal(60), False),
        ("]18..60[", Decimal(18), False),
        ("]18..60[", Decimal("59.9"), True),
        ("]18..60[", Decimal(60), False),
        ("[18..60)", Decimal(18), True),
        ("[18..60)", Decimal(60), False),
        ("(18..60]", Decimal(60), True),
        ("[-10..-1]", Decimal(-5), True),
        ('[date("2026-01-01")..date("2026-12-31")]', dt.date(2026, 6, 1), True),
        ('[date("2026-01-01")..date("2026-12-31")]', dt.date(2027, 1, 1), False),
        ('"a", "b", "c"', "b", True),
        ('"a", "b", "c"', "d", False),
        ("1, [5..9], > 100", Decimal(7), True),
        ("1, [5..9], > 100", Decimal(101), True),
        ("1, [5..9], > 100", Decimal(3), False),
        ("null, 0", None, True),
        ('not("a", "b")', "c", True),
        ('not("a", "b")', "a", False),
        ("not([1..5])", Decimal(6), True),
        ("not([1..5])", Decimal(3), False),
        ("not(null)", Decimal(3), True),
        ("not(null)", None, False),
        # A missing or unusable value never passes a test that does not name null.
        ("< 5", None, False),
        ("!= 5", None, False),
        ('not("a")', None, False),
        ("not(5)", UNUSABLE, False),
        ('!= "x"', UNUSABLE, False),
        ("null", UNUSABLE, False),
    ],
)
def test_every_cell_form_reads_and_matches(cell, value, expected):
    assert parse_cell(cell).matches(value) is expected


@pytest.mark.parametrize(
    ("cell", "op", "low_closed", "high_closed"),
    [
        ("[1..5]", "range", True, True),
        ("(1..5)", "range", False, False),
        ("]1..5[", "range", False, False),
        ("[1..5[", "range", True, False),
        ("]1..5]", "range", False, True),
    ],
)
def test_range_ends_are_read_as_open_or_closed(cell, op, low_closed, high_closed):
    (test,) = parse_cell(cell).tests
    assert (test.op, test.value, test.high) == (op, Decimal(1), Decimal(5))
    assert (test.low_closed, test.high_closed) == (low_closed, high_closed)


def test_cells_keep_the_text_the_administrator_wrote():
    cell = parse_cell('  not( "a" ,"b" )  ')
    assert cell.source == 'not( "a" ,"b" )'
    assert cell.negated
    assert [t.value for t in cell.tests] == ["a", "b"]


@pytest.mark.parametrize(
    ("cell", "hint"),
    [
        ("[1..", "stops where a value is expected"),
        ("[1..5", "a range must end with"),
        ("[1..2}", "unexpected “}”"),
        ("< ", "stops where a value is expected"),
        ("1 2", "unexpected “2” at position 3"),
        ("男", "put text in double quotes"),
        ("approve", "put text in double quotes"),
        ('"open', "has no closing quote"),
        ('"bad \\q escape"', "unknown escape"),
        ("1，2", "half-width"),
        ("“a”", "half-width"),
        ("- 5", "must stand alone"),
        ("not(not(1))", "must wrap the whole condition"),
        ("1, not(2)", "must wrap the whole condition"),
        ("not 5", "expected “(”"),
        ("[5..1]", "the range is empty"),
        ("(5..5]", "the range is empty"),
        ('[1.."9"]', "same kind"),
        ("[null..5]", "null cannot be an end"),
        ('date("2026-13-01")', "is not a date"),
        ("date(2026-01-01)", "write a date in quotes"),
        ("[1 5]", "expected “..”"),
        ("a + b", "unknown word"),
        ("__import__('os')", "unknown word"),
        ("x" * 501, "at most 500 characters"),
    ],
)
def test_unreadable_cells_are_refused_with_a_reason(cell, hint):
    with pytest.raises(CellError) as caught:
        parse_cell(cell)
    with translation.override("en"):
        assert hint in str(caught.value.message)


# ---------------------------------------------------------------------------------------------
# Evaluation


def test_a_case_that_passes_is_approved_and_the_record_names_the_rule_and_the_data():
    result = evaluate(elderly_card_table(), context(age="66"))  # a form field may arrive as text
    assert result.decision == "approve"
    assert result.approved
    assert result.rule_id == "resident_60"
    assert result.cause == "rule"
    assert result.outputs == {"decision": "approve", "reason": "年满60周岁的本区户籍居民"}
    assert result.failed == ()
    record = result.as_record()
    assert json.loads(json.dumps(record)) == record
    assert record["table"] == "老年人优待证秒批"
    assert record["rule"] == "resident_60"
    assert record["matched_rules"] == ["resident_60", "other"]
    assert record["inputs"][0] == {"key": "data.age", "label": "申请人年龄", "value": "66", "status": "ok"}
    assert record["inputs"][1]["value"] is True
    assert record["outputs"]["decision"] == "approve"
    assert record["failed"] == []
    assert len(record["table_digest"]) == 64
    with translation.override("en"):
        assert "resident_60" in str(result.reason)


def test_first_hit_policy_takes_the_first_matching_rule_in_table_order():
    table = elderly_card_table()
    result = evaluate(table, context(id_valid=False))
    assert (result.decision, result.rule_id) == ("manual", "blacklisted")
    assert result.outputs["reason"] == "身份核验未通过"

    reordered = elderly_card_table(rules=[table["rules"][2], table["rules"][0], table["rules"][1]])
    result = evaluate(reordered, context())
    assert (result.decision, result.rule_id) == ("manual", "other")
    assert result.matched == ("other", "resident_60")


def test_unique_hit_policy_with_two_matches_goes_to_a_person_with_the_reason():
    table = elderly_card_table(hit_policy="UNIQUE")
    result = evaluate(table, context())
    assert result.decision == "manual"
    assert result.rule_id is None
    assert result.cause == "conflict"
    assert result.matched == ("resident_60", "other")
    assert result.outputs == {"decision": "manual"}
    with translation.override("en"):
        assert "resident_60, other" in str(result.reason)
    assert set(result.as_record()["reason"]) == {"zh-Hans", "en"}


def test_unique_hit_policy_with_one_match_decides():
    table = elderly_card_table(hit_policy="UNIQUE")
    table["rules"] = table["rules"][:2]
    assert evaluate(table, context()).rule_id == "resident_60"


def test_any_hit_policy_accepts_agreeing_rules_and_refuses_disagreeing_ones():
    table = elderly_card_table(hit_policy="ANY")
    table["rules"][2]["then"] = ["approve", "年满60周岁的本区户籍居民"]
    table["rules"][2]["when"] = [">= 60", "-", "-", "-"]
    assert evaluate(table, context()).rule_id == "resident_60"

    table["rules"][2]["then"] = ["manual", "其他情形"]
    result = evaluate(table, context())
    assert (result.decision, result.cause) == ("manual", "conflict")


def test_no_matching_rule_goes_to_a_person_showing_the_checks_that_failed():
    table = elderly_card_table()
    table["rules"] = table["rules"][:2]
    result = evaluate(table, context(age=45, district="110101"))
    assert result.decision == "manual"
    assert result.cause == "no_match"
    assert result.rule_id is None
    assert result.closest_rule_id == "resident_60"
    assert [(f.label, f.value, f.expected, f.problem) for f in result.failed] == [
        ("申请人年龄", 45, "[60..150]", "mismatch"),
        ("户籍所在区", "110101", '"511602", "511603"', "mismatch"),
    ]
    assert result.as_record()["failed"][0] == {
        "key": "data.age",
        "label": "申请人年龄",
        "value": 45,
        "expected": "[60..150]",
        "problem": "mismatch",
    }


def test_the_closest_rule_is_the_approving_rule_with_fewest_failed_cells():
    table = elderly_card_table()
    table["rules"].insert(
        2,
        {"id": "veteran", "when": ["[50..150]", "true", '"511602"', "-"], "then": ["approve", "优抚对象"]},
    )
    # Age 55 fails resident_60 on age only, and fails nothing of veteran in district 511602.
    result = evaluate(table, context(age=55))
    assert result.rule_id == "veteran"
    # In district 511603 both approving rules fail one cell: the earlier rule is the closer one.
    result = evaluate(table, context(age=55, district="511603"))
    assert result.decision == "manual"
    assert result.closest_rule_id == "resident_60"
    assert [f.key for f in result.failed] == ["data.age"]


def test_a_missing_value_fails_every_cell_but_any():
    result = evaluate(elderly_card_table(), context(age=_ABSENT, residence_since=""))
    assert result.decision == "manual"
    assert result.rule_id == "other"  # its cells are all "-"
    assert [(f.key, f.value, f.problem) for f in result.failed] == [
        ("data.age", None, "missing"),
        ("data.residence_since", "", "missing"),
    ]
    age = result.checks[0]
    assert (age.status, age.value) == ("missing", None)
    assert age.cells == {"blacklisted": True, "resident_60": False, "other": True}


def test_a_missing_context_section_is_missing_values_not_a_crash():
    result = evaluate(elderly_card_table(), {"data": {"age": 70}})
    assert result.decision == "manual"
    assert result.checks[1].status == "missing"


def test_null_cells_match_missing_values_on_purpose():
    table = elderly_card_table(
        rules=[
            {"id": "no_record", "when": ["-", "-", "-", "null"], "then": ["manual", "无落户记录"]},
            {"id": "ok", "when": ["-", "-", "-", "not(null)"], "then": ["approve", ""]},
        ]
    )
    assert evaluate(table, context(residence_since=None)).rule_id == "no_record"
    assert evaluate(table, context()).rule_id == "ok"


def test_a_value_of_the_wrong_type_fails_and_is_reported_as_such():
    result = evaluate(elderly_card_table(), context(age="六十六", id_valid="yes"))
    assert result.decision == "manual"
    assert [(c.key, c.status) for c in result.checks[:2]] == [
        ("data.age", "wrong_type"),
        ("check.id_valid", "wrong_type"),
    ]
    assert {f.key: f.problem for f in result.failed} == {
        "data.age": "wrong_type",
        "check.id_valid": "wrong_type",
    }


def test_numbers_compare_as_decimals_whatever_form_they_arrive_in():
    table = elderly_card_table(
        rules=[{"id": "small", "when": ["<= 0.1", "-", "-", "-"], "then": ["approve", ""]}],
        hit_policy="UNIQUE",
    )
    for value in (0.1, "0.1", Decimal("0.1"), 0, "-3"):
        assert evaluate(table, context(age=value)).decision == "approve", value
    for value in (0.10000001, "0.2", 1, True, "1e-3", float("nan")):
        assert evaluate(table, context(age=value)).decision == "manual", value


def test_dates_are_read_from_text_dates_and_aware_datetimes():
    table = elderly_card_table()
    assert evaluate(table, context(residence_since=dt.date(2025, 12, 31))).decision == "approve"
    assert evaluate(table, context(residence_since="2026-01-01")).decision == "manual"
    # 2025-12-31 17:00 UTC is already 2026-01-01 in Shanghai, the deployment's time zone.
    late = dt.datetime(2025, 12, 31, 17, 0, tzinfo=dt.UTC)
    assert timezone.localtime(late).date() == dt.date(2026, 1, 1)
    assert evaluate(table, context(residence_since=late)).decision == "manual"
    bad = evaluate(table, context(residence_since="2025-02-30"))
    assert bad.checks[3].status == "wrong_type"
    assert bad.as_record()["inputs"][3]["value"] == "2025-02-30"


def test_not_and_lists_in_a_table():
    table = elderly_card_table(
        rules=[
            {
                "id": "outside",
                "when": ["-", "-", 'not("511602", "511603")', "-"],
                "then": ["manual", "非本区"],
            },
            {"id": "inside", "when": ["60, 70, 80", "true", "-", "-"], "then": ["approve", "整寿"]},
        ]
    )
    assert evaluate(table, context(district="110101")).rule_id == "outside"
    assert evaluate(table, context(age=70)).rule_id == "inside"
    assert evaluate(table, context(age=71)).cause == "no_match"


def test_checks_show_for_each_input_which_rule_cells_matched():
    result = evaluate(elderly_card_table(), context(age=59))
    by_key = {c.key: c for c in result.checks}
    assert by_key["data.age"].cells == {"blacklisted": True, "resident_60": False, "other": True}
    assert by_key["data.district"].cells == {"blacklisted": True, "resident_60": True, "other": True}
    assert by_key["data.age"].value == 59


def test_the_record_of_typed_outputs_and_odd_values_is_json():
    table = elderly_card_table(
        outputs=[
            {"key": "decision", "type": "string"},
            {"key": "valid_days", "type": "number"},
            {"key": "renewable", "type": "boolean"},
            {"key": "valid_until", "type": "date"},
        ],
        rules=[
            {
                "id": "r1",
                "when": ["-", "-", "-", "-"],
                "then": ["approve", "365", "true", 'date("2030-12-31")'],
            }
        ],
    )
    result = evaluate(table, context(age=Decimal("66.5"), district="511602"))
    assert result.outputs == {
        "decision": "approve",
        "valid_days": 365,
        "renewable": True,
        "valid_until": "2030-12-31",
    }
    record = result.as_record()
    assert record["inputs"][0]["value"] == "66.5"
    assert json.loads(json.dumps(record, ensure_ascii=False)) == record


def test_the_table_digest_follows_the_table_content():
    one = evaluate(elderly_card_table(), context()).as_record()["table_digest"]
    same = evaluate(elderly_card_table(), context(age=90)).as_record()["table_digest"]
    changed_table = elderly_card_table()
    changed_table["rules"][1]["when"][0] = "[65..150]"
    other = evaluate(changed_table, context(age=90)).as_record()["table_digest"]
    assert one == same != other


def test_evaluating_a_broken_table_raises_the_validation_problems():
    with pytest.raises(InvalidInput) as caught:
        evaluate(elderly_card_table(hit_policy="SOMETIMES"), context())
    assert "hit_policy" in caught.value.fields


def test_a_compiled_table_is_reused_and_not_changed_by_later_edits_of_the_dict():
    table = elderly_card_table()
    compiled = rules.compile_table(table)
    assert rules.compile_table(copy.deepcopy(table)) is compiled
    table["rules"][1]["then"][0] = "manual"
    assert evaluate(compiled, context()).decision == "approve"
    assert evaluate(table, context()).decision == "manual"


# ---------------------------------------------------------------------------------------------
# Validation: one test per kind of problem, each at the place it is


def test_a_valid_table_is_normalised():
    table = elderly_card_table(hit_policy=" first ")
    table["inputs"][0] = {"key": "data.age", "type": "Number"}
    table["rules"][1]["then"][0] = '"approve"'
    table["rules"][2]["when"] = ["", " - ", "-", "-"]
    table["rules"][2].pop("id")
    normal = rules.validate_table(table)
    assert normal["hit_policy"] == "FIRST"
    assert normal["inputs"][0] == {"key": "data.age", "label": "data.age", "type": "number"}
    assert normal["rules"][1]["then"][0] == "approve"
    assert normal["rules"][2] == {
        "id": "rule_3",
        "when": ["-", "-", "-", "-"],
        "then": ["manual", "其他情形"],
        "note": "",
    }
    assert normal["description"] == ""
    assert rules.validate_table(normal) == normal


def test_json_numbers_and_booleans_in_cells_are_taken_as_written():
    table = elderly_card_table()
    table["rules"][1]["when"][:2] = [66, True]
    assert rules.validate_table(table)["rules"][1]["when"][:2] == ["66", "true"]


def test_hit_policy_defaults_to_unique_as_in_dmn():
    table = elderly_card_table()
    del table["hit_policy"]
    assert rules.validate_table(table)["hit_policy"] == "UNIQUE"


def _refused(table) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        rules.validate_table(table)
    return caught.value


def test_unknown_hit_policy():
    exc = _refused(elderly_card_table(hit_policy="SOMETIMES"))
    assert problems(exc) == {"hit_policy": ["hit_policy"]}
    assert "SOMETIMES" in english(exc, "hit_policy")


def test_hit_policies_with_several_results_are_refused():
    exc = _refused(elderly_card_table(hit_policy="COLLECT"))
    assert problems(exc) == {"hit_policy": ["hit_policy"]}
    assert "UNIQUE, FIRST or ANY" in english(exc, "hit_policy")


def test_wrong_number_of_cells():
    table = elderly_card_table()
    table["rules"][1]["when"] = ["[60..150]", "true"]
    table["rules"][2]["then"] = ["manual"]
    exc = _refused(table)
    assert problems(exc) == {"rules[1].when": ["cell_count"], "rules[2].then": ["cell_count"]}
    assert "Cells here: 2; columns in the table: 4" in english(exc, "rules[1].when")


def test_bad_syntax_points_at_the_cell():
    table = elderly_card_table()
    table["rules"][2]["when"][1] = "[1..5"
    exc = _refused(table)
    assert problems(exc) == {"rules[2].when[1]": ["syntax"]}
    assert english(exc, "rules[2].when[1]").startswith("Cannot read this condition: a range must end with")


def test_a_comparison_on_a_boolean_is_a_type_mismatch():
    table = elderly_card_table()
    table["rules"][1]["when"][1] = "> 5"
    exc = _refused(table)
    assert problems(exc) == {"rules[1].when[1]": ["type"]}
    assert "yes/no values cannot be compared" in english(exc, "rules[1].when[1]")


@pytest.mark.parametrize(
    ("column", "cell", "found"),
    [(0, '"sixty"', "text"), (1, "1", "number"), (2, "511602", "number"), (3, '"2025-01-01"', "text")],
)
def test_a_literal_of_another_type_is_a_type_mismatch(column, cell, found):
    table = elderly_card_table()
    table["rules"][1]["when"][column] = cell
    exc = _refused(table)
    path = f"rules[1].when[{column}]"
    assert problems(exc) == {path: ["type"]}
    assert f"uses a {found} value" in english(exc, path)


def test_null_cannot_be_ordered():
    table = elderly_card_table()
    table["rules"][1]["when"][0] = "< null"
    exc = _refused(table)
    assert problems(exc) == {"rules[1].when[0]": ["type"]}


def test_unknown_input_type():
    table = elderly_card_table()
    table["inputs"][1]["type"] = "bool"
    exc = _refused(table)
    assert problems(exc) == {"inputs[1].type": ["type"]}
    assert "bool" in english(exc, "inputs[1].type")


def test_input_keys_are_paths_into_data_or_check():
    table = elderly_card_table()
    table["inputs"][0]["key"] = "age"
    table["inputs"][1]["key"] = "request.user"
    exc = _refused(table)
    assert problems(exc) == {"inputs[0].key": ["invalid"], "inputs[1].key": ["invalid"]}
    assert "data.age" in english(exc, "inputs[0].key")


def test_duplicate_rule_ids():
    table = elderly_card_table()
    table["rules"][2]["id"] = "blacklisted"
    exc = _refused(table)
    assert problems(exc) == {"rules[2].id": ["duplicate"]}
    assert "blacklisted" in english(exc, "rules[2].id")


def test_rule_ids_must_survive_dmn_export():
    table = elderly_card_table()
    table["rules"][0]["id"] = "1 bad id"
    assert problems(_refused(table)) == {"rules[0].id": ["invalid"]}


def test_missing_decision_output():
    table = elderly_card_table()
    table["outputs"][0]["key"] = "result"
    exc = _refused(table)
    assert problems(exc) == {"outputs": ["no_decision"]}
    assert "decision" in english(exc, "outputs")


def test_the_decision_output_holds_text():
    table = elderly_card_table()
    table["outputs"][0]["type"] = "boolean"
    assert problems(_refused(table)) == {"outputs[0].type": ["type"]}


def test_duplicate_output_keys():
    table = elderly_card_table()
    table["outputs"][1]["key"] = "decision"
    assert problems(_refused(table)) == {"outputs[1].key": ["duplicate"]}


@pytest.mark.parametrize("value", ["reject", "approved", "", "APPROVE"])
def test_a_machine_can_only_approve_or_hand_on(value):
    table = elderly_card_table()
    table["rules"][2]["then"][0] = value
    exc = _refused(table)
    assert problems(exc) == {"rules[2].then[0]": ["decision_value"]}
    assert "never rejects" in english(exc, "rules[2].then[0]")


def test_output_values_must_fit_their_column():
    table = elderly_card_table(
        outputs=[{"key": "decision", "type": "string"}, {"key": "valid_days", "type": "number"}],
        rules=[{"id": "r1", "when": ["-", "-", "-", "-"], "then": ["approve", "a year"]}],
    )
    exc = _refused(table)
    assert problems(exc) == {"rules[0].then[1]": ["syntax"]}
    assert english(exc, "rules[0].then[1]").startswith("Cannot read this value")


def test_too_many_rules():
    table = elderly_card_table()
    table["rules"] = [{"id": f"r{i}", "when": ["-"] * 4, "then": ["manual", ""]} for i in range(201)]
    exc = _refused(table)
    assert problems(exc) == {"rules": ["too_many"]}
    assert "200" in english(exc, "rules")
    table["rules"].pop()
    assert len(rules.validate_table(table)["rules"]) == 200


def test_too_many_inputs():
    table = elderly_card_table()
    table["inputs"] = [{"key": f"data.f{i}", "type": "string"} for i in range(31)]
    exc = _refused(table)
    assert "inputs" in problems(exc)
    assert problems(exc)["inputs"] == ["too_many"]
    assert "30" in english(exc, "inputs")


def test_a_cell_longer_than_500_characters():
    table = elderly_card_table()
    table["rules"][1]["when"][2] = '"' + "5" * 499 + '"'
    exc = _refused(table)
    assert problems(exc) == {"rules[1].when[2]": ["max_length"]}
    assert "500" in english(exc, "rules[1].when[2]")


def test_unknown_fields_are_named_rather_than_ignored():
    table = elderly_card_table(hitpolicy="FIRST")
    table["rules"][0]["whn"] = table["rules"][0]["when"]
    exc = _refused(table)
    assert problems(exc) == {"hitpolicy": ["unknown_field"], "rules[0].whn": ["unknown_field"]}


def test_every_problem_is_reported_at_once_and_renders_in_both_languages():
    table = elderly_card_table(
        name="", hit_policy="X", rules=[{"id": "a", "when": ["<"], "then": ["reject"]}]
    )
    exc = _refused(table)
    assert set(exc.fields) == {"name", "hit_policy", "rules[0].when", "rules[0].then"}
    rendered = exc.as_dict()
    assert set(rendered["fields"]["hit_policy"][0]["message"]) == {"zh-Hans", "en"}
    json.dumps(rendered, ensure_ascii=False)


def test_a_table_must_be_an_object_with_inputs_outputs_and_rules():
    assert problems(_refused([])) == {"table": ["invalid"]}
    exc = _refused({"name": "空表"})
    assert problems(exc) == {"inputs": ["required"], "outputs": ["required"], "rules": ["required"]}


# ---------------------------------------------------------------------------------------------
# DMN 1.3


def test_a_table_round_trips_through_dmn():
    table = elderly_card_table(description="依据《老年人权益保障法》")
    table["outputs"].append({"key": "valid_days", "label": "有效天数", "type": "number"})
    table["outputs"].append({"key": "valid_until", "label": "有效期至", "type": "date"})
    for rule in table["rules"]:
        rule["then"] += ["365", 'date("2030-12-31")']
    table["rules"][2]["then"][1] = '引号"与反斜杠\\和\n换行'
    table["rules"][2]["then"][2] = ""
    table["rules"][1]["note"] = "年满60周岁 & <本区>"
    table["rules"][0]["when"][2] = 'not("110101", "<tag>")'
    normal = rules.validate_table(table)

    xml = table_to_dmn(table)
    assert xml.startswith(b"<?xml")
    assert table_from_dmn(xml) == normal
    assert table_to_dmn(table_from_dmn(xml)) == xml


def test_exported_dmn_is_dmn_1_3_with_unique_ids():
    table = elderly_card_table()
    table["rules"][0]["id"] = "decision_1"  # the name the exporter would like for the decision
    root = ElementTree.fromstring(table_to_dmn(table))  # noqa: S314 (our own output)
    ns = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
    assert root.tag == "{https://www.omg.org/spec/DMN/20191111/MODEL/}definitions"
    decision_table = root.find("dmn:decision/dmn:decisionTable", ns)
    assert decision_table.get("hitPolicy") == "FIRST"
    assert [e.text for e in decision_table.findall("dmn:input/dmn:inputExpression/dmn:text", ns)][:2] == [
        "data.age",
        "check.id_valid",
    ]
    assert decision_table.find("dmn:rule/dmn:outputEntry/dmn:text", ns).text == '"manual"'
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))


MODELER_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
    xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" id="Definitions_1" name="DRD"
    namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="Decision_1" name="残疾人证换领">
    <decisionTable id="DecisionTable_1">
      <input id="Input_1" label="持证年限">
        <inputExpression id="InputExpression_1" typeRef="integer">
          <text>data.years_held</text>
        </inputExpression>
      </input>
      <input id="Input_2" label="公安核验">
        <inputExpression id="InputExpression_2" typeRef="boolean">
          <text>check.police_ok</text>
        </inputExpression>
      </input>
      <output id="Output_1" label="结论" name="decision" typeRef="string" />
      <rule id="DecisionRule_0a1">
        <description>持证满十年且核验通过</description>
        <inputEntry id="UnaryTests_1"><text>&gt;= 10</text></inputEntry>
        <inputEntry id="UnaryTests_2"><text>true</text></inputEntry>
        <outputEntry id="LiteralExpression_1"><text>"approve"</text></outputEntry>
      </rule>
      <rule id="DecisionRule_0a2">
        <inputEntry id="UnaryTests_3"><text>&lt; 10</text></inputEntry>
        <inputEntry id="UnaryTests_4"><text></text></inputEntry>
        <outputEntry id="LiteralExpression_2"><text>"manual"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI><dmndi:DMNDiagram id="DMNDiagram_1" /></dmndi:DMNDI>
</definitions>
"""


def test_a_table_drawn_in_a_dmn_modeler_is_imported_and_decides():
    table = table_from_dmn(MODELER_DMN.encode())
    assert table["name"] == "残疾人证换领"
    assert table["hit_policy"] == "UNIQUE"
    assert table["inputs"][0] == {"key": "data.years_held", "label": "持证年限", "type": "number"}
    assert table["rules"][0]["note"] == "持证满十年且核验通过"
    assert table["rules"][1]["when"] == ["< 10", "-"]
    assert table["rules"][1]["then"] == ["manual"]
    assert (
        evaluate(table, {"data": {"years_held": 12}, "check": {"police_ok": True}}).rule_id
        == "DecisionRule_0a1"
    )
    assert evaluate(table, {"data": {"years_held": 12}, "check": {"police_ok": False}}).cause == "no_match"


def test_a_dmn_table_with_a_bad_cell_is_refused_at_that_cell():
    xml = MODELER_DMN.replace("&gt;= 10", "&gt;= ten").encode()
    with pytest.raises(InvalidInput) as caught:
        table_from_dmn(xml)
    assert problems(caught.value) == {"rules[0].when[0]": ["syntax"]}


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="&lol9;" namespace="x">
</definitions>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="&secret;" namespace="x"/>
"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_malicious_dmn_is_refused(xml):
    with pytest.raises(InvalidInput) as caught:
        table_from_dmn(xml)
    assert problems(caught.value) == {"dmn": ["unsafe"]}
    assert english(caught.value, "dmn")


@pytest.mark.parametrize(
    ("xml", "code"),
    [
        (b"<definitions", "xml"),
        (b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>', "not_dmn"),
        (b"<decision/>", "not_dmn"),
        (
            MODELER_DMN.replace("</definitions>", '<decision id="D2" name="two"/></definitions>').encode(),
            "decisions",
        ),
        (
            b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"><decision id="d" name="n">'
            b"<literalExpression><text>1</text></literalExpression></decision></definitions>",
            "decision_table",
        ),
        (b"<!-- padding -->" + b" " * (1024 * 1024) + MODELER_DMN.encode(), "too_large"),
        (
            MODELER_DMN.replace(
                '<decisionTable id="DecisionTable_1">',
                '<decisionTable hitPolicy="COLLECT" aggregation="SUM">',
            ).encode(),
            "hit_policy",
        ),
    ],
    ids=["not-xml", "bpmn", "no-definitions", "two-decisions", "no-table", "over-1-mb", "aggregation"],
)
def test_dmn_that_is_not_one_decision_table_is_refused(xml, code):
    with pytest.raises(InvalidInput) as caught:
        table_from_dmn(xml)
    assert problems(caught.value) == {"dmn": [code]}


# ---------------------------------------------------------------------------------------------
# Property: a range cell matches exactly the values inside its range

_numbers = st.decimals(min_value=-10_000, max_value=10_000, places=2, allow_nan=False, allow_infinity=False)


@settings(
    deadline=None,
    max_examples=200,
    database=None,  # no .hypothesis directory in the work tree; failures print their reproducing example
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # the autouse cache fixture is harmless here
)
@given(low=_numbers, high=_numbers, value=_numbers, low_closed=st.booleans(), high_closed=st.booleans())
def test_a_range_cell_matches_iff_the_value_lies_in_the_range(low, high, value, low_closed, high_closed):
    assume(low < high or (low == high and low_closed and high_closed))
    opening = "[" if low_closed else _open_start(low, value)
    closing = "]" if high_closed else ")"
    cell = f"{opening}{low:f}..{high:f}{closing}"
    table = {
        "name": "range",
        "inputs": [{"key": "data.x", "type": "number"}],
        "outputs": [{"key": "decision", "type": "string"}],
        "rules": [{"id": "in_range", "when": [cell], "then": ["approve"]}],
    }
    inside = (low < value or (low_closed and value == low)) and (
        value < high or (high_closed and value == high)
    )
    as_text = evaluate(table, {"data": {"x": f"{value:f}"}})
    as_float = evaluate(table, {"data": {"x": float(value)}})
    assert as_text.approved is inside
    assert as_float.approved is inside
    if not inside:
        assert as_text.failed[0].expected == cell


def _open_start(low, value) -> str:
    """Both FEEL spellings of an open start, chosen by the data so both are exercised."""
    return "(" if (low + value) % 2 else "]"
