"""Pages for logging in, second factor, citizens' own affairs, the window and the organisation.

Views translate HTTP to service calls and service errors to form errors; they hold no rules.
"""

import base64

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, logout
from django.contrib.auth import login as auth_login
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from tongban.core.authz import require
from tongban.core.errors import InvalidInput, NotAuthenticated, NotFound
from tongban.core.http import apply_errors, domain_errors, safe_next

from . import identity, services
from . import roles as perms
from .actors import actor_for_request
from .forms import (
    CitizenRegisterForm,
    ClaimLookupForm,
    ConfirmCodeForm,
    FaceCheckForm,
    InPersonForm,
    LoginForm,
    OtpForm,
    PersonLookupForm,
    PersonRegisterForm,
    PhoneForm,
    RealNameForm,
    RejectClaimForm,
    ResolveClaimForm,
    RevealForm,
    SendCodeForm,
    StaffFilterForm,
)
from .models import AssuranceLevel, Role


def _actor_or_login(request):
    actor = actor_for_request(request)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return actor


# --- logging in ---------------------------------------------------------------------------------


@sensitive_post_parameters("password")
def login_view(request):
    if actor_for_request(request).is_authenticated:
        return redirect(safe_next(request, reverse("web:home")))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if user is None:
            form.add_error(
                None, _("Wrong username or password. After 5 failures the account is locked for a while.")
            )
        else:
            auth_login(request, user)
            next_url = safe_next(request, reverse("web:home"))
            if user.needs_second_factor:
                step = "accounts:mfa_verify" if services.totp_device(user) else "accounts:mfa_setup"
                return redirect(f"{reverse(step)}?next={next_url}")
            return redirect(next_url)
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")})


