"""policy_match: 100 policies × 100,000 enterprises matched, the whole run, in seconds.

Set-up (not timed): a scratch database with the demo city, its data-sharing platform and the demo
policy matching (resources, grants, the enterprise-service section's policies); then the four
enterprise resources the policies read (市场主体, 纳税人状态, 企业用工, 企业经营) are replaced by
100,000 generated enterprises each through the provider import (normalised, blind-indexed,
SM4-encrypted, as a real import), and the section's policies by 100 generated ones of the shapes
eligibility rules take: thresholds, ranges, lists, dates relative to today(), booleans, ``or`` and
``not``, a few with arithmetic (``revenue / employees``) that the column evaluator hands to the
rule language's own, once per distinct combination of values; 10 of them 免申即享.

Timed: one `services.run_matching`, as the staff page or a scheduled job runs it — four batch
calls through the exchange (grant checks, decryption of 400,000 records, logged), every condition over every
enterprise, and the transaction that records the run: per-policy outcomes, one row per enterprise
that qualifies (or may) for something with each condition's result, the 免申即享 grants with
their events, and the notices. Then checked: 1,000 random enterprises re-evaluated one by one with
the rule language must give the recorded outcome of every policy, or the benchmark fails.

Target (issue 16): < 30 s. Options: --engine sqlite|postgresql, --enterprises N, --policies N.
"""

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 30.0
DISTRICTS = ["511602", "511603", "511621", "511622", "511623", "511681"]


def _enterprises(n: int, rng: random.Random) -> list[str]:
    from tongban.accounts.seed import ENTERPRISES, demo_uscc
    from tongban.core.identifiers import USCC_CHARSET

    keys = [demo_uscc(body) for body, *_rest in ENTERPRISES]
    seen = set(keys)
    chars = USCC_CHARSET[:-1]
    while len(keys) < n:
        key = demo_uscc(rng.choice(DISTRICTS) + "MA" + "".join(rng.choice(chars) for _i in range(7)))
        if key not in seen:
            seen.add(key)
            keys.append(key)
    return keys


def _rows(keys: list[str], rng: random.Random) -> dict[str, list[dict]]:
    today = dt.date(2026, 11, 1)
    market, tax, jobs, money = [], [], [], []
    for key in keys:
        founded = today - dt.timedelta(days=rng.randrange(30, 9000))
        market.append(
            {
                "统一社会信用代码": key,
                "企业名称": "广安示例企业有限公司",
                "法定代表人": "张三",
                "法定代表人证件号码": "",
                "登记机关": key[2:8],
                "成立日期": f"{founded.year}年{founded.month}月{founded.day}日",
                "登记状态": rng.choices(["1", "2", "3"], weights=[88, 9, 3])[0],
                "注册资本": str(rng.randrange(10, 5000)),
                "更新日期": today.isoformat(),
            }
        )
        arrears = rng.random() < 0.06
        tax.append(
            {
                "uscc": key,
                "name": "广安示例企业有限公司",
                "arrears": "1" if arrears else "0",
                "arrears_amount": str(rng.randrange(500, 200000)) if arrears else "0",
                "credit_rating": rng.choices("ABMCD", weights=[30, 40, 15, 10, 5])[0],
                "updated_on": today.isoformat(),
            }
        )
        employees = int(rng.lognormvariate(3, 1.2))
        job = {
            "uscc": key,
            "employees": str(employees),
            "layoff_rate": f"{max(0.0, rng.gauss(3, 3)):.1f}",
            "unemployment_insurance_months": str(rng.randrange(0, 96)),
            "startup_loan": str(rng.choice([0] * 9 + [rng.randrange(10, 300)])),
            "updated_on": today.isoformat(),
        }
        if rng.random() < 0.05:
            job.pop("layoff_rate")
        jobs.append(job)
        money.append(
            {
                "uscc": key,
                "annual_revenue": str(int(employees * rng.uniform(20, 80))),
                "rd_ratio": f"{max(0.0, rng.gauss(2, 2)):.1f}",
                "high_tech": "1" if rng.random() < 0.08 else "0",
                "updated_on": today.isoformat(),
            }
        )
    return {"enterprises": market, "tax": tax, "employment": jobs, "enterprise_finance": money}


