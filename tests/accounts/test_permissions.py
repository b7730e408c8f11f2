"""The permission matrix: every role against every kind of object, through the services.

The demo city gives each role a user: reviewer, section_head, division_head and bureau_head work
in 市场监管局 (scjgj; reviewer and section_head in its 食品经营监管科), clerk at the 综合窗口 of
行政审批局, reviewer_rs in 人社局, supervisor/data_officer/admin over the whole government, and
citizens 张三 (zhangsan: legal representative of the restaurant company) and 李四 (lisi: its agent,
and legal representative of the building-materials company).
"""

import datetime as dt

import pytest

from tongban.accounts import services
from tongban.accounts.actors import ANONYMOUS, Actor
from tongban.accounts.models import Enterprise, Person, RoleAssignment, User
from tongban.accounts.seed import demo_uscc
from tongban.core import services as core_services
from tongban.core.errors import NotAuthenticated, NotFound, NotPermitted

ROLES = [
    "zhangsan",
    "lisi",
    "clerk",
    "reviewer",
    "section_head",
    "division_head",
    "bureau_head",
    "supervisor",
    "data_officer",
    "admin",
    "reviewer_rs",
    "anonymous",
]
HEADS_OF_SCJGJ = {"section_head", "division_head", "bureau_head"}
WHOLE_GOVERNMENT = {"supervisor", "data_officer", "admin"}
RESTAURANT = demo_uscc("511602MA62K3LP0")
BUILDING = demo_uscc("511602MA6B7QW1X")


def _person(username) -> Person:
    return Person.objects.get(user__username=username)


def _id_number(username) -> str:
    return _person(username).id_number


ACTIONS = {
    # Staff records are scoped by department (and sub-tree for heads).
    "view staff in 食品经营监管科": (
        lambda a: services.access_staff(a, "reviewer"),
        {"reviewer"} | HEADS_OF_SCJGJ | WHOLE_GOVERNMENT,
    ),
    "view staff in 人社局": (
        lambda a: services.access_staff(a, "reviewer_rs"),
        {"reviewer_rs"} | WHOLE_GOVERNMENT,
    ),
    "view staff at the window (行政审批局)": (
        lambda a: services.access_staff(a, "clerk"),
        {"clerk"} | WHOLE_GOVERNMENT,
    ),
    "grant a role in 市场监管局": (
        lambda a: services.assign_role(
            a, username="reviewer", role="reviewer", department_code="scjgj-djzck"
        ),
        {"admin"},
    ),
    "disable a staff account": (
        lambda a: services.set_staff_active(a, username="reviewer_rs", active=False),
        {"admin"},
    ),
    "create a section under 市场监管局": (
        lambda a: services.create_department(
            a, code="scjgj-new", name="新科室", kind="section", region_code="511602", parent_code="scjgj"
        ),
        {"admin"},
    ),
    # Applicants: found by exact ID number only, by staff who receive or review applications.
    "look up an applicant by ID number": (
        lambda a: services.lookup_person(a, id_number=_id_number("lisi")),
        {"clerk", "reviewer", "reviewer_rs", "admin"} | HEADS_OF_SCJGJ,
    ),
    "see another person's record": (
        lambda a: services.person_card(a, _person("lisi").public_id),
        {"lisi", "clerk", "reviewer", "reviewer_rs", "admin"} | HEADS_OF_SCJGJ,
    ),
    "see full ID and phone numbers (with reason)": (
        lambda a: services.reveal_person(a, _person("lisi").public_id, reason="窗口受理核对身份"),
        {"clerk", "admin"},
    ),
    "register an applicant at the window": (
        lambda a: services.register_person(a, name="赵六", id_number="11010519491231002X"),
        {"clerk", "admin"},
    ),
    "browse all persons": (lambda a: list(services.list_persons(a)), {"admin"}),
    # Enterprises: their representatives, and staff who look up applicants.
    "see the restaurant company": (
        lambda a: services.access_enterprise(a, RESTAURANT),
        {"zhangsan", "lisi", "clerk", "reviewer", "reviewer_rs", "admin"} | HEADS_OF_SCJGJ,
    ),
    "see the building-materials company": (
        lambda a: services.access_enterprise(a, BUILDING),
        {"lisi", "clerk", "reviewer", "reviewer_rs", "admin"} | HEADS_OF_SCJGJ,
    ),
    "authorise an agent for the restaurant company": (
        lambda a: services.authorise_agent(a, uscc=RESTAURANT, agent_id_number="11010519491231002X"),
        {"zhangsan", "clerk", "admin"},
    ),
    # Kernel.
    "read the audit journal": (lambda a: list(core_services.list_journal(a)[:5]), {"supervisor", "admin"}),
    "verify the audit journal": (
        lambda a: core_services.verify_journal(a, trigger="test"),
        {"supervisor", "admin"},
    ),
    "change the working-day calendar": (
        lambda a: core_services.set_calendar_day(
            a, date=dt.date(2027, 1, 1), is_working_day=False, name="元旦"
        ),
        {"admin"},
    ),
    "issue an API token": (
        lambda a: services.create_api_token(a, username="nobody", name="x"),
        {"admin"},
    ),
}


