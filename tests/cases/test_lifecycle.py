"""A case from application to issuance through the services, with its process and its events."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests import samples
from tongban.accounts import services as account_services
from tongban.accounts.actors import Actor
from tongban.accounts.models import Person, User
from tongban.accounts.seed import demo_uscc
from tongban.cases import services
from tongban.cases.models import Case, CaseStatus, MaterialStatus
from tongban.catalog import services as catalog
from tongban.core import events
from tongban.core.authz import SYSTEM
from tongban.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from tongban.workflow import services as workflow_services
from tongban.workflow.models import WorkItem, WorkStatus

SH = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 11, 2, 9, tzinfo=SH)
FIELDS = [
    {"key": "enterprise_name", "label": "经营者名称", "type": "text", "required": True},
    {"key": "uscc", "label": "统一社会信用代码", "type": "uscc", "required": True},
    {"key": "area", "label": "经营面积", "type": "number", "required": False},
]
RESTAURANT = demo_uscc("511602MA62K3LP0")


def _actor(username):
    return Actor(User.objects.get(username=username))


def _item(code="CASE-ITEM", department="scjgj-spjyk", gaps=True, limit=5):
    catalog.create_item(
        SYSTEM,
        code=code,
        department_code=department,
        name="测试食品许可",
        item_type="licensing",
        statutory_limit_days=20,
        promised_limit_days=limit,
        accepts_with_gaps=gaps,
        form_fields=FIELDS,
        materials=[
            {"name": "营业执照", "licence_type": "business_licence"},
            {"name": "平面图"},
            {"name": "管理制度", "core": False},
        ],
    )
    catalog.publish_item(SYSTEM, code)
    return code


def _data():
    return {"enterprise_name": "广安区示例餐饮有限公司", "uscc": RESTAURANT, "area": "120"}


def _no_longer_an_agent(username: str) -> None:
    """The seed makes 李四 the restaurant's agent, which lets him follow its cases: for tests that
    need a citizen with no tie to the restaurant."""
    from tongban.accounts.models import Representation

    Representation.objects.filter(enterprise__uscc=RESTAURANT, person__user__username=username).delete()


def _open_work(case, role=None):
    qs = WorkItem.objects.filter(subject=case.number, status__in=("open", "claimed"))
    return list(qs.filter(role=role) if role else qs)


def _do(username, case, decision="approve", now=None):
    (work,) = [w for w in _open_work(case) if workflow_services.can_work_on(_actor(username), w)]
    services.claim_work(_actor(username), work.public_id)
    return services.complete_work(
        _actor(username), work.public_id, decision=decision, opinion="同意", now=now
    )


FILES = {
    name: samples.upload("material.pdf", str(i)) for i, name in enumerate(("营业执照", "平面图", "管理制度"))
}


def test_online_application_to_issuance(db):
    code = _item()
    case = services.apply_online(
        _actor("zhangsan"),
        item_code=code,
        data=_data(),
        enterprise_uscc=RESTAURANT,
        idempotency_key="k-1",
        files=FILES,
        now=MONDAY,
    )
    assert set(case.materials.values_list("status", "source")) == {(MaterialStatus.PROVIDED, "upload")}
    assert (case.status, case.channel, case.enterprise.uscc) == (CaseStatus.SUBMITTED, "online", RESTAURANT)
    assert case.data == {"enterprise_name": "广安区示例餐饮有限公司", "uscc": RESTAURANT, "area": 120.0}
    again = services.apply_online(
        _actor("zhangsan"),
        item_code=code,
        data=_data(),
        enterprise_uscc=RESTAURANT,
        idempotency_key="k-1",
        files=FILES,
        now=MONDAY,
    )
    assert again.pk == case.pk and Case.objects.count() == 1  # double submit: one case

    services.accept(_actor("clerk"), case.number, now=MONDAY)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert case.due_at == dt.datetime(2026, 11, 10, 0, tzinfo=SH)  # 5 working days after Monday 2 Nov
    assert [w.role for w in _open_work(case)] == ["reviewer"]

    _do("reviewer", case, now=MONDAY + dt.timedelta(hours=2))
    assert [w.role for w in _open_work(case)] == ["section_head"]
    _do("section_head", case, now=MONDAY + dt.timedelta(hours=3))
    case.refresh_from_db()
    assert (case.status, case.decision) == (CaseStatus.DECIDED, "approve")

    services.issue(_actor("clerk"), case.number, delivery="online", now=MONDAY + dt.timedelta(hours=4))
    case.refresh_from_db()
    assert case.status == CaseStatus.ISSUED and case.visits == 0  # 零跑动
    activities = [(e.activity, e.lifecycle) for e in events.history("case", case.number)]
    assert activities == [
        ("case.submitted", "complete"),
        ("case.accepted", "complete"),
        ("work:审查", "start"),
        ("work:审查", "complete"),
        ("work:审批", "start"),
        ("work:审批", "complete"),
        ("case.decided", "complete"),
        ("case.issued", "complete"),
    ]


def test_rejection_at_review_ends_the_process(db):
    code = _item()
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data(), enterprise_uscc=RESTAURANT)
    services.accept(_actor("clerk"), case.number)
    _do("reviewer", case, decision="reject")
    case.refresh_from_db()
    assert (case.status, case.decision) == (CaseStatus.DECIDED, "reject") and not _open_work(case)


def test_window_acceptance_with_gaps(db):
    code = _item()
    number = Person.objects.get(user__username="lisi").id_number
    case = services.accept_at_window(
        _actor("clerk"),
        item_code=code,
        id_number=number,
        data=_data(),
        missing=["管理制度"],
        window_code="gaq-zwzx/01",
        now=MONDAY,
    )
    assert case.channel == "window" and case.visits == 1 and case.window.number == "01"
    gap = case.materials.get(name="管理制度")
    assert gap.status == MaterialStatus.MISSING and gap.due_at == dt.datetime(2026, 11, 10, 0, tzinfo=SH)
    with pytest.raises(InvalidInput) as exc:
        services.accept_at_window(
            _actor("clerk"), item_code=code, id_number=number, data=_data(), missing=["平面图"]
        )
    assert exc.value.fields["missing"][0].code == "core"
    strict = _item(code="NO-GAPS", gaps=False)
    with pytest.raises(InvalidInput) as exc:
        services.accept_at_window(
            _actor("clerk"), item_code=strict, id_number=number, data=_data(), missing=["管理制度"]
        )
    assert exc.value.fields["missing"][0].code == "not_allowed"


def test_a_new_applicant_is_registered_at_the_window(db):
    code = _item()
    case = services.accept_at_window(
        _actor("clerk"),
        item_code=code,
        id_number="11010519491231002X",
        name="赵六",
        phone="13900000009",
        data=_data(),
    )
    assert case.applicant.name == "赵六"


def test_form_errors_are_per_field(db):
    code = _item()
    with pytest.raises(InvalidInput) as exc:
        services.apply_online(
            _actor("zhangsan"), item_code=code, data={"uscc": "123", "area": "many", "x": 1}
        )
    assert set(exc.value.fields) == {"data.enterprise_name", "data.uscc", "data.area", "data.x"}
    assert Case.objects.count() == 0


def test_withdraw_before_decision_cancels_the_work(db):
    code = _item()
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data())
    services.accept(_actor("clerk"), case.number)
    with pytest.raises(NotPermitted):
        services.withdraw(_actor("clerk"), case.number)
    services.withdraw(_actor("zhangsan"), case.number, reason="不开了")
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert set(WorkItem.objects.filter(subject=case.number).values_list("status", flat=True)) == {
        WorkStatus.CANCELLED
    }
    with pytest.raises(Conflict):
        services.withdraw(_actor("zhangsan"), case.number)


def test_who_may_see_a_case(db):
    code = _item()
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data(), enterprise_uscc=RESTAURANT)
    services.accept(_actor("clerk"), case.number)
    for username in (
        "zhangsan",
        "lisi",
        "clerk",
        "reviewer",
        "section_head",
        "bureau_head",
        "supervisor",
        "admin",
    ):
        assert services.access_case(_actor(username), case.number).pk == case.pk, username
    account_services.register_citizen(
        username="wangwu2",
        password="a-long-password-2026",
        name="王二",
        id_number="11010519491231002X",
        phone="13900000009",
    )
    for username in ("wangwu2", "reviewer_rs"):
        with pytest.raises(NotFound):
            services.access_case(_actor(username), case.number)


def test_case_status_colour(db):
    code = _item()
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data(), now=MONDAY)
    services.accept(_actor("clerk"), case.number, now=MONDAY)
    case.refresh_from_db()
    assert services.status_colour(case, MONDAY + dt.timedelta(days=1)) == "green"
    assert services.status_colour(case, dt.datetime(2026, 11, 9, 9, tzinfo=SH)) == "yellow"  # 4.4 of 5 days
    assert services.status_colour(case, dt.datetime(2026, 11, 11, 9, tzinfo=SH)) == "red"


def test_bundle_departments_work_in_parallel(db):
    first = _item(code="BUNDLE-A", department="scjgj-spjyk")
    second = _item(code="BUNDLE-B", department="rsj-shbxk")
    catalog.create_bundle(
        SYSTEM,
        code="TEST-BUNDLE",
        lead_department_code="xzspj",
        name="测试一件事",
        item_codes=[first, second],
        promised_limit_days=3,
        publish=True,
    )
    case = services.apply_online(_actor("zhangsan"), bundle_code="TEST-BUNDLE", data=_data())
    services.accept(_actor("clerk"), case.number)
    assert sorted(w.department_path.split("/")[-2] for w in _open_work(case)) == ["rsj-shbxk", "scjgj-spjyk"]
    _do("reviewer_rs", case)
    _do("reviewer", case)
    account_services.create_staff(
        SYSTEM,
        username="rs_head",
        display_name="人社科长",
        department_code="rsj-shbxk",
        roles=[("section_head", False)],
    )
    _do("rs_head", case)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS  # one member still to approve
    _do("section_head", case)
    case.refresh_from_db()
    assert (case.status, case.decision) == (CaseStatus.DECIDED, "approve")


def test_a_case_number_drawn_twice_is_drawn_again(db, monkeypatch):
    """Numbers end in six random digits: a few thousand cases a day in a region draw the same one
    now and then. The second case gets another number instead of a conflict (found under load)."""
    from tongban.cases.services import _base, applying

    code = _item()
    zhangsan = _actor("zhangsan")
    first = services.apply_online(zhangsan, item_code=code, data=_data(), enterprise_uscc=RESTAURANT)
    drawn = iter([first.number, first.number, "511602202611029999999"])
    monkeypatch.setattr(applying, "_new_number", lambda department, now: next(drawn))
    monkeypatch.setattr(_base, "_new_number", lambda department, now: next(drawn))
    second = services.apply_online(zhangsan, item_code=code, data=_data(), enterprise_uscc=RESTAURANT)
    assert second.number == "511602202611029999999"
    assert Case.objects.get(pk=second.pk).number == second.number
    assert Case.objects.count() == 2
