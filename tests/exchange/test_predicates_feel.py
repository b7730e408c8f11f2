"""Verify-only predicates run as FEEL (tongban.rules) and answer as before: every predicate of the
demo exchange over its demo records (and the same records with the fields it reads missing), with
the parameters callers send, against the evaluator predicates had before."""

import importlib
import itertools
import json

from django.apps import apps

from tongban.core.authz import SYSTEM
from tongban.exchange import demo, predicates, services
from tongban.exchange.models import Resource


def _before(record: dict, conditions: list, params: dict) -> bool:
    """The evaluator predicates had before they moved onto tongban.rules (the reference)."""
    for name, op, expected in conditions:
        if isinstance(expected, str) and expected.startswith("$"):
            expected = params.get(expected[1:])
        value = record.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and isinstance(expected, str):
            try:
                expected = float(expected)
            except ValueError:
                return False
        if op == "eq":
            ok = value == expected
        elif op == "ne":
            ok = value != expected
        elif op == "in":
            ok = value in (expected or [])
        elif op == "startswith":
            ok = isinstance(value, str) and isinstance(expected, str) and value.startswith(expected)
        elif op == "contains":
            ok = isinstance(value, list | str) and expected in value
        elif op == "not_empty":
            ok = value not in (None, "", [])
        else:
            try:
                ok = value >= expected if op == "gte" else value <= expected
            except TypeError:
                ok = False
        if not ok:
            return False
    return True


def _parameter_values(records: list[dict], spec: dict) -> dict[str, list]:
    """Per parameter, what callers send: the values the records hold (as text, as forms send them),
    other text, numbers as text, nothing."""
    values: dict[str, list] = {}
    for field, _op, expected in spec["all"]:
        if isinstance(expected, str) and expected.startswith("$"):
            seen = {str(r.get(field)) for r in records if r.get(field) not in (None, "", [])}
            for r in records:
                if isinstance(r.get(field), list):
                    seen.update(str(v) for v in r[field])
            values[expected[1:]] = [*sorted(seen)[:6], "其他", "12", "abc", ""]
    return values


def test_every_demo_predicate_answers_as_before(db):
    demo.load_exchange()
    checked = 0
    for resource in Resource.objects.exclude(predicates={}):
        records = [json.loads(r.data) for r in resource.records.order_by("row_number")[:150]]
        assert records or resource.adapter != "table", resource.code
        for code, spec in resource.predicates.items():
            assert spec["feel"] == predicates.to_feel(spec["all"]), (resource.code, code)
            fields = {c[0] for c in spec["all"]}
            variants = records + [{k: v for k, v in r.items() if k not in fields} for r in records[:20]]
            pools = _parameter_values(records, spec)
            names = sorted(pools)
            for record in variants:
                for combination in itertools.islice(itertools.product(*(pools[n] for n in names)), 12):
                    params = dict(zip(names, combination, strict=True))
                    expected = _before(record, spec["all"], params)
                    assert predicates.holds(spec, record, params) == expected, (
                        code,
                        spec["feel"],
                        record,
                        params,
                    )
                    checked += 1
    assert checked > 1000


def test_the_conditions_become_readable_feel():
    assert (
        predicates.to_feel([["contribution_months", "gte", "$months"]])
        == "contribution_months >= param.months"
    )
    assert (
        predicates.to_feel([["status", "eq", "正常"], ["region", "eq", "$district"]])
        == '(status = "正常") and (region = param.district)'
    )
    assert (
        predicates.to_feel([["credit_rating", "in", ["A", "B"]]])
        == 'list contains(["A", "B"], credit_rating)'
    )
    assert predicates.to_feel([["arrears", "eq", False]]) == "arrears = false"


def test_the_one_rule_for_missing_values_and_text_parameters():
    months = {"all": [["contribution_months", "gte", "$months"]]}
    assert predicates.holds(months, {"contribution_months": 36}, {"months": "12"})
    assert not predicates.holds(months, {"contribution_months": 6}, {"months": "12"})
    assert not predicates.holds(months, {}, {"months": "12"})  # missing: unknown, does not hold
    assert not predicates.holds(months, {"contribution_months": 36}, {"months": "many"})
    filled = {"all": [["phone", "not_empty", None]]}
    assert predicates.holds(filled, {"phone": 5}) and not predicates.holds(filled, {"phone": ""})
    assert not predicates.holds(filled, {"phone": []}) and not predicates.holds(filled, {})
    other = {"all": [["status", "ne", "注销"]]}
    assert predicates.holds(other, {}) and not predicates.holds(other, {"status": "注销"})


def test_stored_predicates_get_their_feel_by_migration(db):
    services.save_resource(
        SYSTEM, **{**next(s for s in demo.RESOURCES if s["code"] == "social_insurance"), "adapter_config": {}}
    )
    resource = Resource.objects.get(code="social_insurance")
    stripped = {
        code: {k: v for k, v in spec.items() if k != "feel"} for code, spec in resource.predicates.items()
    }
    Resource.objects.filter(pk=resource.pk).update(predicates=stripped)
    migration = importlib.import_module("tongban.exchange.migrations.0003_predicates_feel")
    migration.forwards(apps, None)
    resource.refresh_from_db()
    assert all(spec["feel"] == predicates.to_feel(spec["all"]) for spec in resource.predicates.values())
    migration.backwards(apps, None)
    resource.refresh_from_db()
    assert resource.predicates == stripped