def _actor(username):
    if username == "anonymous":
        return ANONYMOUS
    return Actor(User.objects.get(username=username))


def _prepare(action_name):
    # The agent to authorise and the applicant to register must exist / not exist respectively.
    if action_name == "authorise an agent for the restaurant company":
        services.register_person(_actor("admin"), name="赵六", id_number="11010519491231002X")


def _outcome(action_name, username):
    from tongban.core.errors import InvalidInput

    _prepare(action_name)
    call, _allowed = ACTIONS[action_name]
    try:
        call(_actor(username))
    except (NotPermitted, NotFound, NotAuthenticated):
        return "denied"
    except InvalidInput as exc:
        # Reaching validation means the permission check passed (e.g. the token target does not exist).
        return "allowed" if exc.fields else "denied"
    return "allowed"


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("action_name", list(ACTIONS))
def test_permission_matrix(db, action_name, username):
    expected = "allowed" if username in ACTIONS[action_name][1] else "denied"
    assert _outcome(action_name, username) == expected


def test_staff_lists_are_confined_to_scope(db):
    def seen(username):
        return set(services.list_staff(_actor(username)).values_list("user__username", flat=True))

    assert seen("reviewer") == {"reviewer", "section_head"}
    assert seen("section_head") == {"reviewer", "section_head"}
    assert seen("bureau_head") == {"reviewer", "section_head", "division_head", "bureau_head"}
    assert seen("reviewer_rs") == {"reviewer_rs"}
    assert seen("clerk") == {"clerk"}
    assert seen("admin") == set(User.objects.filter(staff__isnull=False).values_list("username", flat=True))


def test_granting_a_role_on_another_department_grants_exactly_that_view(db):
    admin = _actor("admin")
    assert "reviewer_rs" not in set(
        services.list_staff(_actor("reviewer")).values_list("user__username", flat=True)
    )
    services.assign_role(admin, username="reviewer", role="reviewer", department_code="rsj-shbxk")
    seen = set(services.list_staff(_actor("reviewer")).values_list("user__username", flat=True))
    assert seen == {"reviewer", "section_head", "reviewer_rs"}
    # An expired grant gives nothing (edited as the admin site would: a save, which also makes
    # the cached authority of the staff member stale at once).
    grant = RoleAssignment.objects.get(staff__user__username="reviewer", department__code="rsj-shbxk")
    grant.expires_at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    grant.save()
    with pytest.raises(NotFound):
        services.access_staff(_actor("reviewer"), "reviewer_rs")


def test_a_department_admin_cannot_grant_beyond_its_department(db):
    admin = _actor("admin")
    services.create_staff(
        admin,
        username="scjg_admin",
        display_name="市监管理员",
        department_code="scjgj",
        roles=[("admin", True)],
    )
    scjg_admin = _actor("scjg_admin")
    services.assign_role(scjg_admin, username="reviewer", role="reviewer", department_code="scjgj-djzck")
    with pytest.raises((NotPermitted, NotFound)):
        services.assign_role(scjg_admin, username="reviewer", role="reviewer", department_code="rsj-shbxk")
    with pytest.raises((NotPermitted, NotFound)):
        services.assign_role(scjg_admin, username="reviewer_rs", role="admin", department_code="rsj")


def test_citizens_see_their_own_numbers_unmasked_and_staff_see_them_masked(db):
    own = services.person_card(_actor("zhangsan"), _person("zhangsan").public_id)
    assert own.masked is False and own.id_number == _person("zhangsan").id_number
    seen_by_clerk = services.person_card(_actor("clerk"), _person("zhangsan").public_id)
    number = _person("zhangsan").id_number
    assert seen_by_clerk.masked is True
    assert seen_by_clerk.id_number == number[:6] + "********" + number[-4:]
    assert seen_by_clerk.phone == "138****0001"
    assert seen_by_clerk.name == "张*"


def test_a_disabled_account_has_no_access(db):
    user = User.objects.get(username="reviewer")
    user.is_active = False
    user.save()
    with pytest.raises((NotFound, NotPermitted)):
        services.access_staff(Actor(user), "section_head")


def test_agent_authorisation_expires(db):
    admin = _actor("admin")
    services.register_person(admin, name="赵六", id_number="11010519491231002X")
    person = Person.objects.get(name="赵六")
    user = User.objects.create_user("zhaoliu", "x-long-password-1", display_name="赵六", kind="citizen")
    person.user = user
    person.save()
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    services.authorise_agent(
        _actor("zhangsan"), uscc=RESTAURANT, agent_id_number=person.id_number, valid_until=tomorrow
    )
    assert services.access_enterprise(Actor(user), RESTAURANT).uscc == RESTAURANT
    person.representations.update(valid_until=dt.date.today() - dt.timedelta(days=1))
    with pytest.raises(NotFound):
        services.access_enterprise(Actor(user), RESTAURANT)
    assert Enterprise.objects.filter(uscc=RESTAURANT).exists()
