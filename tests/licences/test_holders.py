"""Licences in the holder's hands: the demo people's wallets, 免提交 with consent, and the hand-over
of a decided case's result into a signed licence."""

import json

import pytest

from tongban.accounts.actors import Actor
from tongban.accounts.models import User
from tongban.accounts.seed import ENTERPRISES, demo_uscc
from tongban.cases import services as cases
from tongban.cases.demo import FOOD_LICENCE, _sample_data
from tongban.cases.models import Case, MaterialSource, MaterialStatus
from tongban.catalog.demo import loader
from tongban.core import events
from tongban.core.authz import SYSTEM
from tongban.core.errors import NotFound, NotPermitted
from tongban.core.models import AuditEntry
from tongban.licences import demo, services
from tongban.licences.models import Licence, LicenceUse

RESTAURANT = demo_uscc(ENTERPRISES[0][0])  # 张三 represents it, 李四 is its agent
BUILDING = demo_uscc(ENTERPRISES[1][0])  # 李四 represents it
LICENCE_MATERIAL = "营业执照"
ME = "本人"  # the wallet's label for the citizen themself (zh-Hans is the default language)
ID_MATERIAL = "法定代表人（负责人）身份证件"


def _actor(username):
    return Actor(User.objects.get(username=username))


@pytest.fixture
def held(db):
    demo.load_types()
    assert demo.load_licences() == 9
    assert demo.load_licences() == 0  # seeding twice issues nothing more


def _food_data(**overrides):
    data = _sample_data(0)
    data.update(uscc=RESTAURANT, enterprise_name=ENTERPRISES[0][1], **overrides)
    return data


def test_the_wallet_shows_a_citizens_and_their_enterprises_licences_with_status(held):
    zhang = {
        (e.licence.licence_type.code, e.holder_label, e.status) for e in services.wallet(_actor("zhangsan"))
    }
    assert zhang == {
        ("resident_id", ME, "valid"),
        ("social_security_card", ME, "valid"),
        ("marriage_certificate", ME, "valid"),
        ("business_licence", ENTERPRISES[0][1], "valid"),
    }
    li = {(e.licence.licence_type.code, e.holder_label, e.status) for e in services.wallet(_actor("lisi"))}
    # The agent of the restaurant and legal representative of the building firm sees both firms'
    # licences, the revoked food licence among them.
    assert ("food_business_licence", ENTERPRISES[1][1], "revoked") in li
    assert ("business_licence", ENTERPRISES[0][1], "valid") in li
    assert ("business_licence", ENTERPRISES[1][1], "valid") in li
    assert ("marriage_certificate", ME, "valid") not in li
    # Staff have no wallet.
    assert services.wallet(_actor("clerk")) == []


def test_an_expired_licence_shows_as_expired_and_does_not_stand_in(held):
    wang = Licence.objects.filter(licence_type__code="social_security_card").exclude(
        code__in=[e.licence.code for e in services.wallet(_actor("zhangsan"))]
    )
    assert wang.count() == 1
    assert services.status_of(wang.get()) == "expired"
    assert services.verify(wang.get().code).status == "expired"


def test_only_the_holder_or_the_issuing_department_may_open_a_licence(held):
    code = Licence.objects.get(licence_type__code="marriage_certificate").code
    assert services.access_licence(_actor("zhangsan"), code).code == code
    with pytest.raises(NotFound):
        services.access_licence(_actor("lisi"), code)
    with pytest.raises(NotFound):
        services.access_licence(_actor("clerk"), code)  # a clerk of another department
    business = Licence.objects.get(licence_type__code="business_licence", holder_index=RESTAURANT).code
    assert services.access_licence(_actor("lisi"), business).code == business  # the firm's agent
    with pytest.raises(NotFound):
        services.access_licence(_actor("zhangsan"), "NOPE-NOPE-NOPE-NOPE")


