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
