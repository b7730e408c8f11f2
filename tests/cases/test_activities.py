"""Cases write the core event log through registered activities (cases/activities.py)."""

import pytest
from django.utils import timezone
from django.utils.translation import override

from tongban.cases import services
from tongban.cases.activities import KIND, STATUS_AFTER
from tongban.core import events

from .test_lifecycle import _actor, _data, _item


def test_every_case_activity_is_registered_with_labels_in_both_languages():
    codes = {a.code for a in events.registry.activities(KIND)}
    assert set(STATUS_AFTER) <= codes
    assert {"work:", "work.reminded", "work:inspection", "case.rated"} <= codes
    for activity in events.registry.activities(KIND):
        if activity.app not in ("cases", "workflow"):
            continue  # registered by other tests
        with override("zh-hans"):
            chinese = str(activity.label)
        with override("en"):
            english = str(activity.label)
        assert chinese and english and chinese != english, activity.code


def test_each_audience_reads_its_own_words():
    with override("zh-hans"):
        assert str(events.label("case.supplement_requested")) == "退回申请人补正"
        assert str(events.label("case.supplement_requested", "window")) == "发出补正通知"
        assert str(events.label("case.supplement_requested", "applicant")) == "补正通知"
    assert events.own_label("case.gap_overdue", "applicant") is None  # staff only
    assert events.own_label("work.reminded", "applicant") is None


def test_an_activity_cases_never_registered_is_refused(db):
    case = services.apply_online(_actor("zhangsan"), item_code=_item(), data=_data())
    with pytest.raises(events.UnknownActivity):
        services._base._event(case, "case.exploded", None, now=timezone.now())
    with pytest.raises(events.UnknownActivity):
        services._base._event(case, "case.decided", None, now=timezone.now(), detail={"mood": "good"})