def test_with_consent_licences_stand_in_for_materials_and_the_use_is_recorded(
    held, django_capture_on_commit_callbacks
):
    loader.load_detail()
    with django_capture_on_commit_callbacks(execute=True):
        case = cases.apply_online(
            _actor("lisi"),  # the agent applies; the ID card is the legal representative's (张三)
            item_code=FOOD_LICENCE,
            data=_food_data(),
            enterprise_uscc=RESTAURANT,
            reuse_consent=True,
        )
    materials = {m.name: m for m in Case.objects.get(number=case.number).materials.all()}
    for name in (LICENCE_MATERIAL, ID_MATERIAL):
        assert materials[name].status == MaterialStatus.PROVIDED
        assert materials[name].source == MaterialSource.LICENCE
        assert "有效" in materials[name].note or "valid" in materials[name].note
    business = Licence.objects.get(licence_type__code="business_licence", holder_index=RESTAURANT)
    zhang_id = next(
        e.licence for e in services.wallet(_actor("zhangsan")) if e.licence.licence_type.code == "resident_id"
    )
    uses = {(u.licence_id, u.material, u.case_number) for u in LicenceUse.objects.all()}
    assert uses == {(business.pk, LICENCE_MATERIAL, case.number), (zhang_id.pk, ID_MATERIAL, case.number)}
    (submitted,) = [e for e in events.history("case", case.number) if e.activity == "case.submitted"]
    assert submitted.detail["reused"] == {LICENCE_MATERIAL: business.code, ID_MATERIAL: zhang_id.code}
    entry = AuditEntry.objects.filter(action="cases.case.apply", object_ref=case.number).get()
    assert entry.detail["reused"][LICENCE_MATERIAL] == business.code
    # The holder's wallet lists where the licence was relied on.
    wallet = {e.licence.code: e for e in services.wallet(_actor("zhangsan"))}
    assert [u.case_number for u in wallet[business.code].uses] == [case.number]


def test_without_consent_or_with_a_revoked_licence_nothing_stands_in(held):
    loader.load_detail()
    plain = cases.apply_online(
        _actor("zhangsan"), item_code=FOOD_LICENCE, data=_food_data(), enterprise_uscc=RESTAURANT
    )
    statuses = dict(plain.materials.values_list("name", "status"))
    assert statuses[LICENCE_MATERIAL] == statuses[ID_MATERIAL] == MaterialStatus.PENDING
    business = Licence.objects.get(licence_type__code="business_licence", holder_index=RESTAURANT)
    services.revoke(SYSTEM, business.code, reason="吊销营业执照")
    consented = cases.apply_online(
        _actor("zhangsan"),
        item_code=FOOD_LICENCE,
        data=_food_data(),
        enterprise_uscc=RESTAURANT,
        reuse_consent=True,
    )
    materials = {m.name: m for m in consented.materials.all()}
    assert materials[LICENCE_MATERIAL].status == MaterialStatus.PENDING  # revoked: no stand-in
    assert materials[ID_MATERIAL].source == MaterialSource.LICENCE
    assert not LicenceUse.objects.exists()  # on_commit never ran here: nothing recorded out of band


def test_the_preview_tells_the_applicant_what_consent_would_fill(held):
    loader.load_detail()
    mine = cases.reuse_preview(_actor("zhangsan"), item_code=FOOD_LICENCE)
    assert set(mine) == {ID_MATERIAL}  # applying as themself: their own ID card only
    firm = cases.reuse_preview(_actor("zhangsan"), item_code=FOOD_LICENCE, enterprise_uscc=RESTAURANT)
    assert set(firm) == {LICENCE_MATERIAL, ID_MATERIAL}
    assert "营业执照" in firm[LICENCE_MATERIAL].summary
    # An enterprise the citizen does not represent is ignored, not looked into.
    other = cases.reuse_preview(_actor("zhangsan"), item_code=FOOD_LICENCE, enterprise_uscc=BUILDING)
    assert set(other) == {ID_MATERIAL}


