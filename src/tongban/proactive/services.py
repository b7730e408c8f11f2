"""The use cases of proactive services: keep policies, run matching, grant 免申即享 benefits, show an
enterprise what it qualifies for and why, and let it contest a grant before staff.

Who may do what: staff with policy.manage keep the policies of the departments in their scope, run
their matching (the data comes under the department's exchange grants, so they also need
exchange.query there) and review contests; a citizen who acts for an enterprise (its legal
representative or an agent) sees that enterprise's matches and benefits and may contest them, and
nobody else's. An object the caller may not see is NotFound.
"""

import datetime as dt
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from tongban.accounts import roles as perms
from tongban.accounts import services as accounts
from tongban.accounts.models import Department, Enterprise, NotificationKind, Representation, Role
from tongban.core import events
from tongban.core.authz import require
from tongban.core.errors import FieldErrors, Formatted, InvalidInput, NotFound, NotPermitted
from tongban.core.i18n import Later
from tongban.core.uow import current, use_case
from tongban.exchange import services as exchange
from tongban.rules import FeelSyntaxError, compile_expression
from tongban.rules.builtins import REGISTRY

from . import activities, profile, store
from .models import (
    Benefit,
    BenefitStatus,
    MatchRun,
    Policy,
    PolicyKind,
    PolicyOutcome,
    SubjectKind,
    SubjectMatch,
)
from .vector import Evaluator, Factor

MAX_CONDITIONS = 12
BATCH = 2000
QUALIFIED, UNDETERMINED = "qualified", "undetermined"


def _new_reference(prefix: str) -> str:
    return f"{prefix}{timezone.localdate():%Y%m%d}{secrets.token_hex(4).upper()}"


# --- policies ---------------------------------------------------------------------------------------


def may_manage(actor, policy: Policy) -> bool:
    return actor.can(perms.POLICY_MANAGE, policy.department)


def policies(actor) -> QuerySet:
    """The policies of the departments where the caller keeps policies."""
    if not actor.can(perms.POLICY_MANAGE):
        raise NotPermitted()
    return Policy.objects.select_related("department").filter(
        actor.scope_q(perms.POLICY_MANAGE, "department__path")
    )


def get_policy(actor, code: str) -> Policy:
    policy = Policy.objects.select_related("department").filter(code=code).first()
    if policy is None or not may_manage(actor, policy):
        raise NotFound()
    return policy


def compile_conditions(conditions) -> list:
    """The compiled expressions of a policy's conditions (cached by the rule language)."""
    return [compile_expression(c["expression"]) for c in conditions]


def items_read(expressions) -> set[str]:
    """The data items compiled conditions read (the functions they call, such as today(), are not)."""
    names: set[str] = set()
    for expression in expressions:
        names |= expression.names
    return {name for name in names if name in profile.ITEMS}


def check_conditions(conditions, errors: FieldErrors) -> list[dict]:
    """Each condition needs a label and an expression in the rule language that reads only known
    data items; problems are reported per field (conditions.N.label, conditions.N.expression)."""
    cleaned: list[dict] = []
    if not isinstance(conditions, list) or not [c for c in conditions if isinstance(c, dict)]:
        errors.add("conditions", "required", _("A policy needs at least one condition."))
        return cleaned
    if len(conditions) > MAX_CONDITIONS:
        errors.add("conditions", "too_many", Formatted(_("At most %(n)d conditions."), {"n": MAX_CONDITIONS}))
    for n, condition in enumerate(conditions):
        condition = condition if isinstance(condition, dict) else {}
        label = str(condition.get("label") or "").strip()
        source = str(condition.get("expression") or "").strip()
        if not label:
            errors.add(f"conditions.{n}.label", "required", _("Say in words what the condition asks."))
        elif len(label) > 100:
            errors.add(
                f"conditions.{n}.label", "max_length", Formatted(_("At most %(n)d characters."), {"n": 100})
            )
        if not source:
            errors.add(f"conditions.{n}.expression", "required", _("Write the condition as a rule."))
            continue
        try:
            expression = compile_expression(source)
        except FeelSyntaxError as exc:
            errors.add(f"conditions.{n}.expression", exc.code, exc.message)
            continue
        unknown = sorted(n for n in expression.names if n not in profile.ITEMS and n not in REGISTRY)
        if unknown:
            errors.add(
                f"conditions.{n}.expression",
                "unknown_item",
                Formatted(
                    _("“%(name)s” is not a data item; use one of: %(known)s."),
                    {"name": unknown[0], "known": ", ".join(profile.ITEMS)},
                ),
            )
            continue
        cleaned.append({"label": label, "expression": source})
    return cleaned


