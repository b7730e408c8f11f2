"""免提交 and applying online need a verified identity (accounts.identity): below the level the
service refuses and says how to raise it; the portal offers no consent box and links to 实名认证."""

import pytest

from tongban.accounts import services as account_services
from tongban.accounts.actors import Actor
from tongban.accounts.identity import AssuranceRequired
from tongban.accounts.models import Person, User
from tongban.accounts.seed import ENTERPRISES, demo_uscc
from tongban.cases import services as cases
from tongban.cases.demo import FOOD_LICENCE, _sample_data
from tongban.cases.models import Case, MaterialSource
from tongban.catalog.demo import loader
from tongban.licences import demo as licence_demo

RESTAURANT = demo_uscc(ENTERPRISES[0][0])


def _actor(username):
    return Actor(User.objects.get(username=username))


@pytest.fixture
def held(db):
    licence_demo.load_types()
    licence_demo.load_licences()
    loader.load_detail()


def _data():
    data = _sample_data(0)
    data.update(uscc=RESTAURANT, enterprise_name=ENTERPRISES[0][1])
    return data


def test_reuse_needs_l2_and_applying_needs_l1(held):
    Person.objects.filter(user__username="zhangsan").update(assurance_level=1)
    zhang = _actor("zhangsan")
    with pytest.raises(AssuranceRequired) as refused:
        cases.apply_online(
            zhang, item_code=FOOD_LICENCE, data=_data(), enterprise_uscc=RESTAURANT, reuse_consent=True
        )
    assert (refused.value.purpose, refused.value.required, refused.value.current) == ("reuse", 2, 1)
    with pytest.raises(AssuranceRequired):
        cases.reuse_preview(zhang, item_code=FOOD_LICENCE)
    # Without consent an L1 citizen still applies, and provides the materials themself.
    case = cases.apply_online(zhang, item_code=FOOD_LICENCE, data=_data(), enterprise_uscc=RESTAURANT)
    assert case.materials.exists()
    assert not case.materials.filter(source__in=[MaterialSource.LICENCE, MaterialSource.SHARED]).exists()
    # An account with no verified identity cannot apply online at all.
    account_services.register_citizen(
        username="newcomer",
        password="a-long-password-2026",
        name="某甲",
        id_number="11010519491231002X",
        phone="13900000009",
    )
    before = Case.objects.count()
    with pytest.raises(AssuranceRequired) as unverified:
        cases.apply_online(_actor("newcomer"), item_code=FOOD_LICENCE, data=_data())
    assert (unverified.value.purpose, unverified.value.required) == ("apply", 1)
    assert Case.objects.count() == before


def test_the_apply_page_offers_consent_only_at_the_level(held, citizen_client):
    client = citizen_client("zhangsan")
    url = f"/services/items/{FOOD_LICENCE}/apply"
    page = client.get(url).content.decode()
    assert 'data-testid="reuse-consent"' in page and 'data-testid="reuse-found"' in page
    Person.objects.filter(user__username="zhangsan").update(assurance_level=1)
    page = client.get(url).content.decode()
    assert 'data-testid="reuse-consent"' not in page and 'data-testid="reuse-found"' not in page
    assert 'data-testid="reuse-needs-level"' in page and "/accounts/identity" in page


def test_an_unverified_account_is_sent_to_identity_verification_from_the_apply_page(held):
    from django.test import Client

    account_services.register_citizen(
        username="newcomer",
        password="a-long-password-2026",
        name="某甲",
        id_number="11010519491231002X",
        phone="13900000009",
    )
    client = Client()
    client.post("/accounts/login", {"username": "newcomer", "password": "a-long-password-2026"})
    page = client.get(f"/services/items/{FOOD_LICENCE}/apply")
    assert page.status_code == 403
    assert 'href="/accounts/identity"' in page.content.decode()
