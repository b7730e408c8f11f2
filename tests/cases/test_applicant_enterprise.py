"""A person applies for an enterprise only as its legal representative or authorised agent, and the
enterprise's result goes only to the enterprise the case was made for (issue 12, defect 1: the 本人
option took another enterprise's credit code in the form, and the licence went to that enterprise)."""

import pytest

from tests.cases.test_lifecycle import RESTAURANT, _actor, _data, _item
from tongban.accounts.seed import demo_uscc
from tongban.cases import services
from tongban.cases.models import Case
from tongban.core.errors import InvalidInput

BUILDING = demo_uscc("511602MA6B7QW1X")  # 李四's; 张三 neither represents it nor is its agent
UNREGISTERED = demo_uscc("511602MA6XXXX00")


def _refused(**kwargs) -> dict:
    with pytest.raises(InvalidInput) as exc:
        services.apply_online(_actor("zhangsan"), item_code="CASE-ITEM", **kwargs)
    assert not Case.objects.exists()
    return exc.value.fields


def test_a_form_naming_an_enterprise_the_applicant_may_not_act_for_is_refused(db):
    _item()
    registered = _refused(data={**_data(), "uscc": BUILDING})
    unknown = _refused(data={**_data(), "uscc": UNREGISTERED})
    # The same words whether the code is registered or not: the form tells a stranger nothing.
    assert [e.code for e in registered["data.uscc"]] == ["not_representative"]
    assert [str(e.message) for e in registered["data.uscc"]] == [str(e.message) for e in unknown["data.uscc"]]


def test_a_form_naming_another_enterprise_than_the_one_chosen_is_refused(db):
    _item()
    fields = _refused(data={**_data(), "uscc": BUILDING}, enterprise_uscc=RESTAURANT)
    assert [e.code for e in fields["data.uscc"]] == ["not_applicant"]


def test_the_enterprise_named_in_the_form_is_the_applicant_when_the_person_may_act_for_it(db):
    _item()
    case = services.apply_online(_actor("zhangsan"), item_code="CASE-ITEM", data=_data())
    assert case.enterprise.uscc == RESTAURANT
    # 李四 is the restaurant's agent: its case is his to follow too.
    assert services.access_case(_actor("lisi"), case.number) == case