def locked_out(request, original_response=None, credentials=None):
    """Too many failures on this account from this address. Other addresses are not locked, and an
    administrator (staff) or a window clerk (citizens) can lift it at once."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/locked.html", {"minutes": minutes}, status=429)


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("You have logged out."))
    return redirect("accounts:login")


def mfa_setup(request):
    """First login of a staff member: scan the secret, confirm with a code."""
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if services.totp_device(user) is not None:
        return redirect("accounts:mfa_verify")
    device = services.begin_totp_enrolment(user)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = services.confirm_totp_enrolment(user, form.cleaned_data["otp_token"])
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            django_otp.login(request, confirmed)
            messages.success(request, _("Two-factor authentication is set up."))
            return redirect(safe_next(request, reverse("web:home")))
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "accounts/mfa_setup.html",
        {
            "form": form,
            "qr_data_uri": qr.svg_data_uri(scale=4, border=2),
            "secret": _base32(device.bin_key),
            "next": request.GET.get("next", ""),
        },
    )


def mfa_verify(request):
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if services.totp_device(user) is None:
        return redirect("accounts:mfa_setup")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.check_second_factor(user, form.cleaned_data["otp_token"])
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            django_otp.login(request, device)
            return redirect(safe_next(request, reverse("web:home")))
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": request.GET.get("next", "")})


def _base32(key: bytes) -> str:
    text = base64.b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@sensitive_post_parameters("password", "id_number")
def register(request):
    form = CitizenRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.register_citizen(**form.cleaned_data)
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            auth_login(request, user, backend="tongban.accounts.backends.UsernameOrIdNumberBackend")
            # The same words whatever became of the claim: they must not tell whether the number
            # was registered before.
            messages.success(
                request,
                _(
                    "Your account is ready. Verify your identity (实名认证) to apply online and to use "
                    "your licences."
                ),
            )
            return redirect("accounts:identity")
    return render(request, "accounts/register.html", {"form": form})


# --- identity assurance (实名认证) -------------------------------------------------------------------


@domain_errors
@sensitive_post_parameters("id_number", "phone", "code", "evidence")
def identity_page(request):
    """我的 → 实名认证: the level reached, and the next step (L1 register check, L2 SMS code, L3)."""
    actor = _actor_or_login(request)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    status = identity.identity_status(actor)
    real_name = RealNameForm(request.POST if action == "real_name" else None, initial={"name": status.name})
    send_form = SendCodeForm(request.POST if action == "send_code" else None, initial={"phone": status.phone})
    code_form = ConfirmCodeForm(request.POST if action == "confirm_code" else None)
    face_form = FaceCheckForm(request.POST if action == "face_check" else None)
    done = None
    try:
        if action == "real_name" and real_name.is_valid():
            data = real_name.cleaned_data
            identity.verify_real_name(actor, name=data["name"] or None, id_number=data["id_number"] or None)
            done = _("Your real name is verified (L1). Next, verify your mobile number.")
        elif action == "send_code" and send_form.is_valid():
            sent = identity.send_phone_code(actor, phone=send_form.cleaned_data["phone"])
            done = _("A code was sent to %(phone)s. It is valid for %(minutes)d minutes.") % {
                "phone": sent.phone_masked,
                "minutes": settings.TONGBAN_SMS_CODE_MINUTES,
            }
        elif action == "confirm_code" and code_form.is_valid():
            identity.confirm_phone_code(actor, code=code_form.cleaned_data["code"])
            done = _("Your mobile number is verified (L2).")
        elif action == "face_check" and face_form.is_valid():
            identity.verify_by_face(actor, evidence=face_form.cleaned_data["evidence"])
            done = _("The face check confirmed your identity (L3).")
    except InvalidInput as exc:
        target = {"real_name": real_name, "send_code": send_form, "confirm_code": code_form}.get(
            action, face_form
        )
        apply_errors(target, exc)
    except (identity.NotVerified, identity.Unavailable) as exc:
        messages.error(request, str(exc.message))
        return redirect("accounts:identity")
    if done:
        messages.success(request, done)
        return redirect("accounts:identity")
    return render(
        request,
        "accounts/identity.html",
        {
            "status": status,
            "real_name_form": real_name,
            "send_form": send_form,
            "code_form": code_form,
            "face_form": face_form,
            "levels": AssuranceLevel,
        },
    )


@domain_errors
@sensitive_post_parameters("id_number")
def identity_claims(request):
    """Window: registrations to settle in person (the ID number is held by another account, or online
    checks failed), and any open claim on the number of the applicant at the desk."""
    actor = _actor_or_login(request)
    form = ClaimLookupForm(request.POST or None)
    searched = False
    claims = identity.list_claims(actor)
    if request.method == "POST" and form.is_valid():
        try:
            claims = identity.list_claims(actor, id_number=form.cleaned_data["id_number"])
            searched = True
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            form = ClaimLookupForm()  # the number typed stays off the page once it has been used
    page = Paginator(claims, 25).get_page(request.GET.get("page"))
    return render(
        request, "accounts/identity_claims.html", {"form": form, "page": page, "searched": searched}
    )


@domain_errors
@sensitive_post_parameters("id_number", "name")
def identity_claim(request, public_id):
    actor = _actor_or_login(request)
    claim = identity.access_claim(actor, public_id)
    decision = request.POST.get("decision", "") if request.method == "POST" else ""
    approve_form = ResolveClaimForm(request.POST if decision == "approve" else None)
    reject_form = RejectClaimForm(request.POST if decision == "reject" else None)
    form = approve_form if decision == "approve" else reject_form
    if decision in ("approve", "reject") and form.is_valid():
        data = form.cleaned_data
        try:
            identity.resolve_claim(
                actor,
                claim.public_id,
                approve=decision == "approve",
                id_number=data.get("id_number", ""),
                name=data.get("name", ""),
                note=data.get("note", ""),
            )
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            if decision == "approve":
                messages.success(
                    request, _("The account is now bound to this person, verified in person (L3).")
                )
            else:
                messages.info(request, _("The claim is rejected; the registrant is told why."))
            return redirect("accounts:identity_claims")
    return render(
        request,
        "accounts/identity_claim.html",
        {
            "claim": claim,
            "rebinding": claim.is_open and identity.number_is_bound_elsewhere(claim),
            "approve_form": approve_form,
            "reject_form": reject_form,
        },
    )


@domain_errors
@require_POST
@sensitive_post_parameters("id_number")
def person_verify_in_person(request, public_id):
    actor = _actor_or_login(request)
    form = InPersonForm(request.POST)
    if form.is_valid():
        try:
            identity.verify_in_person(actor, public_id, id_number=form.cleaned_data["id_number"])
        except InvalidInput as exc:
            for problems in exc.fields.values():
                for problem in problems:
                    messages.error(request, str(problem.message))
        else:
            messages.success(request, _("The person is verified in person (L3)."))
    else:
        messages.error(request, _("Type the number from the ID card and confirm that you checked the card."))
    return redirect("accounts:person_reveal", public_id=public_id)


# --- own account --------------------------------------------------------------------------------


@domain_errors
def profile(request):
    actor = _actor_or_login(request)
    card = services.person_card(actor, actor.person.public_id) if actor.person else None
    phone_form = PhoneForm(request.POST or None) if actor.person else None
    if request.method == "POST" and phone_form is not None and phone_form.is_valid():
        try:
            services.update_my_phone(actor, phone=phone_form.cleaned_data["phone"])
        except InvalidInput as exc:
            apply_errors(phone_form, exc)
        else:
            messages.success(request, _("Your mobile number is updated."))
            return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {
            "card": card,
            "phone_form": phone_form,
            "has_totp": services.totp_device(actor.user) is not None,
            "grants": actor.grants,
            "assurance_level": identity.level_of(actor),
        },
    )


@domain_errors
def my_enterprises(request):
    actor = _actor_or_login(request)
    return render(request, "accounts/my_enterprises.html", {"links": services.my_enterprises(actor)})


# --- window: applicants -------------------------------------------------------------------------


@domain_errors
@sensitive_post_parameters("id_number")
def person_lookup(request):
    actor = _actor_or_login(request)
    form = PersonLookupForm(request.POST or None)
    card = reveal_form = None
    if request.method == "POST" and form.is_valid():
        try:
            card = services.lookup_person(actor, id_number=form.cleaned_data["id_number"])
        except InvalidInput as exc:
            apply_errors(form, exc)
        except NotFound as exc:
            form.add_error("id_number", str(exc.message))
        else:
            form = PersonLookupForm()  # the number typed stays off the page once it has been used
            reveal_form = RevealForm() if actor.can(perms.PERSON_REVEAL) else None
    else:
        require(actor, perms.PERSON_LOOKUP)
    return render(
        request, "accounts/person_lookup.html", {"form": form, "card": card, "reveal_form": reveal_form}
    )


@domain_errors
def person_reveal(request, public_id):
    actor = _actor_or_login(request)
    form = RevealForm(request.POST or None)
    card = None
    if request.method == "POST" and form.is_valid():
        try:
            card = services.reveal_person(actor, public_id, reason=form.cleaned_data["reason"])
        except InvalidInput as exc:
            apply_errors(form, exc)
    masked = services.person_card(actor, public_id)
    person = services.access_person(actor, public_id)
    in_person = InPersonForm() if actor.can(perms.IDENTITY_VERIFY) and person.user_id is not None else None
    return render(
        request,
        "accounts/person_reveal.html",
        {
            "form": form,
            "card": card,
            "masked": masked,
            "person": person,
            "in_person_form": in_person,
        },
    )


@domain_errors
@sensitive_post_parameters("id_number", "phone")
def person_register(request):
    actor = _actor_or_login(request)
    require(actor, perms.PERSON_REGISTER)
    form = PersonRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.register_person(actor, **form.cleaned_data)
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The applicant is registered."))
            return redirect("accounts:person_reveal", public_id=person.public_id)
    return render(request, "accounts/person_register.html", {"form": form})


# --- organisation -------------------------------------------------------------------------------


@domain_errors
def departments(request):
    actor = _actor_or_login(request)
    rows = list(services.list_departments(actor))
    visible_staff = set(services.list_staff(actor).values_list("department_id", flat=True))
    return render(request, "accounts/departments.html", {"departments": rows, "visible_staff": visible_staff})


@domain_errors
def staff_list(request):
    actor = _actor_or_login(request)
    departments_seen = [d for d in services.list_departments(actor) if actor.can(perms.STAFF_VIEW, d)]
    form = StaffFilterForm(request.GET or None, departments=departments_seen)
    form.is_valid()
    data = getattr(form, "cleaned_data", {}) or {}
    qs = services.list_staff(
        actor, department_code=data.get("department", ""), q=data.get("q", ""), role=data.get("role", "")
    )
    page = Paginator(qs.prefetch_related("roles__department"), 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "accounts/staff_list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@domain_errors
def staff_detail(request, username):
    actor = _actor_or_login(request)
    staff = services.access_staff(actor, username)
    can_manage = actor.can(perms.STAFF_MANAGE, staff.department)
    return render(
        request,
        "accounts/staff_detail.html",
        {
            "staff": staff,
            "assignments": staff.roles.select_related("department", "granted_by"),
            "can_manage": can_manage,
            "roles": Role.choices,
            "locks": services.login_locks(actor, username=staff.user.username) if can_manage else [],
        },
    )


@domain_errors
@require_POST
def staff_unlock(request, username):
    """Lift a lockout of a staff member's login (from every address), e.g. after they called in."""
    actor = _actor_or_login(request)
    cleared = services.unlock_login(actor, username=username)
    messages.success(request, _("Login unlocked (%(n)d failure records cleared).") % {"n": cleared})
    return redirect("accounts:staff_detail", username=username)


@domain_errors
def windows(request):
    actor = _actor_or_login(request)
    return render(request, "accounts/windows.html", {"windows": services.list_windows(actor)})


@domain_errors
def inbox(request):
    """消息: reminders, escalations and case news for whoever is logged in."""
    actor = _actor_or_login(request)
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()]
        services.mark_read(actor, ids or None)
        return redirect(safe_next(request, reverse("accounts:inbox")))
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(services.inbox(actor, unread_only=unread_only), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/inbox.html",
        {"page": page, "unread_only": unread_only, "unread": services.unread_count(actor)},
    )
