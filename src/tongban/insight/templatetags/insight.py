"""Durations and shares as a manager reads them: 3.2 天, 5.0 小时, 42 分钟; 12.5 %."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds) -> str:
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds >= 86400:
        return _("%(n).1f days") % {"n": seconds / 86400}
    if seconds >= 3600:
        return _("%(n).1f hours") % {"n": seconds / 3600}
    return _("%(n).0f minutes") % {"n": seconds / 60}


@register.filter
def percent(share) -> str:
    return "—" if share is None else f"{float(share) * 100:.1f} %"


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key)


@register.simple_tag
def value(unit: dict, key: str) -> str:
    """A unit's figure for a KPI, as the league table shows it."""
    figure = (unit or {}).get(key)
    if figure is None:
        return "—"
    return percent(figure) if key.endswith("_rate") else f"{float(figure):,.2f}"


@register.simple_tag
def per_mille(part, whole) -> int:
    """A part of a whole in thousandths, for bars drawn as SVG (no inline styles under the CSP)."""
    return round(1000 * float(part) / float(whole)) if whole else 0


def activity_label(code) -> str:
    """An activity as people call it: its registered label (case.submitted → 申请已提交), a step's
    own name for a member of a family (work:审查 → 审查), an imported log's names as they are."""
    from tongban.core import events

    code = str(code)
    found = events.registry.find(code)
    if found is None:
        return code
    if found.is_family and code != found.code:
        return code[len(found.code) :]
    return str(events.registry.label(code))


register.filter("activity", activity_label)


@register.filter
def activities(codes) -> str:
    """A variant's activities, labelled and joined by arrows."""
    return " → ".join(activity_label(c) for c in codes or ())
