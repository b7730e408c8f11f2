"""What a username may be: one spelling per account, so no one can pose as another in a list.

A username is compared as NFKC-normalised lower case: `ADMIN`, `Admin` and the full-width
`ａｄｍｉｎ` are all `admin`. Only ASCII letters, digits and `. _ - @` are allowed, starting with a
letter: that keeps out invisible characters (zero-width spaces and joiners, direction marks) and
letters from other scripts that look like Latin ones (Cyrillic `а`, Greek `ο`), and a name can
never be mistaken for an ID number at the login box. The database enforces uniqueness ignoring case
as well (accounts.User's constraint), so a race cannot slip a variant in.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MIN_LENGTH = 3
MAX_LENGTH = 60
_ALLOWED = re.compile(r"[a-z][a-z0-9._@-]*")


def comparable(raw: str | None) -> str:
    """The form two usernames are compared in (and new ones are stored in)."""
    return unicodedata.normalize("NFKC", raw or "").strip().lower()


def _invisible(ch: str) -> bool:
    # Cf: format characters (ZWSP U+200B, ZWJ, LRM/RLM, BOM…); Cc: controls; Z*: spaces of any kind.
    return unicodedata.category(ch) in ("Cf", "Cc", "Zs", "Zl", "Zp") or ch in "\u115f\u1160\u3164\uffa0"


def normalize_username(raw: str | None) -> str:
    """The username to store, or a ValidationError saying plainly what is wrong with it."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise ValidationError(_("This field is required."), code="required")
    if any(_invisible(ch) for ch in text):
        raise ValidationError(
            _("The username contains spaces or invisible characters. Use letters, digits and . _ - @ only."),
            code="invisible",
        )
    value = text.lower()
    if any(ord(ch) > 127 for ch in value):
        raise ValidationError(
            _(
                "Use letters a–z, digits and . _ - @ only: letters of other scripts can look like "
                "Latin ones and are not accepted in usernames."
            ),
            code="confusable",
        )
    if not MIN_LENGTH <= len(value) <= MAX_LENGTH:
        raise ValidationError(
            _("A username has 3 to 60 characters."),
            code="length",
        )
    if not _ALLOWED.fullmatch(value):
        raise ValidationError(
            _("Start with a letter, then use letters a–z, digits and . _ - @ only."),
            code="format",
        )
    return value


def problems_of_stored(username: str) -> str:
    """Why a username already stored would not be accepted today ('' when it would be)."""
    try:
        normalised = normalize_username(username)
    except ValidationError as exc:
        return exc.error_list[0].code or "invalid"
    return "" if normalised == username else "not_normalised"
