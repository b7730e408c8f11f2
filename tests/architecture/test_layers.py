"""Apps depend downward only (ARCHITECTURE.md): core ← rules ← accounts ← {catalog, workflow, licences,
exchange} ← {cases, …}, where rules (FEEL, DMN) imports nothing but core; insight is imported by
nobody but the web and CLI layers. Checked on the source, imports inside functions included, so a
convenient shortcut upward fails here."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "tongban"

# app → the apps it must never import
FORBIDDEN = {
    "core": {
        "rules",
        "accounts",
        "catalog",
        "workflow",
        "licences",
        "exchange",
        "cases",
        "insight",
        "web",
        "cli",
    },
    # the rule language (FEEL, DMN) is a kernel every app may use: it knows no domain
    "rules": {"accounts", "catalog", "workflow", "licences", "exchange", "cases", "insight", "web", "cli"},
    "accounts": {"catalog", "workflow", "licences", "exchange", "cases", "insight", "web", "cli"},
    "catalog": {"workflow", "licences", "exchange", "cases", "insight", "web", "cli"},
    "workflow": {"licences", "exchange", "cases", "insight", "web", "cli"},
    "licences": {"exchange", "cases", "insight", "web", "cli"},
    "exchange": {"cases", "insight", "web", "cli"},
    "cases": {"insight", "web", "cli"},
    "insight": {"workflow", "licences", "exchange", "cases", "web", "cli"},
    # hotline sits beside cases: it may use workflow, catalog, licences, exchange, never cases
    "hotline": {"cases", "insight", "web", "cli"},
    # documents (公文) sits beside cases and hotline likewise
    "documents": {"cases", "hotline", "insight", "web", "cli"},
    # guide sits above catalog, licences and exchange; it hands questions to the hotline (a 咨询 order)
    # through the hotline's services, and never touches cases or documents
    "guide": {"cases", "documents", "programme", "insight", "web", "cli"},
    # programme sits beside cases and hotline: it never imports them, nor insight (a KPI-bound task
    # is measured through settings.TONGBAN_PROGRAMME_KPI_SOURCE, which points at insight)
    "programme": {"cases", "hotline", "documents", "guide", "insight", "web", "cli"},
}
# ... and nothing below it, nor beside it (cases), nor insight, imports hotline.
for _app in ("core", "rules", "accounts", "catalog", "workflow", "licences", "exchange", "cases", "insight"):
    FORBIDDEN[_app] = FORBIDDEN[_app] | {"hotline", "documents", "guide", "programme"}
FORBIDDEN["hotline"] = FORBIDDEN["hotline"] | {"documents", "guide", "programme"}
FORBIDDEN["documents"] = FORBIDDEN["documents"] | {"guide", "programme"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "tongban" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_an_app_does_not_import_the_apps_above_it(app):
    offences = []
    for path in sorted((SRC / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        bad = _imports(path) & FORBIDDEN[app]
        if bad:
            offences.append(f"{path.relative_to(SRC)} imports {', '.join(sorted(bad))}")
    assert not offences, "\n".join(offences)


# insight reads the core event log (ARCHITECTURE.md, "The spine"): besides core it may know people and
# departments (accounts), the catalogue (its own KPIs) and the rule language, and no other app.
INSIGHT_MAY_IMPORT = {"insight", "core", "rules", "accounts", "catalog"}


def test_insight_imports_only_core_accounts_and_catalog():
    offences = []
    for path in sorted((SRC / "insight").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        bad = _imports(path) - INSIGHT_MAY_IMPORT
        if bad:
            offences.append(f"{path.relative_to(SRC)} imports {', '.join(sorted(bad))}")
    assert not offences, "\n".join(offences)
