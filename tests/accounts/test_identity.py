"""Identity assurance (实名认证) through the services: registration claims, L1 against the population
register (through the exchange), L2 by SMS code, L3 at a window or by face check, and the gate the
licence wallet and 免提交 call."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from tests.accounts.conftest import DECEASED, HOLDER, HOLDER_NAME, STRANGER, ZHANGSAN
from tongban.accounts import identity, services
from tongban.accounts.actors import Actor
from tongban.accounts.models import (
    AssuranceLevel,
    ClaimStatus,
    IdentityClaim,
    IdentityVerification,
    Notification,
    Person,
    PhoneChallenge,
    User,
    VerificationMethod,
)
from tongban.core.authz import SYSTEM, SystemActor
from tongban.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from tongban.core.models import AuditEntry
from tongban.exchange.models import Call
from tongban.licences import demo as licence_demo
from tongban.licences import services as licences

PASSWORD = "a-long-password-2026"


def _actor(username) -> Actor:
    return Actor(User.objects.get(username=username))


def _register(username, name, number, phone="13900000001") -> Actor:
    services.register_citizen(username=username, password=PASSWORD, name=name, id_number=number, phone=phone)
    return _actor(username)


def _resident_id(number, name) -> str:
    licence_demo.load_types()
    licence = licences.issue(
        SYSTEM,
        "resident_id",
        holder_id=number,
        holder_name=name,
        fields={"address": "建设路12号", "issuing_authority": "广安市公安局广安区分局"},
    )
    return licence.code


# --- registration -------------------------------------------------------------------------------------


def test_registration_binds_no_person_and_a_taken_number_looks_the_same_to_the_registrant(db):
    fresh = _register("fresh01", "王小明", HOLDER)
    taken = _register("taken01", "张三", ZHANGSAN)  # zhangsan's number: bound to another account
    assert fresh.person is None and taken.person is None
    assert IdentityClaim.objects.get(user=fresh.user).status == ClaimStatus.PENDING
    assert IdentityClaim.objects.get(user=taken.user).status == ClaimStatus.WINDOW
    # The real holder's binding is untouched.
    assert Person.objects.get(user__username="zhangsan").id_number == ZHANGSAN
    # What each registrant can read about themselves has the same shape and says the same.
    a, b = identity.identity_status(fresh), identity.identity_status(taken)
    for status in (a, b):
        assert (status.level, status.bound, status.attempts_left) == (0, False, 5)
    assert a.id_number_masked.startswith("511602") and b.id_number_masked.startswith("511602")


# --- L1: the population register -----------------------------------------------------------------------


def test_l1_binds_the_account_when_the_register_confirms_name_and_number(register):
    actor = _register("wangxm", "王小明", HOLDER)
    person = identity.verify_real_name(actor)
    assert (person.user.username, person.name, person.assurance_level) == ("wangxm", "王小明", 1)
    claim = IdentityClaim.objects.get(user__username="wangxm")
    assert (claim.status, claim.person_id, claim.register_match) == (ClaimStatus.VERIFIED, person.pk, True)
    verification = IdentityVerification.objects.get(person=person)
    assert verification.method == VerificationMethod.POPULATION_REGISTER
    # The evidence is the exchange call: verify-only, under the portal department's grant, logged.
    call = Call.objects.get(reference=verification.evidence)
    assert (call.consumer.code, call.kind, call.predicate) == ("ggb", "verify", "real_name")
    assert call.outcome == "answered"
    assert HOLDER not in call.subject_masked and "王小明" not in str(call.__dict__)
    entry = AuditEntry.objects.filter(action="accounts.identity.real_name").latest("seq")
    assert entry.outcome == "success"
    assert "王小明" not in str(entry.detail) and HOLDER not in str(entry.detail)


def test_a_wrong_name_a_dead_person_and_a_taken_number_get_one_answer(register):
    answers = []
    for username, name, number in [
        ("attacker1", "攻击者", HOLDER),  # the number is free, the name is wrong
        ("attacker2", "赵老", DECEASED),  # recorded as deceased
        ("attacker3", "张三", ZHANGSAN),  # right name, but the number is bound to zhangsan
        ("attacker4", "钱七", STRANGER),  # not in the register at all
    ]:
        actor = _register(username, name, number)
        calls = Call.objects.count()
        with pytest.raises(identity.NotVerified) as refused:
            identity.verify_real_name(actor)
        assert Call.objects.count() == calls + 1  # the register was asked in every case
        answers.append((refused.value.status, refused.value.code, str(refused.value.message)))
        assert _actor(username).person is None
    assert len(set(answers)) == 1
    # The clerk, not the registrant, learns that the taken number's name matched.
    assert IdentityClaim.objects.get(user__username="attacker3").register_match is True
    assert IdentityClaim.objects.get(user__username="attacker3").status == ClaimStatus.WINDOW
    assert Person.objects.get(user__username="zhangsan").assurance_level == 2


def test_a_registrant_corrects_a_typo_and_is_then_verified(register):
    actor = _register("typo", "王小名", HOLDER)
    with pytest.raises(identity.NotVerified):
        identity.verify_real_name(actor)
    with pytest.raises(InvalidInput) as bad:
        identity.verify_real_name(actor, name="王小明", id_number="511602198805200411")
    assert "id_number" in bad.value.fields
    person = identity.verify_real_name(actor, name="王小明")
    assert person.name == "王小明" and person.assurance_level == 1


def test_without_a_register_l1_is_never_reached_online(db, settings, register):
    actor = _register("noreg", "王小明", HOLDER)
    settings.TONGBAN_POPULATION_REGISTER = ""
    assert identity.identity_status(actor).register_available is False
    with pytest.raises(identity.Unavailable):
        identity.verify_real_name(actor)
    assert _actor("noreg").person is None


def test_without_a_grant_the_check_is_refused_and_logged_and_nothing_is_granted(db):
    actor = _register("nogrant", "王小明", HOLDER)  # no population resource or grant in this database
    with pytest.raises(identity.Unavailable):
        identity.verify_real_name(actor)
    assert Call.objects.filter(outcome="refused", consumer__code="ggb").exists() or not Call.objects.exists()
    assert _actor("nogrant").person is None and identity.level_of(_actor("nogrant")) == 0


def test_online_checks_are_limited_per_day(register, settings):
    settings.TONGBAN_IDENTITY_DAILY_ATTEMPTS = 2
    actor = _register("guesser", "某甲", HOLDER)
    for name in ("某乙", "某丙"):
        with pytest.raises(identity.NotVerified):
            identity.verify_real_name(actor, name=name)
    calls = Call.objects.count()
    with pytest.raises(InvalidInput) as refused:
        identity.verify_real_name(actor, name=HOLDER_NAME)
    assert refused.value.fields["id_number"][0].code == "too_many_attempts"
    assert Call.objects.count() == calls  # the register is not asked again
    claim = IdentityClaim.objects.get(user=actor.user)
    claim.attempts_since = timezone.now() - dt.timedelta(days=1, minutes=1)
    claim.save()
    assert identity.verify_real_name(actor, name=HOLDER_NAME).assurance_level == 1


# --- L2: SMS code -----------------------------------------------------------------------------------


@pytest.fixture
def at_l1(register):
    actor = _register("smsuser", HOLDER_NAME, HOLDER, phone="13912345678")
    identity.verify_real_name(actor)
    return _actor("smsuser")


def test_l2_by_sms_code_kept_only_as_a_keyed_hash(at_l1, outbox):
    sent = identity.send_phone_code(at_l1)
    assert sent.phone_masked == "139****5678" and sent.delivered is False
    code = outbox.code("13912345678")
    assert "实名认证验证码为" + code in outbox.messages("13912345678")[-1]["text"]
    challenge = PhoneChallenge.objects.get(person=at_l1.person)
    assert code not in challenge.code_digest and len(challenge.code_digest) == 64
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(InvalidInput) as refused:
        identity.confirm_phone_code(at_l1, code=wrong)
    assert refused.value.fields["code"][0].code == "wrong"
    person = identity.confirm_phone_code(at_l1, code=code)
    assert person.assurance_level == AssuranceLevel.PHONE
    sms = IdentityVerification.objects.get(person=person, method=VerificationMethod.SMS)
    assert sms.evidence == "139****5678"
    # A used code does not work twice.
    with pytest.raises(InvalidInput):
        identity.confirm_phone_code(_actor("smsuser"), code=code)


def test_sms_codes_expire_allow_few_tries_and_cool_down(at_l1, outbox, settings):
    now = timezone.now()
    identity.send_phone_code(at_l1, now=now)
    with pytest.raises(InvalidInput) as soon:
        identity.send_phone_code(at_l1, now=now + dt.timedelta(seconds=10))
    assert soon.value.fields["phone"][0].code == "too_soon"
    code = outbox.code("13912345678")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.TONGBAN_SMS_CODE_ATTEMPTS):
        with pytest.raises(InvalidInput):
            identity.confirm_phone_code(at_l1, code=wrong, now=now)
    with pytest.raises(InvalidInput) as exhausted:
        identity.confirm_phone_code(at_l1, code=code, now=now)
    assert exhausted.value.fields["code"][0].code == "too_many"
    later = now + dt.timedelta(seconds=settings.TONGBAN_SMS_RESEND_SECONDS + 1)
    identity.send_phone_code(at_l1, now=later)
    fresh = outbox.code("13912345678")
    expired = later + dt.timedelta(minutes=settings.TONGBAN_SMS_CODE_MINUTES, seconds=1)
    with pytest.raises(InvalidInput) as late:
        identity.confirm_phone_code(at_l1, code=fresh, now=expired)
    assert late.value.fields["code"][0].code == "expired"
    assert identity.level_of(_actor("smsuser")) == 1


def test_a_new_number_drops_l2_until_it_is_verified(at_l1, outbox):
    identity.send_phone_code(at_l1)
    identity.confirm_phone_code(at_l1, code=outbox.code("13912345678"))
    services.update_my_phone(_actor("smsuser"), phone="13700000007")
    assert identity.level_of(_actor("smsuser")) == 1


def test_l2_needs_l1_first(db, outbox):
    actor = _register("nol1", "某人", STRANGER)
    with pytest.raises(identity.AssuranceRequired) as refused:
        identity.send_phone_code(actor)
    assert (refused.value.required, refused.value.current) == (1, 0)
    assert outbox.messages() == []


# --- the gate -----------------------------------------------------------------------------------------


def test_licences_need_l2_and_the_refusal_says_how_to_get_it(register, outbox, settings):
    code = _resident_id(HOLDER, HOLDER_NAME)
    actor = _register("holder", HOLDER_NAME, HOLDER, phone="13912345678")
    for attempt in (lambda a: licences.wallet(a), lambda a: licences.access_licence(a, code)):
        with pytest.raises(identity.AssuranceRequired) as refused:
            attempt(_actor("holder"))
        assert refused.value.link == "/accounts/identity" and refused.value.required == 2
    identity.verify_real_name(actor)
    with pytest.raises(identity.AssuranceRequired):
        licences.wallet(_actor("holder"))  # L1 is not enough
    identity.send_phone_code(_actor("holder"))
    identity.confirm_phone_code(_actor("holder"), code=outbox.code("13912345678"))
    assert [e.licence.code for e in licences.wallet(_actor("holder"))] == [code]
    assert licences.access_licence(_actor("holder"), code).code == code
    # The level is a setting.
    settings.TONGBAN_ASSURANCE_REQUIRED = {**settings.TONGBAN_ASSURANCE_REQUIRED, "licences": 3}
    with pytest.raises(identity.AssuranceRequired):
        licences.wallet(_actor("holder"))
    # A citizen below the level is refused before any lookup: the answer is the same for any code.
    with pytest.raises(identity.AssuranceRequired):
        licences.access_licence(_actor("holder"), "NONE-SUCH-CODE")


def test_staff_are_not_gated_by_assurance(db):
    assert licences.wallet(_actor("clerk")) == []


# --- L3: the window --------------------------------------------------------------------------------


def _legacy_binding(username, name, number) -> Person:
    """An account bound before this release: whoever registered a number first got it, at L0."""
    user = User.objects.create_user(username, PASSWORD, display_name=name, kind="citizen")
    return Person.objects.create(name=name, id_number=number, phone="13800000099", user=user)


def test_the_holder_takes_a_hijacked_number_back_at_the_window(register, outbox):
    code = _resident_id(HOLDER, HOLDER_NAME)
    _legacy_binding("hijacker", "攻击者", HOLDER)
    holder = _register("realholder", HOLDER_NAME, HOLDER, phone="13912345678")
    # Online the holder hears what anyone hears; the claim waits for a window.
    with pytest.raises(identity.NotVerified):
        identity.verify_real_name(holder)
    claim = IdentityClaim.objects.get(user=holder.user)
    assert claim.status == ClaimStatus.WINDOW and claim.register_match is True
    clerk = _actor("clerk")
    assert list(identity.list_claims(clerk)) == [claim]
    assert list(identity.list_claims(clerk, id_number=HOLDER)) == [claim]
    assert identity.number_is_bound_elsewhere(claim)
    # The card in front of the clerk must carry the claimed number.
    with pytest.raises(InvalidInput) as mismatch:
        identity.resolve_claim(clerk, claim.public_id, approve=True, id_number=ZHANGSAN, name=HOLDER_NAME)
    assert mismatch.value.fields["id_number"][0].code == "mismatch"
    identity.resolve_claim(clerk, claim.public_id, approve=True, id_number=HOLDER.lower(), name=HOLDER_NAME)
    person = Person.objects.get(user__username="realholder")
    assert (person.id_number, person.name, person.assurance_level) == (HOLDER, HOLDER_NAME, 3)
    window = IdentityVerification.objects.get(person=person, method=VerificationMethod.WINDOW)
    assert (window.evidence, window.verified_by.username) == ("clerk", "clerk")
    assert _actor("hijacker").person is None
    with pytest.raises(identity.AssuranceRequired):
        licences.access_licence(_actor("hijacker"), code)
    assert licences.access_licence(_actor("realholder"), code).code == code
    told = Notification.objects.get(recipient__username="hijacker")
    assert told.title == "您的账号已解除与身份证号码的绑定"
    # Kept as a message key too: an English reader reads it in English (issue 12, defect 12).
    with translation.override("en"):
        assert told.title_text == "Your account is no longer bound to an ID number"
        assert told.body_text.startswith("The holder of the ID number")
    entry = AuditEntry.objects.filter(action="accounts.identity.claim_approve").latest("seq")
    assert entry.detail["previous_account"] == "hijacker" and entry.actor_label == "clerk"
    with pytest.raises(Conflict):
        identity.resolve_claim(clerk, claim.public_id, approve=False, note="重复")


def test_a_claim_is_rejected_with_a_reason(db):
    actor = _register("rejectme", "某人", STRANGER)
    claim = IdentityClaim.objects.get(user=actor.user)
    with pytest.raises(InvalidInput):
        identity.resolve_claim(_actor("clerk"), claim.public_id, approve=False)
    identity.resolve_claim(_actor("clerk"), claim.public_id, approve=False, note="证件与本人不符")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED and claim.resolved_by.username == "clerk"
    assert Notification.objects.filter(recipient=actor.user, body="证件与本人不符").exists()


def test_only_window_staff_settle_claims_and_verify_in_person(db):
    actor = _register("someone", "某人", STRANGER)
    claim = IdentityClaim.objects.get(user=actor.user)
    zhang = Person.objects.get(user__username="zhangsan")
    for username in ("reviewer", "supervisor", "zhangsan", "someone"):
        with pytest.raises(NotPermitted):
            identity.list_claims(_actor(username))
        with pytest.raises(NotPermitted):
            identity.resolve_claim(_actor(username), claim.public_id, approve=False, note="x")
        with pytest.raises((NotPermitted, NotFound)):
            identity.verify_in_person(_actor(username), zhang.public_id, id_number=ZHANGSAN)
    assert identity.list_claims(_actor("admin")).count() >= 0


def test_a_clerk_verifies_a_bound_person_in_person(db):
    zhang = Person.objects.get(user__username="zhangsan")
    with pytest.raises(InvalidInput):
        identity.verify_in_person(_actor("clerk"), zhang.public_id, id_number=HOLDER)
    identity.verify_in_person(_actor("clerk"), zhang.public_id, id_number=ZHANGSAN)
    assert identity.level_of(_actor("zhangsan")) == 3
    # A new number does not lower L3: it rests on the ID card.
    services.update_my_phone(_actor("zhangsan"), phone="13700000007")
    assert identity.level_of(_actor("zhangsan")) == 3


def test_face_check_is_unavailable_unless_configured_and_then_raises_to_l3(at_l1, settings):
    with pytest.raises(identity.Unavailable):
        identity.verify_by_face(at_l1, evidence="anything")
    settings.TONGBAN_FACE_CHECK = "tests.accounts.doubles.FaceCheckTestDouble"
    assert identity.identity_status(at_l1).face_check_available
    with pytest.raises(InvalidInput):
        identity.verify_by_face(at_l1, evidence=f"face-of:{ZHANGSAN}")
    person = identity.verify_by_face(_actor("smsuser"), evidence=f"face-of:{HOLDER}")
    assert person.assurance_level == 3
    face = IdentityVerification.objects.get(person=person, method=VerificationMethod.FACE_CHECK)
    assert face.evidence.startswith("test-double:T")


# --- the seed -----------------------------------------------------------------------------------------


def test_the_demo_citizens_are_seeded_at_l2_and_say_so(db):
    for username in ("zhangsan", "lisi"):
        person = Person.objects.get(user__username=username)
        assert person.assurance_level == 2
        seeded = IdentityVerification.objects.get(person=person)
        assert (seeded.method, seeded.evidence) == (VerificationMethod.SEED, "operator:seed")
    with pytest.raises(NotPermitted):
        identity.verify_for_seed(SYSTEM, User.objects.get(username="clerk"), level=3)
    with pytest.raises(NotPermitted):
        identity.verify_for_seed(_actor("admin"), User.objects.get(username="clerk"), level=3)
    assert SystemActor("operator:seed").audit_identity()[1] == "operator:seed"


def test_rekey_covers_claims(db, settings):
    actor = _register("rekeyed", "某人", STRANGER)
    seeded_under = settings.TONGBAN_MASTER_KEY
    settings.TONGBAN_MASTER_KEY = "bb" * 32
    settings.TONGBAN_MASTER_KEYS_OLD = [seeded_under]
    services.rekey_personal_data(SYSTEM)
    settings.TONGBAN_MASTER_KEYS_OLD = []
    claim = IdentityClaim.objects.get(user=actor.user)
    assert claim.id_number == STRANGER
    assert list(identity.list_claims(_actor("clerk"), id_number=STRANGER)) == [claim]