def test_a_decided_case_is_handed_over_as_a_signed_licence_once(held):
    data = _food_data(food_safety_manager="王安全")
    hand_over = {
        "person_id_number": "",
        "person_name": "",
        "enterprise_uscc": RESTAURANT,
        "enterprise_name": ENTERPRISES[0][1],
        "data": data,
    }
    licence = services.issue_for_case("51160220261122000099", "food_business_licence", **hand_over)
    payload = json.loads(licence.payload)
    assert payload["holder"] == {"kind": "enterprise", "id": RESTAURANT, "name": ENTERPRISES[0][1]}
    assert payload["fields"] == {
        "business_form": "餐饮服务经营者",
        "business_items": "热食类食品制售；冷食类食品制售",
        "address": "广安区中桥街道建设路12号",
        "food_safety_manager": "王安全",
    }
    assert licence.case_number == "51160220261122000099" and services.verify(licence.code).ok
    again = services.issue_for_case("51160220261122000099", "food_business_licence", **hand_over)
    assert again.pk == licence.pk
    # The approval revoked after a failed inspection revokes the licence with it.
    assert services.revoke_for_case("51160220261122000099", reason="事后核查不通过") == [licence.code]
    assert services.verify(licence.code).status == "revoked"


def test_a_hand_over_without_a_holder_is_refused_and_journalled(held):
    # The form names the restaurant, but the case was made for no enterprise: a code typed into a
    # form is no holder (issue 12, defect 1: the licence went to whoever's code was typed).
    data = _food_data()
    assert data["uscc"] == RESTAURANT
    refused = services.issue_for_case(
        "51160220261122000098", "food_business_licence", person_id_number="", person_name="", data=data
    )
    assert refused is None
    entry = AuditEntry.objects.get(action="licences.handover.refused", object_ref="51160220261122000098")
    assert entry.detail["fields"] == ["holder_id", "holder_name"]
    assert not Licence.objects.filter(case_number="51160220261122000098").exists()


def test_the_applicants_case_page_links_the_licence_it_issued(
    held, django_capture_on_commit_callbacks, client
):
    """Issue 12, defect 1: a case was 已办结 · 准予 and its licence was nowhere to be found from it."""
    from django.conf import settings

    from tongban.cases import demo as case_demo

    loader.load_detail()
    with django_capture_on_commit_callbacks(execute=True):
        case_demo.load_sample_cases()
    issued = Case.objects.get(status="issued")
    licence = Licence.objects.get(case_number=issued.number)
    assert [e.licence for e in services.results_of_case(_actor("zhangsan"), issued.number)] == [licence]
    # 李四 is not the restaurant's agent for this sample restaurant, so it is none of his results.
    assert services.results_of_case(_actor("lisi"), issued.number) == []
    client.post("/accounts/login", {"username": "zhangsan", "password": settings.TONGBAN_DEMO_PASSWORD})
    page = client.get(f"/my/cases/{issued.number}/").content.decode()
    assert f'data-code="{licence.code}"' in page and f"/me/licences/{licence.code}.png" in page
    assert client.get(f"/me/licences/{licence.code}.png").status_code == 200


def test_issuing_a_licence_bearing_case_hands_its_licence_over(held, django_capture_on_commit_callbacks):
    from tongban.cases import demo as case_demo

    loader.load_detail()
    with django_capture_on_commit_callbacks(execute=True):
        assert case_demo.load_sample_cases() == 6
    issued = Case.objects.get(status="issued")
    licence = Licence.objects.get(case_number=issued.number)
    assert licence.licence_type.code == "food_business_licence"
    assert json.loads(licence.payload)["holder"]["id"] == issued.data["uscc"]


def test_at_the_window_the_applicants_consent_lets_licences_stand_in(
    held, django_capture_on_commit_callbacks
):
    from tongban.accounts.seed import CITIZENS, demo_id_number

    loader.load_detail()
    region, born, seq = CITIZENS[0][2], CITIZENS[0][3], CITIZENS[0][4]
    form = cases.application_form(item_code=FOOD_LICENCE)
    required = [m["name"] for m in form.materials if m["required"]]
    assert {m["name"] for m in form.materials if m["exempt"]} >= {LICENCE_MATERIAL, ID_MATERIAL}
    with django_capture_on_commit_callbacks(execute=True):
        case = cases.accept_at_window(
            _actor("clerk"),
            item_code=FOOD_LICENCE,
            id_number=demo_id_number(region, born, seq),
            data=_food_data(),
            enterprise_uscc=RESTAURANT,
            paper=required,  # the clerk marked everything "on paper" before asking
            reuse_consent=True,
        )
    materials = {m.name: m for m in case.materials.all()}
    assert materials[LICENCE_MATERIAL].source == materials[ID_MATERIAL].source == MaterialSource.LICENCE
    (accepted,) = [e for e in events.history("case", case.number) if e.activity == "case.accepted"]
    assert LICENCE_MATERIAL not in accepted.detail["paper"]
    assert LicenceUse.objects.filter(case_number=case.number).count() == 2


