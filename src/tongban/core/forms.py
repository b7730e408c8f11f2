from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AuditOutcome


class JournalFilterForm(forms.Form):
    action = forms.CharField(
        label=_("Action starts with"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "accounts."}),
    )
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("All outcomes")), *AuditOutcome.choices],
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )
    object_ref = forms.CharField(label=_("Object"), required=False, max_length=120)


class CalendarDayForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    is_working_day = forms.TypedChoiceField(
        label=_("This day is"),
        coerce=lambda v: v == "1",
        choices=[("0", _("a holiday (no work)")), ("1", _("a working day (调休上班)"))],
    )
    name = forms.CharField(label=_("Holiday or adjustment name"), required=False, max_length=60)


class CalendarYearForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    source = forms.CharField(
        label=_("Source"),
        required=False,
        max_length=200,
        help_text=_("e.g. the State Council notice that announced the arrangement"),
    )
