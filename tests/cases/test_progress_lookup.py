"""办件进度查询 without logging in: the case number and six characters of the applicant's (or the
enterprise's) identifier show the item and the stage reached, and nothing about the person."""

import pytest
from django.test import Client

from tongban.cases import services
from tongban.cases.models import CaseStatus
from tongban.core.errors import InvalidInput, NotFound
from tongban.core.models import AuditEntry

from .test_lifecycle import RESTAURANT
from .test_portal_views import _apply, _login


@pytest.fixture
def case(db):
    from .test_lifecycle import _item

    return _apply(_login("zhangsan"), _item(), enterprise_uscc=RESTAURANT)


def test_the_applicants_id_tail_shows_the_stage_reached(case):
    found = services.public_progress(case.number, case.applicant.id_number[-6:].lower())
    assert (found.number, found.title, found.status) == (case.number, case.title, CaseStatus.SUBMITTED)
    assert [s.state for s in found.steps][:2] == ["done", "current"]
    entry = AuditEntry.objects.filter(action="case.progress_lookup").latest("id")
    assert (entry.outcome, entry.object_ref) == ("success", case.number)


def test_the_enterprises_credit_code_tail_works_too(case):
    assert services.public_progress(case.number, RESTAURANT[-6:]).number == case.number


def test_a_wrong_tail_and_an_unknown_number_get_the_same_answer(case):
    with pytest.raises(NotFound) as wrong:
        services.public_progress(
            case.number, "000000" if case.applicant.id_number[-6:] != "000000" else "111111"
        )
    with pytest.raises(NotFound) as unknown:
        services.public_progress("99999999999999999999", case.applicant.id_number[-6:])
    assert str(wrong.value.message) == str(unknown.value.message)
    refused = AuditEntry.objects.filter(action="case.progress_lookup", outcome="denied")
    assert refused.count() == 2


@pytest.mark.parametrize(
    ("number", "tail", "fields"),
    [
        ("", "123456", {"number"}),
        ("<script>", "12", {"number", "id_tail"}),
        ("5116022026", "12345\x00", {"id_tail"}),
    ],
)
def test_bad_input_is_refused_by_field(db, number, tail, fields):
    with pytest.raises(InvalidInput) as refused:
        services.public_progress(number, tail)
    assert set(refused.value.fields) == fields


def test_the_page_shows_the_strip_and_no_personal_data(case):
    client = Client()
    page = client.get("/progress/")
    assert page.status_code == 200 and 'data-testid="progress-lookup"' in page.content.decode()
    tail = case.applicant.id_number[-6:]
    result = client.post("/progress/", {"number": case.number, "id_tail": tail}).content.decode()
    assert 'data-testid="lookup-result"' in result and 'data-testid="progress-strip"' in result
    assert case.title in result
    for private in (case.applicant.name, case.applicant.id_number, case.enterprise.name):
        assert private not in result
    wrong = client.post("/progress/", {"number": case.number, "id_tail": "ZZZZZZ"})
    assert wrong.status_code == 200
    assert 'data-testid="lookup-result"' not in wrong.content.decode()
    assert "alert-error" in wrong.content.decode()
    empty = client.post("/progress/", {"number": "", "id_tail": ""}).content.decode()
    assert 'data-field="number"' in empty and 'data-field="id_tail"' in empty
