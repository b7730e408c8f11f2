"""`{% content value %}`: text people entered (step names, form labels, names of things) shown in the
language it was written in. On an English page a Chinese name is wrapped in `lang="zh-Hans"`, so
screen readers read it as Chinese and the page checks can tell content from untranslated interface."""

import re

from django import template
from django.utils import translation
from django.utils.html import conditional_escape, format_html

register = template.Library()

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@register.simple_tag
def content(value):
    text = "" if value is None else str(value)
    if CJK.search(text) and not (translation.get_language() or "").startswith("zh"):
        return format_html('<span lang="zh-Hans">{}</span>', text)
    return conditional_escape(text)