@use_case("proactive.policy.save", object_type="policy")
def save_policy(
    actor,
    *,
    code: str,
    name: str,
    kind: str,
    department_code: str,
    benefit: str,
    conditions: list[dict],
    automatic: bool = False,
    summary: str = "",
    issuer: str = "",
    legal_basis: str = "",
    valid_until: dt.date | None = None,
    is_active: bool = True,
) -> Policy:
    """Create or change a policy; its rules are checked before anything is saved."""
    errors = FieldErrors()
    code = (code or "").strip().lower()
    if not code or len(code) > 40 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in code):
        errors.add("code", "invalid", _("Letters, digits, - and _ only, at most 40."))
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        errors.add("department_code", "unknown", _("There is no such department."))
    else:
        require(actor, perms.POLICY_MANAGE, department)
    existing = Policy.objects.select_related("department").filter(code=code).first() if code else None
    if existing is not None and not may_manage(actor, existing):
        raise NotFound()
    name = errors.require_text("name", name, max_length=100)
    benefit = errors.require_text("benefit", benefit, max_length=200)
    if kind not in PolicyKind.values:
        errors.add("kind", "choice", _("Choose a kind of policy."))
    if len(issuer or "") > 100:
        errors.add("issuer", "max_length", Formatted(_("At most %(n)d characters."), {"n": 100}))
    if len(legal_basis or "") > 300:
        errors.add("legal_basis", "max_length", Formatted(_("At most %(n)d characters."), {"n": 300}))
    cleaned = check_conditions(conditions, errors)
    errors.raise_if_any()
    values = {
        "name": name,
        "kind": kind,
        "subject_kind": SubjectKind.ENTERPRISE,
        "department": department,
        "benefit": benefit,
        "conditions": cleaned,
        "automatic": bool(automatic),
        "summary": (summary or "").strip(),
        "issuer": (issuer or "").strip(),
        "legal_basis": (legal_basis or "").strip(),
        "valid_until": valid_until,
        "is_active": bool(is_active),
    }
    policy, _created = Policy.objects.update_or_create(code=code, defaults=values)
    uow = current()
    uow.audit.object_ref = code
    uow.audit.department_code = department.code
    uow.audit.detail.update(automatic=policy.automatic, conditions=len(cleaned))
    return policy


# --- matching -------------------------------------------------------------------------------------


@dataclass
class Table:
    """The data of every subject the shared data knows, by data item, aligned with `keys`; each item
    a factorised column (vector.Factor) of the values as conditions compare them."""

    keys: list[str]
    factors: dict[str, Factor]
    calls: dict[str, str] = field(default_factory=dict)  # resource → call reference (or refusal)

    @cached_property
    def columns(self) -> dict[str, list]:
        """Each item's plain values, one per subject."""
        return {name: factor.tolist() for name, factor in self.factors.items()}


def fetch(actor, department: Department, names, *, purpose: str) -> Table:
    """One batch call per resource, under the department's grants. A refused resource leaves its
    items unknown for everyone (so no condition on them can make anyone qualify), and says why."""
    extracts, calls = {}, {}
    for resource, items in profile.by_resource(names).items():
        try:
            answer = exchange.extract(
                actor,
                resource,
                fields=[item.field for item in items],
                purpose=purpose,
                department_code=department.code,
            )
        except exchange.Refused as refused:
            calls[resource] = "refused: " + ", ".join(
                problem.code for problems in refused.fields.values() for problem in problems
            )
            continue
        extracts[resource] = (items, answer.records)
        calls[resource] = answer.reference
    keys = sorted(set().union(*(records.keys() for _items, records in extracts.values())))
    factors: dict[str, Factor] = {}
    for items, records in extracts.values():
        rows = [records.get(key) for key in keys]
        for item in items:
            factors[item.name] = _typed_factor(item, [r.get(item.field) if r else None for r in rows])
    for name in names:
        factors.setdefault(name, Factor(np.zeros(len(keys), dtype=np.int32), [None]))
    return Table(keys=keys, factors=factors, calls=calls)