def test_the_auto_approval_rules_can_read_licence_checks(held):
    from tongban.cases import verification

    loader.load_detail()
    assert {"enterprise_licensed", "applicant_id_licence"} <= set(verification.available())
    case = cases.apply_online(
        _actor("zhangsan"), item_code=FOOD_LICENCE, data=_food_data(), enterprise_uscc=RESTAURANT
    )
    target = None  # these checks read the case's people, not the item
    results = verification.run(case, target, names={"enterprise_licensed", "applicant_id_licence"})
    assert results == {"enterprise_licensed": True, "applicant_id_licence": True}
    services.revoke(
        SYSTEM,
        Licence.objects.get(licence_type__code="business_licence", holder_index=RESTAURANT).code,
        reason="吊销",
    )
    assert verification.run(case, target, names={"enterprise_licensed"}) == {"enterprise_licensed": False}
    # The form naming the restaurant makes it the restaurant's case even with no applicant chosen.
    named = cases.apply_online(_actor("zhangsan"), item_code=FOOD_LICENCE, data=_food_data())
    assert named.enterprise.uscc == RESTAURANT
    assert verification.run(named, target, names={"enterprise_licensed"}) == {"enterprise_licensed": False}


def test_the_reused_materials_feed_the_exemption_rate(held):
    from django.utils import timezone

    loader.load_detail()
    cases.apply_online(
        _actor("zhangsan"),
        item_code=FOOD_LICENCE,
        data=_food_data(),
        enterprise_uscc=RESTAURANT,
        reuse_consent=True,
    )
    cases.apply_online(
        _actor("zhangsan"), item_code=FOOD_LICENCE, data=_food_data(), enterprise_uscc=RESTAURANT
    )
    today = timezone.localdate()
    figures = cases.exemption_rate(_actor("supervisor"), today, today)
    required = Case.objects.first().materials.filter(required=True).count()
    assert figures.required == 2 * required
    assert (figures.by_licence, figures.by_shared_data) == (2, 0)
    assert figures.rate == pytest.approx(2 / (2 * required))
    # A department outside the caller's scope sees none of it; a citizen may not ask.
    assert cases.exemption_rate(_actor("reviewer_rs"), today, today).required == 0
    with pytest.raises(NotPermitted):
        cases.exemption_rate(_actor("zhangsan"), today, today)


def test_the_holder_shows_a_licence_full_screen_and_strangers_cannot(held, client):
    """亮证 (issue 12, defect 8): the licence large on the holder's phone with the time it is shown."""
    from django.conf import settings

    code = Licence.objects.filter(holder_index=RESTAURANT, licence_type__code="business_licence").get().code
    client.post("/accounts/login", {"username": "zhangsan", "password": settings.TONGBAN_DEMO_PASSWORD})
    wallet = client.get("/me/licences/").content.decode()
    assert f'href="/me/licences/{code}/show"' in wallet
    page = client.get(f"/me/licences/{code}/show").content.decode()
    assert 'data-testid="licence-show"' in page and 'data-status="valid"' in page
    assert f'src="/me/licences/{code}.png"' in page and 'data-testid="shown-at"' in page
    assert AuditEntry.objects.filter(action="licences.licence.show", object_ref=code).count() == 1
    client.post("/accounts/logout")
    client.post("/accounts/login", {"username": "lisi", "password": settings.TONGBAN_DEMO_PASSWORD})
    (zhangs_id,) = [
        e.licence for e in services.wallet(_actor("zhangsan")) if e.licence.licence_type.code == "resident_id"
    ]
    assert client.get(f"/me/licences/{zhangs_id.code}/show").status_code == 404
