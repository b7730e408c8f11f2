"""Journal every login, failed login, lockout and logout."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from tongban.core import audit
from tongban.core.masking import mask_id_number

from .backends import canonical_login, looks_like_id_number


def _safe_login_name(raw) -> str:
    # Citizens may log in with their ID number; the journal keeps only its masked form.
    login = canonical_login(raw)
    if looks_like_id_number(login):
        return mask_id_number(login)
    return login[:60]


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit.record(
        "accounts.login",
        actor=user,
        object_type="user",
        object_ref=user.username,
        detail={"step": "password"},
    )


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    audit.record(
        "accounts.login",
        outcome="failed",
        object_type="user",
        object_ref=_safe_login_name(credentials.get("username")),
    )


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs):
    audit.record(
        "accounts.login.locked", outcome="denied", object_type="user", object_ref=_safe_login_name(username)
    )


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record("accounts.logout", actor=user, object_type="user", object_ref=user.username)


def _connect_authority_invalidation():
    """Any change to who holds which role where makes cached authority stale (actors.authority_of)."""
    from django.db.models.signals import post_delete, post_save
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .actors import bump_authority_version
    from .models import Department, RoleAssignment, Staff, User

    for model in (RoleAssignment, Staff, Department, User, TOTPDevice):
        post_save.connect(
            bump_authority_version, sender=model, dispatch_uid=f"authority-{model.__name__}-save"
        )
        post_delete.connect(
            bump_authority_version, sender=model, dispatch_uid=f"authority-{model.__name__}-delete"
        )


_connect_authority_invalidation()
