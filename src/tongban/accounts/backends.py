"""Log in with a username, or (citizens) with the ID number the account is bound to."""

import re
import unicodedata

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from tongban.core.identifiers import normalize_id_number

from .models import Person


def canonical_login(raw: str | None) -> str:
    """The login as typed, except that a valid ID number, however spelt, becomes its 18-digit form."""
    value = (raw or "").strip()
    compact = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value))
    if len(compact) in (15, 18) and compact[:6].isdigit():
        try:
            return normalize_id_number(compact)
        except ValidationError:
            return value
    return value


def looks_like_id_number(login: str) -> bool:
    return len(login) == 18 and login[:17].isdigit()


class UsernameOrIdNumberBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        login = canonical_login(username)
        if looks_like_id_number(login):
            person = Person.objects.with_id_number(login).select_related("user").first()
            if person is not None and person.user is not None:
                login = person.user.username
        return super().authenticate(request, username=login, password=password, **kwargs)

    def get_user(self, user_id):
        """Each request's user, from the per-process cache kept honest by the authority stamp."""
        from .actors import cached_user

        user = cached_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def lockout_username(request, credentials) -> str:
    """Axes counts failures per canonical login, so typing an ID number differently does not reset it."""
    raw = credentials.get("username") if isinstance(credentials, dict) else None
    if raw is None and request is not None:
        raw = request.POST.get("username")
    return canonical_login(raw)
