"""Case numbers (办件编号): region + date + six digits, one of its own for every case of the day.

The last six digits used to be drawn at random, so on a busy day a valid application now and then
drew a number already taken and was refused (409). They now come from a counter per region and
day, taken in the application's own transaction, and are scrambled with that day's key so that a
number still tells nobody how many cases the day had.
"""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from tongban.accounts.models import Department
from tongban.cases import store
from tongban.cases.models import Case, CaseNumberDay
from tongban.cases.services import _base
from tongban.core.errors import Conflict

from .test_lifecycle import FILES, RESTAURANT, _actor, _data, _item

SH = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 11, 2, 9, tzinfo=SH)


def _department():
    return Department.objects.select_related("region").get(code="scjgj-spjyk")


def test_a_busy_day_never_hands_out_a_number_twice(db):
    # 5,000 random six-digit numbers repeat one another with a probability of 1 − e^(−12.5).
    department = _department()
    numbers = [_base._new_number(department, MONDAY) for _ in range(5000)]
    assert len(set(numbers)) == len(numbers)
    prefix = f"{department.region_id[:6]}20261102"
    assert all(len(n) == 20 and n.startswith(prefix) and n[14:].isdigit() for n in numbers)


def test_numbers_do_not_count_the_days_cases(db):
    department = _department()
    tails = [int(_base._new_number(department, MONDAY)[14:]) for _ in range(50)]
    assert tails != sorted(tails)  # 50 ascending by chance: one in 50!
    # The day after starts afresh under a key of its own: same serials, other numbers.
    tomorrow = [int(_base._new_number(department, MONDAY + dt.timedelta(days=1))[14:]) for _ in range(50)]
    assert tomorrow != tails


def test_the_local_day_decides_the_date(db):
    department = _department()
    late = dt.datetime(2026, 11, 2, 23, 59, tzinfo=SH).astimezone(dt.UTC)  # still Monday in 广安
    assert _base._new_number(department, late)[6:14] == "20261102"


def test_a_day_that_ran_out_of_numbers_says_so(db):
    department = _department()
    _base._new_number(department, MONDAY)
    CaseNumberDay.objects.filter(region=department.region_id[:6], day=MONDAY.date()).update(last_serial=10**6)
    with pytest.raises(Conflict) as refused:
        _base._new_number(department, MONDAY)
    assert "1000000" in str(refused.value.message) or "1,000,000" in str(refused.value.message)


def test_applications_are_not_refused_when_chance_repeats_itself(db, monkeypatch):
    """The 409 of issue 9: two applications whose random draw came out equal. Whatever a random
    source yields, the second application gets a number of its own."""
    import secrets

    monkeypatch.setattr(secrets, "randbelow", lambda n: 424242 % n)
    code = _item()
    first = _base_apply(code, "n-1")
    second = _base_apply(code, "n-2")
    assert first.number != second.number and Case.objects.count() == 2


def _base_apply(code, key):
    from tongban.cases import services

    return services.apply_online(
        _actor("zhangsan"),
        item_code=code,
        data=_data(),
        enterprise_uscc=RESTAURANT,
        idempotency_key=key,
        files=FILES,
        now=MONDAY,
    )


def _file_backed() -> bool:
    name = str(connection.settings_dict.get("NAME", ""))
    return not (connection.vendor == "sqlite" and (name in (":memory:", "") or "mode=memory" in name))


@pytest.mark.django_db(transaction=True)
def test_concurrent_applications_in_one_region_never_collide():
    """Eight writers, each on its own connection (threads), each taking numbers in transactions of
    its own as applications do; on PostgreSQL these are eight server sessions racing for one row."""
    if not _file_backed():
        pytest.skip("in-memory SQLite is one connection")
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    class _Region:  # the department as the numbering sees it: its region code
        region_id = "511602"

    def writer():
        from django.db import connections

        try:
            for _ in range(100):
                with transaction.atomic():
                    number = _base._new_number(_Region, MONDAY)
                with lock:
                    numbers.append(number)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(numbers) == 800 and len(set(numbers)) == 800
    assert CaseNumberDay.objects.get(region="511602", day=MONDAY.date()).last_serial == 800


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_application_gives_its_serial_back():
    if not _file_backed():
        pytest.skip("in-memory SQLite is one connection")

    class _Region:
        region_id = "511602"

    with transaction.atomic():
        first = _base._new_number(_Region, MONDAY)
    try:
        with transaction.atomic():
            _base._new_number(_Region, MONDAY)
            raise RuntimeError("the application failed later")
    except RuntimeError:
        pass
    with transaction.atomic():
        third = _base._new_number(_Region, MONDAY)
    # The failed application's serial went back with its transaction: the counter has no gaps.
    assert CaseNumberDay.objects.get(region="511602", day=MONDAY.date()).last_serial == 2
    assert first != third
    assert store.take_case_serial("511602", MONDAY.date())[0] == 3
