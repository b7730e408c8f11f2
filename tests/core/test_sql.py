"""core.sql.insert_rows: many rows of a model in a few statements, read back as the ORM wrote them."""

import datetime as dt
import json

import pytest
from django.db import transaction
from django.utils import timezone

from tongban.core import sql
from tongban.core.models import DomainEvent


@pytest.mark.django_db(transaction=True)
def test_rows_go_in_with_json_times_and_defaults_as_the_orm_would_write_them():
    at = timezone.now().replace(microsecond=123456)
    rows = [
        (
            "probe",
            f"S{n}",
            "probe.opened",
            at + dt.timedelta(seconds=n % 3),
            "系统",
            json.dumps({"n": n, "中": [1]}),
        )
        for n in range(7000)  # more than one statement's worth of parameters
    ]
    with transaction.atomic():
        count = sql.insert_rows(
            DomainEvent,
            ["subject_kind", "subject_id", "activity", "occurred_at", "actor_label", "detail"],
            rows,
        )
    assert count == 7000
    stored = DomainEvent.objects.filter(subject_kind="probe")
    assert stored.count() == 7000
    one = stored.get(subject_id="S4")
    assert one.detail == {"n": 4, "中": [1]} and one.occurred_at == at + dt.timedelta(seconds=1)
    # fields not named take their model defaults
    assert (one.version, one.lifecycle, one.channel, one.work_item, one.actor_id) == (
        1,
        "complete",
        "",
        None,
        None,
    )
    assert stored.filter(detail__n=6999).count() == 1  # the JSON is JSON to the database too
    assert sql.insert_rows(DomainEvent, ["subject_kind"], []) == 0
    with pytest.raises(ValueError, match="no field"):
        sql.insert_rows(DomainEvent, ["subject"], [("x",)])
    with pytest.raises(ValueError, match="no default"):
        sql.insert_rows(DomainEvent, ["subject_kind"], [("x",)])
