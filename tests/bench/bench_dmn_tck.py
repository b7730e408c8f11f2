"""dmn_tck: how much of DMN as other tools write it our rule engine evaluates, and that it never
answers wrongly.

Runs every test case of the DMN TCK's compliance level 2 (TONGBAN_DATA_DIR/dmn-tck/
compliance-level-2: 28 models by several modelers, 116 cases) through tongban.rules and compares
each result with the expected one as the TCK's runners do. Cases end passed, failed (the engine
reported an error), wrong (a different answer with no error: must be zero) or refused (a feature
the engine refuses as unsupported). Also imports the DMN files found under bpmn/ (SpiffWorkflow's
suite), which have no expected results: each must import and evaluate, or be refused clearly.

Target: passed / total ≥ 0.9 and no wrong answer.
"""

import os
import secrets
import sys
from collections import Counter
from pathlib import Path


def main() -> int:
    os.environ.setdefault("TONGBAN_SECRET_KEY", secrets.token_hex(32))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()  # settings and translations only; no database is touched
    from django.conf import settings
    from rich.console import Console

    from tongban.rules import dmn
    from tongban.rules.errors import RuleError, Unsupported
    from tongban.rules.testcases import run_folder

    console = Console()
    data = Path(settings.DATA_DIR)
    folder = data / "dmn-tck" / "compliance-level-2"
    if not folder.is_dir():
        console.print(f"[red]{folder} not found (set TONGBAN_DATA_DIR)")
        print("BENCH dmn_tck 0 cases ratio=- target=ratio>=0.9 FAIL", flush=True)
        return 1

    outcomes = run_folder(folder)
    counts = Counter(o.status for o in outcomes)
    for status, title in (
        ("wrong", "WRONG ANSWERS"),
        ("error", "failed (error reported)"),
        ("refused", "refused as unsupported"),
    ):
        listed = [o for o in outcomes if o.status == status]
        if listed:
            console.print(f"[bold]{title}: {len(listed)}")
            for outcome in listed:
                console.print(f"  {outcome.suite} #{outcome.case_id}: {outcome.describe()}", markup=False)
    models = len({o.suite for o in outcomes})
    console.print(
        f"{len(outcomes)} cases in {models} models: {counts['passed']} passed, {counts['error']} failed, "
        f"{counts['wrong']} wrong, {counts['refused']} refused"
    )

    # DMN files other tools wrote, without expected results: they must import and evaluate, or be refused.
    files = sorted((data / "bpmn").rglob("*.dmn")) if (data / "bpmn").is_dir() else []
    imported = refused = broken = 0
    for path in files:
        try:
            model = dmn.load(path.read_bytes())
            model.evaluate({})
            imported += 1
        except Unsupported as exc:
            refused += 1
            console.print(f"  refused {path.name}: {exc}", markup=False)
        except RuleError as exc:
            broken += 1
            console.print(f"  cannot import {path.name}: {exc}", markup=False)
    console.print(
        f"DMN files under {data / 'bpmn'}: {len(files)} found, {imported} imported and evaluated, "
        f"{refused} refused, {broken} not readable"
    )

    total = len(outcomes)
    ratio = counts["passed"] / total if total else 0.0
    passed = total > 0 and ratio >= 0.9 and counts["wrong"] == 0 and broken == 0
    verdict = "PASS" if passed else "FAIL"
    print(f"BENCH dmn_tck {counts['passed']} cases ratio={ratio:.2f} target=ratio>=0.9 {verdict}", flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