def _policies(count: int, rng: random.Random) -> list[dict]:
    """Eligibility rules of the shapes real policies take, thresholds drawn so that a few per cent to
    a few tens of per cent of the enterprises qualify for each."""

    def pick(*options):
        return rng.choice(options)

    shapes = [
        lambda: ("参保职工人数上限", f"employees <= {pick(20, 50, 100, 300)}"),
        lambda: ("参保职工人数区间", f"employees between {pick(5, 10)} and {pick(100, 200, 500)}"),
        lambda: ("裁员率", f"layoff_rate <= {pick('3', '5.5', '6')}"),
        lambda: ("失业保险缴费", f"ui_months >= {pick(6, 12, 24)}"),
        lambda: ("存续", 'status = "存续"'),
        lambda: ("无欠税", "tax_arrears = false"),
        lambda: (
            "纳税信用",
            pick('tax_credit in ["A", "B"]', 'tax_credit = "A"', 'not(tax_credit in ["C", "D"])'),
        ),
        lambda: ("注册资本", f"capital >= {pick(50, 100, 500)}"),
        lambda: ("营业收入", f"revenue < {pick(2000, 5000, 20000)}"),
        lambda: ("研发投入", f"rd_ratio >= {pick('2', '3', '4.5')}"),
        lambda: ("高新技术企业", "high_tech"),
        lambda: ("成立年限", f'registered_on >= today() - duration("P{pick(2, 3, 5)}Y")'),
        lambda: ("成立时间", f'registered_on in [date("{pick(2010, 2015)}-01-01")..date("2024-12-31")]'),
        lambda: ("辖区", f'region in ["{pick(*DISTRICTS)}", "{pick(*DISTRICTS)}"]'),
        lambda: ("贷款或研发", f"startup_loan > 0 or rd_ratio >= {pick('5', '6')}"),
    ]
    out = []
    for n in range(count):
        chosen = rng.sample(shapes, rng.randrange(3, 6))
        conditions = [
            {"label": label, "expression": expression} for label, expression in (s() for s in chosen)
        ]
        if n % 33 == 5:  # per-capita revenue: arithmetic, evaluated by the rule language itself
            conditions.append({"label": "人均营收", "expression": "revenue / employees >= 40"})
        out.append(
            {
                "code": f"bench-{n:03d}",
                "name": f"基准政策{n:03d}",
                "kind": "subsidy",
                "benefit": "基准测试",
                "automatic": n % 10 == 0,
                "conditions": conditions,
            }
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--policies", type=int, default=100)
    args = parser.parse_args()

    from tests.bench import harness

    if args.engine == "postgresql":
        if not harness.postgres_available():
            print("PostgreSQL is not reachable", file=sys.stderr)
            return 2
        url = harness.fresh_postgres_database("tongban_bench_policy")
    else:
        folder = Path(tempfile.mkdtemp(prefix="tongban-bench-policy-"))
        url = f"sqlite:///{folder / 'policy.sqlite3'}"
    harness.configure(url)
    from tongban.accounts.seed import seed_demo
    from tongban.core.authz import SYSTEM
    from tongban.exchange import demo as exchange_demo
    from tongban.exchange import services as exchange
    from tongban.proactive import demo, profile, services
    from tongban.proactive.models import Policy, PolicyOutcome, SubjectMatch
    from tongban.rules import compile_expression

    console = harness.console
    with console.status("policy_match: demo city, data sharing and policies"):
        seed_demo()
        exchange_demo.load_exchange()
        demo.load_policies()
    rng = random.Random(16)
    keys = _enterprises(args.enterprises, rng)
    started = time.perf_counter()
    with console.status(f"policy_match: importing {len(keys):,} enterprises into four resources"):
        for code, rows in _rows(keys, rng).items():
            exchange.import_rows(SYSTEM, code, rows, source="bench")
    console.print(
        f"imported {len(keys):,} enterprises × 4 resources in {time.perf_counter() - started:.0f} s"
    )
    Policy.objects.filter(department__code=demo.DEPARTMENT).update(is_active=False)
    for spec in _policies(args.policies, rng):
        services.save_policy(SYSTEM, department_code=demo.DEPARTMENT, **spec)

    started = time.perf_counter()
    run = services.run_matching(SYSTEM, demo.DEPARTMENT)
    took = time.perf_counter() - started
    console.print(
        f"run {run.reference}: {run.subjects:,} enterprises × {run.policies} policies; "
        f"{run.qualified:,} qualifying pairs, {SubjectMatch.objects.filter(run=run).count():,} enterprises "
        f"with a match, {run.granted:,} granted without application; phases {run.timings} "
        f"(load average {os.getloadavg()[0]:.1f})"
    )

    # Checked, not trusted: enterprises re-evaluated one at a time by the rule language.
    outcomes = {o.policy.code: o for o in PolicyOutcome.objects.filter(run=run).select_related("policy")}
    compiled = {
        code: [compile_expression(c["expression"]) for c in o.conditions] for code, o in outcomes.items()
    }
    table = services.fetch(SYSTEM, run.department, set(profile.ITEMS), purpose="基准测试核对")
    index = {key: i for i, key in enumerate(table.keys)}
    matches = {m.subject_key: m.results for m in SubjectMatch.objects.filter(run=run)}
    wrong = 0
    for key in random.Random(17).sample(table.keys, 1000):
        row = {name: column[index[key]] for name, column in table.columns.items()}
        for code, expressions in compiled.items():
            verdicts = [e.evaluate(row) for e in expressions]
            verdicts = [v if isinstance(v, bool) else None for v in verdicts]
            expected = (
                "qualified"
                if all(v is True for v in verdicts)
                else None
                if any(v is False for v in verdicts)
                else "undetermined"
            )
            found = matches.get(key, {}).get(code)
            if (found or {}).get("outcome") != expected or (found and found["conditions"] != verdicts):
                wrong += 1
    console.print(
        f"re-evaluated 1,000 enterprises × {len(compiled)} policies one by one: {wrong} differences"
    )
    passed = took < TARGET_S and wrong == 0
    harness.bench_line("policy_match", took, "s", took / TARGET_S, f"<{TARGET_S:g}s", passed)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
