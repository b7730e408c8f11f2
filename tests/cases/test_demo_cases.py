"""The demo's sample cases: `make demo` opens on consoles with something in them."""

from tongban.accounts.actors import Actor
from tongban.accounts.models import User
from tongban.cases import demo, services
from tongban.cases.models import Case, CaseStatus
from tongban.cases.replay import replay
from tongban.catalog.demo import loader
from tongban.core import events


def _actor(username):
    return Actor(User.objects.get(username=username))


def test_sample_cases_fill_the_window_worklist_and_portal(db):
    loader.load_detail()
    assert demo.load_sample_cases() == 6
    assert demo.load_sample_cases() == 0  # seeding twice adds nothing
    statuses = sorted(Case.objects.values_list("status", flat=True))
    assert statuses == sorted(
        [
            CaseStatus.SUBMITTED,
            CaseStatus.IN_PROGRESS,
            CaseStatus.IN_PROGRESS,
            CaseStatus.IN_PROGRESS,
            CaseStatus.SUPPLEMENT,
            CaseStatus.ISSUED,
        ]
    )
    # The demo reviewer sees the steps, in every light: the one filed 25 working days ago is overdue.
    rows, total = services.worklist(_actor("reviewer"))
    assert total == 4
    assert {r.colour for r in rows} == {"red", "green", "paused"}
    # Everything was done through the services: each case's events replay to its state.
    for case in Case.objects.all():
        state = replay(events.history("case", case.number))
        assert (state.status, state.decision) == (case.status, case.decision)
    # The applicants find their own cases, and the 补正 waits on one of them.
    mine = list(services.list_my_cases(_actor("zhangsan")))
    assert any(c.status == CaseStatus.SUPPLEMENT for c in mine)
    assert not any(c.applicant.user.username != "zhangsan" for c in mine)