def _typed_factor(item: profile.Item, raw: list) -> Factor:
    """A record field's values, typed once per distinct value received (profile.typed)."""
    seen: dict = {}
    try:
        # a string keys itself; other values carry their type, so 1, 1.0 and True stay apart
        raw_codes = [seen.setdefault(v if v.__class__ is str else (v.__class__, v), len(seen)) for v in raw]
    except TypeError:  # a list or a context in a record: factorise value by value
        return Factor.of([profile.typed(item, v) for v in raw])
    distinct: list = [None]
    typed_codes = np.zeros(len(seen), dtype=np.int32)
    for n, key in enumerate(seen):
        value = profile.typed(item, key if key.__class__ is str else key[1])
        if value is not None:
            typed_codes[n] = len(distinct)
            distinct.append(value)
    codes = typed_codes[np.asarray(raw_codes, dtype=np.int32)] if raw else np.zeros(0, dtype=np.int32)
    return Factor(codes, distinct)


@dataclass
class PolicyResult:
    policy: Policy
    qualified: np.ndarray
    undetermined: np.ndarray
    conditions: list[tuple[np.ndarray, np.ndarray]]  # (true, false) per condition


def evaluate(policies_: list[Policy], table: Table) -> tuple[list[PolicyResult], Evaluator]:
    """Every condition of every policy over every subject; a policy holds when all its conditions
    do, fails when one fails, and is undetermined otherwise (some data missing)."""
    evaluator = Evaluator(table.factors, len(table.keys))
    results = []
    for policy in policies_:
        masks = [evaluator.evaluate(e) for e in compile_conditions(policy.conditions)]
        qualified = np.ones(len(table.keys), dtype=bool)
        failed = np.zeros(len(table.keys), dtype=bool)
        for true, false in masks:
            qualified &= true
            failed |= false
        results.append(PolicyResult(policy, qualified, ~qualified & ~failed, masks))
    return results, evaluator


def run_matching(actor, department_code: str, *, now=None) -> MatchRun:
    """Match the department's active policies against everyone the shared data knows: fetch (one
    logged batch call per resource), evaluate, then record the run, the benefits granted without
    application and the notices, in one transaction."""
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        raise InvalidInput.single("department_code", "unknown", _("There is no such department."))
    require(actor, perms.POLICY_MANAGE, department)
    now = now or timezone.now()
    today = timezone.localdate(now)
    active = [
        p
        for p in Policy.objects.filter(department=department, is_active=True).order_by("code")
        if p.valid_until is None or p.valid_until >= today
    ]
    if not active:
        raise InvalidInput.single(
            "department_code", "no_policies", _("The department has no active policy to match.")
        )
    started = time.perf_counter()
    names = set()
    for policy in active:
        names |= items_read(compile_conditions(policy.conditions))
    table = fetch(actor, department, names, purpose=f"政策精准匹配（{department.name}）")
    fetched = time.perf_counter()
    results, _evaluator = evaluate(active, table)
    evaluated = time.perf_counter()
    run = _record_run(
        actor,
        department=department,
        table=table,
        results=results,
        now=now,
        timings={"fetch": round(fetched - started, 3), "evaluate": round(evaluated - fetched, 3)},
    )
    return run


def _json_text(value) -> str:
    """JSON as the model's JSONField writes it, compact: a run stores a million of these members."""
    return json.dumps(value, separators=(",", ":"))


