"""Messages shown in both of our languages: systems calling the API get zh-Hans and English at once."""

from django.utils import translation

LANGUAGES = ("zh-Hans", "en")
_DJANGO_CODES = {"zh-Hans": "zh-hans", "en": "en"}


def bilingual(message) -> dict[str, str]:
    """Render a (lazy) message in every supported language."""
    out = {}
    for lang in LANGUAGES:
        with translation.override(_DJANGO_CODES[lang]):
            out[lang] = str(message)
    return out


class Later:
    """A message kept as its msgid and parameters and put into words when read, in the reader's
    language: a notice written while a Chinese clerk works is read in English by an English reader.

    Mark the msgid with gettext_noop so makemessages finds it:
        Later(gettext_noop("Supplement needed for %(n)s (补正)"), n=case.number)
    Parameters are data (case numbers, dates, names people wrote) and are not translated.
    """

    def __init__(self, msgid: str, /, **params):
        self.msgid = str(msgid)
        self.params = {k: v if isinstance(v, int | float) else str(v) for k, v in params.items()}

    def __str__(self) -> str:
        text = translation.gettext(self.msgid)
        try:
            return text % self.params if self.params else text
        except (KeyError, TypeError, ValueError):
            # A translation that lost a placeholder must not lose the message: the msgid reads.
            return self.msgid % self.params if self.params else self.msgid

    def as_json(self) -> dict:
        return {"msgid": self.msgid, "params": self.params}

    @classmethod
    def from_json(cls, data) -> "Later | None":
        if not isinstance(data, dict) or not isinstance(data.get("msgid"), str):
            return None
        params = data.get("params") if isinstance(data.get("params"), dict) else {}
        return cls(data["msgid"], **params)
