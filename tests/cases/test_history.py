"""The demo city's year of history (issue 12): cases driven through the services with simulated
instants, timing fitted to the real receipt log, and nothing touched twice."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from tongban.accounts.seed import seed_demo
from tongban.cases import history
from tongban.cases.demo import load_demo_process
from tongban.cases.models import Case, CaseStatus, Rating
from tongban.catalog.demo.loader import load_detail
from tongban.core.models import DomainEvent

RECEIPT = Path(os.environ.get("TONGBAN_DATA_DIR", "../shared/data")) / "eventlogs" / "receipt.csv"


@pytest.mark.skipif(not RECEIPT.is_file(), reason="the shared event logs are not beside the project")
def test_the_timing_is_fitted_from_the_real_receipt_log():
    fit = history.fit_receipt_log(RECEIPT)
    # 1,434 cases over about 68 weeks: a few a working day; Friday the quietest of the week.
    assert 3 < fit.arrivals_per_working_day < 6
    assert min(fit.weekday_weights) == fit.weekday_weights[4]
    assert 0.04 < fit.rework_share < 0.09
    assert fit.handover_log_sd > 0 and -3 < fit.handover_log_mean < 4


def test_a_history_is_driven_through_the_services_and_loaded_once(db):
    seed_demo()
    load_detail()
    load_demo_process()
    now = timezone.now()
    report = history.load_demo_history(days=20, scale=0.25, now=now)
    assert report.cases > 5, report
    cases = Case.objects.filter(idempotency_key__startswith=history.KEY_PREFIX)
    assert cases.count() == report.cases
    # Filed on working days in the past 20 days, through both channels, most of them finished.
    assert all(now - dt.timedelta(days=21) < c.submitted_at < now for c in cases)
    assert cases.filter(status=CaseStatus.ISSUED).count() == report.issued
    assert {c.channel for c in cases} <= {"online", "window"}
    # The event log tells the same story with the simulated instants, and ratings were given.
    events = DomainEvent.objects.filter(subject_id__in=[c.number for c in cases])
    assert events.count() >= 4 * report.cases
    assert max(e.occurred_at for e in events) <= now
    assert Rating.objects.filter(case__in=cases).count() == report.ratings
    # Online cases arrive with every material uploaded (no paper); window cases name their window.
    online = cases.filter(channel="online").first()
    assert online is not None and all(m.file_ref for m in online.materials.all())
    window = cases.filter(channel="window").first()
    assert window is None or window.window_id is not None
    # The demo people's own lists are as the seed left them.
    assert not cases.filter(applicant__user__username__in=["zhangsan", "lisi"]).exists()
    # Again: nothing added.
    assert history.load_demo_history(days=20, scale=0.25, now=now).cases == 0
    assert Case.objects.filter(idempotency_key__startswith=history.KEY_PREFIX).count() == report.cases
