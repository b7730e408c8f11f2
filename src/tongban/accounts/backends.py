"""Log in with a username, or (citizens) with the ID number the account is bound to.

Both names lead to one account, and the lockout counts failures per account (and client address),
whichever name was typed: `lockout_username` turns any spelling of either into the account's key.
"""

import re
import unicodedata

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db.models.functions import Lower

from tongban.core.identifiers import normalize_id_number

from .models import Person, User
from .usernames import comparable


def canonical_login(raw: str | None) -> str:
    """The login as typed, compared the way usernames are (NFKC, lower case); a valid ID number,
    however spelt, becomes its 18-character form."""
    value = (raw or "").strip()
    compact = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value))
    if len(compact) in (15, 18) and compact[:6].isdigit():
        try:
            return normalize_id_number(compact)
        except ValidationError:
            pass
    return comparable(value)


def looks_like_id_number(login: str) -> bool:
    return len(login) == 18 and login[:17].isdigit()


def account_for_login(login: str) -> User | None:
    """The account a canonical login names: by bound ID number, or by username ignoring case."""
    if not login:
        return None
    if looks_like_id_number(login):
        person = Person.objects.with_id_number(login).select_related("user").first()
        return person.user if person is not None else None
    return User.objects.alias(lower=Lower("username")).filter(lower=login).first()


class UsernameOrIdNumberBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        login = canonical_login(username)
        account = account_for_login(login)
        # An unknown login still goes through ModelBackend, which hashes the password anyway, so the
        # answer takes as long whether or not the account exists.
        return super().authenticate(
            request, username=account.username if account else login, password=password, **kwargs
        )

    def get_user(self, user_id):
        """Each request's user, from the per-process cache kept honest by the authority stamp."""
        from .actors import cached_user

        user = cached_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def lockout_key(raw: str | None) -> str:
    """What axes counts failures under: the account's username for any of its names. A login that
    names no account counts under itself, an ID number under its keyed hash (never in clear)."""
    login = canonical_login(raw)
    account = account_for_login(login)
    if account is not None:
        return account.username
    if looks_like_id_number(login):
        return "id:" + Person.index_id_number(login)[:32]
    return login[:150]


def lockout_username(request, credentials) -> str:
    """AXES_USERNAME_CALLABLE. Axes asks several times per login; the answer is kept on the request."""
    raw = credentials.get("username") if isinstance(credentials, dict) else None
    if raw is None and request is not None:
        raw = request.POST.get("username")
    memo = getattr(request, "_tongban_lockout_keys", None) if request is not None else None
    if memo is None:
        memo = {}
        if request is not None:
            request._tongban_lockout_keys = memo
    if raw not in memo:
        memo[raw] = lockout_key(raw)
    return memo[raw]