class _Findings:
    """What a run found, subject by subject, as JSON text built once per distinct piece: a policy's
    result for a subject is one of a few patterns of condition results, an item's value one of its
    distinct values. `subjects` are those who qualify (or may) for at least one policy, in key
    order; `results[n]` is the results JSON of `subjects[n]`, `values[i]` that of subject i."""

    def __init__(self, table: Table, results: list[PolicyResult]):
        self.table = table
        read_by = [items_read(compile_conditions(r.policy.conditions)) for r in results]
        self.item_names = sorted(set().union(*read_by))
        position = {name: n for n, name in enumerate(self.item_names)}
        read = np.zeros((len(table.keys), len(self.item_names)), dtype=bool)  # items read, per subject
        hits, members = [np.zeros(0, dtype=np.intp)], [np.zeros(0, dtype=object)]
        for result, names in zip(results, read_by, strict=True):
            hit, texts = self._members(result)
            hits.append(hit)
            members.append(texts)
            if names:
                read[np.ix_(hit, [position[n] for n in names])] = True
        # grouped by subject; a stable sort keeps each subject's policies in the run's order
        every = np.concatenate(hits)
        order = np.argsort(every, kind="stable")
        every = every[order]
        starts = np.flatnonzero(np.r_[True, every[1:] != every[:-1]]) if len(every) else every
        self.subjects: list[int] = every[starts].tolist()
        texts = np.concatenate(members)[order].tolist()
        bounds = [*starts.tolist(), len(texts)]
        self.results = ["{" + ",".join(texts[a:b]) + "}" for a, b in itertools.pairwise(bounds)]
        self.values = self._values(read)

    @staticmethod
    def _members(result: PolicyResult) -> tuple[np.ndarray, np.ndarray]:
        """The subjects who qualify or may, and the `"policy": {…}` member of each one's results."""
        hit = np.flatnonzero(result.qualified | result.undetermined)
        # each subject's condition results as one number, a base-3 digit per condition
        pattern = np.zeros(len(hit), dtype=np.int64)
        for place, (true, false) in enumerate(result.conditions):
            pattern += np.where(true[hit], 1, np.where(false[hit], 0, 2)) * 3**place
        distinct, inverse = np.unique(pattern, return_inverse=True)
        code = json.dumps(result.policy.code)
        texts, places = [], range(len(result.conditions))
        for number in distinct.tolist():
            verdicts = [{1: True, 0: False, 2: None}[number // 3**place % 3] for place in places]
            outcome = QUALIFIED if all(v is True for v in verdicts) else UNDETERMINED
            texts.append(code + ":" + _json_text({"outcome": outcome, "conditions": verdicts}))
        return hit, np.array(texts, dtype=object)[inverse.reshape(-1)]

    def _values(self, read: np.ndarray) -> dict[int, str]:
        """Per subject found, the JSON of the items its policies read, as received, by name."""
        out: dict[int, str] = {}
        if not self.subjects:
            return out
        chosen = np.asarray(self.subjects)
        shapes, inverse = np.unique(read[chosen], axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        factors = self.table.factors
        pieces = {
            name: np.array(
                [json.dumps(name) + ":" + _json_text(_json(v)) for v in factors[name].distinct], dtype=object
            )
            for name in self.item_names
        }
        for number, shape in enumerate(shapes.tolist()):
            rows = chosen[inverse == number]
            names = [name for name, wanted in zip(self.item_names, shape, strict=True) if wanted]
            columns = [pieces[name][factors[name].codes[rows]].tolist() for name in names]
            texts = ["{" + ",".join(parts) + "}" for parts in zip(*columns, strict=True)] if names else None
            out.update(zip(rows.tolist(), texts or ["{}"] * len(rows), strict=True))
        return out


@use_case("proactive.match.run", object_type="match_run")
def _record_run(actor, *, department, table: Table, results: list[PolicyResult], now, timings) -> MatchRun:
    started = time.perf_counter()
    keys = table.keys
    run = MatchRun.objects.create(
        reference=_new_reference("M"),
        department=department,
        actor_label=accounts_label(actor),
        started_at=now,
        finished_at=now,
        subjects=len(keys),
        policies=len(results),
        calls=table.calls,
    )
    outcomes = []
    key_array = np.array(keys, dtype=object)
    for result in results:
        policy = result.policy
        counts = [
            [int(t.sum()), int(f.sum()), int(len(keys) - t.sum() - f.sum())] for t, f in result.conditions
        ]
        qualified_keys = key_array[result.qualified].tolist()
        outcomes.append(
            PolicyOutcome(
                run=run,
                policy=policy,
                qualified=len(qualified_keys),
                undetermined=int(result.undetermined.sum()),
                not_qualified=int(len(keys) - result.qualified.sum() - result.undetermined.sum()),
                condition_counts=counts,
                conditions=policy.conditions,
                subjects=qualified_keys,
            )
        )
    PolicyOutcome.objects.bulk_create(outcomes)
    findings = _Findings(table, results)
    store.insert_matches(
        run.pk,
        [
            (keys[i], results_text, findings.values[i])
            for i, results_text in zip(findings.subjects, findings.results, strict=True)
        ],
    )
    granted = _grant(actor, run, results, keys, findings.values, now)
    notified = _notify_new(run, results, keys, granted)
    run.qualified = sum(o.qualified for o in outcomes)
    run.granted = sum(len(found) for found in granted.values())
    run.notified = notified
    run.finished_at = timezone.now()
    run.timings = {**timings, "record": round(time.perf_counter() - started, 3)}
    run.save(update_fields=["qualified", "granted", "notified", "finished_at", "timings"])
    uow = current()
    uow.audit.object_ref = run.reference
    uow.audit.department_code = department.code
    uow.audit.detail.update(
        subjects=run.subjects,
        policies=run.policies,
        qualified=run.qualified,
        granted=run.granted,
        calls=table.calls,
    )
    return run


def accounts_label(actor) -> str:
    from tongban.core.authz import actor_identity

    return actor_identity(actor)[1][:60]


def _json(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float | bool | str) or value is None:
        return value
    return str(value)


def _reasons(policy_conditions: list[dict], verdicts: list) -> list[dict]:
    return [
        {"label": c["label"], "expression": c["expression"], "result": v}
        for c, v in zip(policy_conditions, verdicts, strict=True)
    ]


def _benefit_references(count: int) -> list[str]:
    """References for a run's grants: 56 random bits each (a run grants tens of thousands, where
    the 32 bits of other references would collide), none repeated."""
    prefix = f"B{timezone.localdate():%Y%m%d}"
    made: set[str] = set()
    while len(made) < count:
        made.update(prefix + secrets.token_hex(7).upper() for _n in range(count - len(made)))
    return list(made)


def _grant(actor, run, results, keys: list[str], values: dict[int, str], now) -> dict[int, list[int]]:
    """免申即享: a benefit for each subject the data shows qualifies (every condition true, none
    unknown) for an automatic policy, unless it already has one (from an earlier run); each with
    its event. Returns the subjects granted, by policy id."""
    uow = current()
    granted: dict[int, list[int]] = {}
    rows = []
    for result in results:
        policy = result.policy
        if not policy.automatic:
            continue
        have = set(Benefit.objects.filter(policy=policy).values_list("subject_key", flat=True))
        fresh = [i for i in np.flatnonzero(result.qualified).tolist() if keys[i] not in have]
        if not fresh:
            continue
        granted[policy.pk] = fresh
        # qualified means every condition held: the reasons are the same for everyone granted
        reasons = _json_text(_reasons(policy.conditions, [True] * len(policy.conditions)))
        references = _benefit_references(len(fresh))
        rows.extend(
            (reference, policy.pk, keys[i], run.pk, now, reasons, values[i])
            for reference, i in zip(references, fresh, strict=True)
        )
        uow.add_events(
            events.make_many(
                activities.KIND,
                references,
                activities.GRANTED,
                at=now,
                actor=actor,
                department_code=policy.department.code,
                detail={"policy": policy.code, "run": run.reference},
            )
        )
    store.insert_benefits(rows)
    return granted


def _representatives(keys: set[str] | None = None) -> dict[str, list[int]]:
    """User ids of the people who act for each of these enterprises (registered on the platform);
    with None, for every enterprise someone acts for."""
    today = timezone.localdate()
    rows = Representation.objects.filter(person__user__isnull=False).exclude(valid_until__lt=today)
    if keys is not None:
        rows = rows.filter(enterprise__uscc__in=keys)
    out: dict[str, list[int]] = {}
    for uscc, user_id in rows.values_list("enterprise__uscc", "person__user_id"):
        out.setdefault(uscc, []).append(user_id)
    return out


def _previously_qualified(run: MatchRun, keys: list[str]) -> dict[str, set[str]]:
    """Per subject key, the policy codes it qualified for in the department's previous run (it was
    told then)."""
    last = (
        MatchRun.objects.filter(department_id=run.department_id)
        .exclude(pk=run.pk)
        .order_by("-started_at")
        .first()
    )
    found: dict[str, set[str]] = {}
    if last is None:
        return found
    for start in range(0, len(keys), 500):
        for key, results in SubjectMatch.objects.filter(
            run=last, subject_key__in=keys[start : start + 500]
        ).values_list("subject_key", "results"):
            found[key] = {code for code, result in results.items() if result.get("outcome") == QUALIFIED}
    return found


def _notify_new(run, results, keys: list[str], granted: dict[int, list[int]]) -> int:
    """A notice to the people acting for each enterprise that newly qualifies (or was granted):
    only enterprises someone acts for on the platform can be told, so only they are looked at."""
    people = _representatives()
    index = {key: i for i, key in enumerate(keys)}
    told = sorted((index[key], key) for key in people if key in index)
    if not told:
        return 0
    rows = np.array([i for i, _key in told])
    before = _previously_qualified(run, [key for _i, key in told])
    granted_pairs = {(i, policy_id) for policy_id, found in granted.items() for i in found}
    sent = 0
    for result in results:
        policy = result.policy
        for i in rows[result.qualified[rows]].tolist():
            key = keys[i]
            if policy.code in before.get(key, ()):
                continue
            if (i, policy.pk) in granted_pairs:
                title = Later(
                    gettext_noop("免申即享: %(policy)s has been granted to your enterprise"),
                    policy=policy.name,
                )
            else:
                title = Later(
                    gettext_noop("Policy for you: your enterprise qualifies for %(policy)s"),
                    policy=policy.name,
                )
            sent += accounts.notify(
                people[key],
                kind=NotificationKind.ALERT,
                title=title,
                body=policy.benefit,
                link=reverse("proactive:enterprise", args=[key]),
                subject=policy.code,
            )
    return sent


# --- what an enterprise sees --------------------------------------------------------------------------


def access_own_enterprise(actor, uscc: str) -> Enterprise:
    """An enterprise the caller acts for (legal representative or agent); staff lookups do not count:
    these pages are the enterprise's own."""
    enterprise = Enterprise.objects.filter(uscc=(uscc or "").strip().upper()).first()
    if (
        enterprise is None
        or not getattr(actor, "is_citizen", False)
        or not accounts.can_act_for(actor, enterprise)
    ):
        raise NotFound()
    return enterprise


@dataclass
class Reason:
    label: str
    expression: str
    result: bool | None


@dataclass
class PolicyMatch:
    policy: Policy
    outcome: str
    reasons: list[Reason]
    values: list[tuple[object, object]]  # (label, value) of the data items read
    run: MatchRun
    benefit: Benefit | None = None
    items: list[str] = field(default_factory=list)  # the names of those items, in the same order


def _latest_runs() -> list[MatchRun]:
    """The latest run of each department."""
    latest: dict[int, MatchRun] = {}
    for run in MatchRun.objects.order_by("department_id", "-started_at").select_related("department"):
        latest.setdefault(run.department_id, run)
    return list(latest.values())


def enterprise_matches(actor, uscc: str) -> tuple[Enterprise, list[PolicyMatch], list[Benefit]]:
    """The policies the enterprise qualifies for (or may, when data is missing) in the latest run of
    each department, each with every condition's result and the data it was decided on, and its
    免申即享 benefits."""
    enterprise = access_own_enterprise(actor, uscc)
    runs = {run.pk: run for run in _latest_runs()}
    rows = SubjectMatch.objects.filter(run_id__in=list(runs), subject_key=enterprise.uscc)
    outcomes = {
        (o.run_id, o.policy.code): o
        for o in PolicyOutcome.objects.filter(run_id__in=list(runs)).select_related("policy")
    }
    benefits = list(
        Benefit.objects.filter(subject_key=enterprise.uscc)
        .select_related("policy", "run")
        .order_by("-granted_at")
    )
    by_policy = {b.policy_id: b for b in benefits}
    found: list[PolicyMatch] = []
    for row in rows:
        for code, result in row.results.items():
            outcome = outcomes.get((row.run_id, code))
            if outcome is None:
                continue
            conditions = outcome.conditions
            reasons = [
                Reason(c["label"], c["expression"], v)
                for c, v in zip(conditions, result["conditions"], strict=True)
            ]
            names = set()
            for expression in compile_conditions(conditions):
                names |= expression.names
            items = [n for n in sorted(names) if n in profile.ITEMS]
            values = [(profile.ITEMS[n].label, row.values.get(n)) for n in items]
            found.append(
                PolicyMatch(
                    policy=outcome.policy,
                    outcome=result["outcome"],
                    reasons=reasons,
                    values=values,
                    run=runs[row.run_id],
                    benefit=by_policy.get(outcome.policy_id),
                    items=items,
                )
            )
    found.sort(key=lambda m: (m.outcome != QUALIFIED, m.policy.name))
    return enterprise, found, benefits


def _access_benefit(actor, reference: str, *, lock: bool = False) -> Benefit:
    """A benefit of an enterprise the caller acts for, or (for staff) of a policy they manage."""
    qs = Benefit.objects.select_related("policy__department", "run")
    if lock:
        qs = qs.select_for_update()
    benefit = qs.filter(reference=reference).first()
    if benefit is None:
        raise NotFound()
    if getattr(actor, "is_citizen", False):
        enterprise = Enterprise.objects.filter(uscc=benefit.subject_key).first()
        if enterprise is not None and accounts.can_act_for(actor, enterprise):
            return benefit
        raise NotFound()
    if may_manage(actor, benefit.policy):
        return benefit
    raise NotFound()


def may_contest(actor, benefit: Benefit) -> bool:
    return benefit.status == BenefitStatus.GRANTED and getattr(actor, "is_citizen", False)


def _benefit_event(uow, benefit: Benefit, activity: str, actor, now) -> Department:
    """A grant changed hands or state: the journal entry names its policy's department, and the
    event log records the change. Returns that department."""
    department = benefit.policy.department
    uow.audit.department_code = department.code
    uow.event(
        activities.KIND,
        benefit.reference,
        activity,
        at=now,
        actor=actor,
        department_code=department.code,
        detail={"policy": benefit.policy.code},
    )
    return department


@use_case("proactive.benefit.contest", object_type="benefit")
def contest(actor, reference: str, *, reason: str, now=None) -> Benefit:
    """The beneficiary disputes a grant (the data is wrong, the amount, or it is not wanted); the
    policy's department reviews it."""
    now = now or timezone.now()
    benefit = _access_benefit(actor, reference, lock=True)
    uow = current()
    uow.audit.object_ref = benefit.reference
    errors = FieldErrors()
    if not getattr(actor, "is_citizen", False):
        raise NotPermitted(_("Only the beneficiary can contest a grant."))
    if benefit.status != BenefitStatus.GRANTED:
        errors.add("status", "not_granted", _("This grant is already under review or decided."))
    reason = errors.require_text("reason", reason, max_length=1000)
    errors.raise_if_any()
    benefit.status = BenefitStatus.CONTESTED
    benefit.contest_reason = reason
    benefit.contested_by = accounts_label(actor)
    benefit.contested_at = now
    benefit.save(update_fields=["status", "contest_reason", "contested_by", "contested_at"])
    department = _benefit_event(uow, benefit, activities.CONTESTED, actor, now)
    reviewers = accounts.role_holders(Role.SECTION_HEAD, department.path) or accounts.role_holders(
        Role.DATA_OFFICER, department.path
    )
    accounts.notify(
        reviewers,
        kind=NotificationKind.ALERT,
        title=Later(gettext_noop("A 免申即享 grant was contested: %(policy)s"), policy=benefit.policy.name),
        body=reason,
        link=reverse("proactive:contests"),
        subject=benefit.reference,
        now=now,
    )
    return benefit


def my_benefits(actor) -> list[Benefit]:
    """The 免申即享 grants of every enterprise the caller acts for, newest first; only a citizen
    has any (staff read grants through their policies' results)."""
    if not getattr(actor, "is_citizen", False):
        raise NotPermitted()
    keys = [enterprise.uscc for enterprise, _link in accounts.my_enterprises(actor)]
    return list(
        Benefit.objects.filter(subject_key__in=keys).select_related("policy", "run").order_by("-granted_at")
    )


ANSWERABLE = (BenefitStatus.GRANTED, BenefitStatus.CONFIRMED)


def may_answer(actor, benefit: Benefit) -> bool:
    """Whether the caller may accept or decline the grant: its beneficiary, while it stands
    unanswered (granted, or confirmed after a contest)."""
    return benefit.status in ANSWERABLE and getattr(actor, "is_citizen", False)


def _answer(actor, reference: str, *, accept: bool, reason: str, now) -> Benefit:
    benefit = _access_benefit(actor, reference, lock=True)
    uow = current()
    uow.audit.object_ref = benefit.reference
    if not getattr(actor, "is_citizen", False):
        raise NotPermitted(_("Only the beneficiary can accept or decline a grant."))
    errors = FieldErrors()
    if benefit.status not in ANSWERABLE:
        errors.add("status", "not_answerable", _("This grant is already answered, or under review."))
    if not accept:
        reason = errors.require_text("reason", reason, max_length=300)
    errors.raise_if_any()
    benefit.status = BenefitStatus.ACCEPTED if accept else BenefitStatus.DECLINED
    benefit.answered_by = accounts_label(actor)
    benefit.answered_at = now
    benefit.decline_reason = "" if accept else reason
    benefit.save(update_fields=["status", "answered_by", "answered_at", "decline_reason"])
    uow.audit.detail.update(status=benefit.status)
    _benefit_event(uow, benefit, activities.ACCEPTED if accept else activities.DECLINED, actor, now)
    return benefit


@use_case("proactive.benefit.accept", object_type="benefit")
def accept(actor, reference: str, *, now=None) -> Benefit:
    """The beneficiary takes up a grant made without an application."""
    return _answer(actor, reference, accept=True, reason="", now=now or timezone.now())


@use_case("proactive.benefit.decline", object_type="benefit")
def decline(actor, reference: str, *, reason: str, now=None) -> Benefit:
    """The beneficiary does not want a grant (and says why); later runs do not grant it again."""
    return _answer(actor, reference, accept=False, reason=reason, now=now or timezone.now())


def contests(actor) -> QuerySet:
    """Contested grants of the policies the caller keeps, oldest first."""
    return (
        Benefit.objects.filter(status=BenefitStatus.CONTESTED)
        .filter(pk__in=Benefit.objects.filter(policy__in=policies(actor)).values("pk"))
        .select_related("policy")
        .order_by("contested_at")
    )


@use_case("proactive.benefit.review", object_type="benefit")
def review(actor, reference: str, *, confirm: bool, note: str, now=None) -> Benefit:
    """Staff decide a contest: the grant stands (confirmed) or is withdrawn; the note is required
    and the beneficiary is told."""
    now = now or timezone.now()
    benefit = _access_benefit(actor, reference, lock=True)
    if getattr(actor, "is_citizen", False) or not may_manage(actor, benefit.policy):
        raise NotFound()
    uow = current()
    uow.audit.object_ref = benefit.reference
    errors = FieldErrors()
    if benefit.status != BenefitStatus.CONTESTED:
        errors.add("status", "not_contested", _("Only a contested grant is reviewed."))
    note = errors.require_text("note", note, max_length=300)
    errors.raise_if_any()
    benefit.status = BenefitStatus.CONFIRMED if confirm else BenefitStatus.WITHDRAWN
    benefit.decision_note = note
    benefit.decided_by = accounts_label(actor)
    benefit.decided_at = now
    benefit.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    uow.audit.detail.update(status=benefit.status)
    _benefit_event(uow, benefit, activities.CONFIRMED if confirm else activities.WITHDRAWN, actor, now)
    people = _representatives({benefit.subject_key}).get(benefit.subject_key, [])
    accounts.notify(
        people,
        kind=NotificationKind.ALERT,
        title=Later(gettext_noop("Your contest of %(policy)s was reviewed"), policy=benefit.policy.name),
        body=note,
        link=reverse("proactive:enterprise", args=[benefit.subject_key]),
        subject=benefit.reference,
        now=now,
    )
    return benefit


# --- what staff see of a run -----------------------------------------------------------------------


def runs(actor) -> QuerySet:
    if not actor.can(perms.POLICY_MANAGE):
        raise NotPermitted()
    return MatchRun.objects.filter(actor.scope_q(perms.POLICY_MANAGE, "department__path")).select_related(
        "department"
    )


def latest_outcome(actor, code: str) -> PolicyOutcome | None:
    policy = get_policy(actor, code)
    return (
        PolicyOutcome.objects.filter(policy=policy)
        .select_related("run", "policy")
        .order_by("-run__started_at")
        .first()
    )


def outcome_rows(outcome: PolicyOutcome, *, limit: int = 50, offset: int = 0) -> list[tuple[str, str, list]]:
    """Who qualifies for the outcome's policy, with each condition's result: (key, name, verdicts).
    The caller got the outcome through latest_outcome, which checked access."""
    keys = outcome.subjects[offset : offset + limit]
    rows = {
        m.subject_key: m for m in SubjectMatch.objects.filter(run_id=outcome.run_id, subject_key__in=keys)
    }
    names = dict(Enterprise.objects.filter(uscc__in=keys).values_list("uscc", "name"))
    out = []
    for key in keys:
        match = rows.get(key)
        verdicts = match.results.get(outcome.policy.code, {}).get("conditions", []) if match else []
        out.append((key, names.get(key, ""), verdicts))
    return out
