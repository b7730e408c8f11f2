from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django_otp.middleware import OTPMiddleware

from .services import totp_device


class StaffSecondFactorMiddleware:
    """Staff who passed the password step but not the second factor may only finish logging in.

    Pages redirect to verification (or enrolment, the first time); the API treats such a
    session as anonymous (accounts.actors.actor_for_request).
    """

    ALLOWED = {
        "accounts:mfa_verify",
        "accounts:mfa_setup",
        "accounts:logout",
        "set_language",
        "web:care_mode",
        "web:healthz",
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.needs_second_factor
            and not user.is_verified()
            and not request.path.startswith(("/static/", "/api/"))
            and self._view_name(request) not in self.ALLOWED
        ):
            target = "accounts:mfa_verify" if totp_device(user) else "accounts:mfa_setup"
            return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)

    @staticmethod
    def _view_name(request) -> str:
        try:
            return resolve(request.path_info).view_name
        except Resolver404:
            return ""


class CachedOTPMiddleware(OTPMiddleware):
    """django-otp's middleware, with the session's device read from the per-process cache that the
    authority stamp keeps honest (accounts.actors), instead of one query per request."""

    def _device_from_persistent_id(self, persistent_id: str):
        from .actors import cached_device

        return cached_device(self._normalize_persistent_id(persistent_id))
