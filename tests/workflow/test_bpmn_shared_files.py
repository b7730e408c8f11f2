"""`tongban workflow check` over BPMN files other projects wrote (../shared/data/bpmn, read in place):
no file crashes the checker, and the drawn MIWG models are taken as executable or reference models."""

from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import shared_data_dir
from tongban.core.i18n import bilingual
from tongban.workflow import check


def _folder(name: str) -> Path:
    data = shared_data_dir()
    folder = Path(data) / "bpmn" / name if data else None
    if folder is None or not folder.is_dir():
        pytest.skip(f"shared data (../shared/data, or TONGBAN_DATA_DIR) has no bpmn/{name}: skipped")
    return folder


def _check(name: str) -> dict[str, check.FileCheck]:
    return {
        path.name: check.check(path.read_bytes(), path.name) for path in sorted(_folder(name).glob("*.bpmn"))
    }


@pytest.mark.parametrize("name", ["spiffworkflow", "miwg-reference", "miwg-bpmnio"])
def test_no_file_crashes_and_every_problem_reads_in_both_languages(name):
    reports = _check(name)
    assert reports
    assert [n for n, r in reports.items() if r.status == "crashed"] == []
    for report in reports.values():
        if report.status == "refused":
            assert report.problems, report.name  # a refusal always says why
        messages_of = [p.message for p in report.problems]
        if report.dry_run is not None:
            messages_of.append(report.dry_run.message)
        for message in messages_of:
            messages = bilingual(message)
            assert messages["zh-Hans"] != messages["en"], (report.name, messages)
            for english in (
                "unexpected",
                "position",
                "not run",
                "expects",
                "syntax error",
                "condition holds",
            ):
                assert english not in messages["zh-Hans"], (report.name, messages["zh-Hans"])


def test_ninety_percent_of_the_miwg_models_are_executable_or_reference_models():
    statuses = Counter()
    for name in ("miwg-reference", "miwg-bpmnio"):
        statuses.update(r.status for r in _check(name).values())
    taken = statuses["executable"] + statuses["reference"]
    assert taken / sum(statuses.values()) >= 0.9, statuses


def test_refusals_give_root_causes_only():
    for report in _check("miwg-bpmnio").values():
        codes = Counter(p.code for p in report.problems)
        assert codes["dangling"] == 0, report.name  # no follow-on "connects an element that does not exist"


def test_spiffworkflow_deliberately_invalid_files_are_not_executable():
    reports = _check("spiffworkflow")
    for name, report in reports.items():
        if "invalid" in name.lower() or "non-executable" in name:
            assert report.status != "executable", name
