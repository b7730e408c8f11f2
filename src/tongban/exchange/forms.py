import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CallOutcome, GrantStatus


def _autosubmit(field: forms.Field) -> forms.Field:
    field.widget.attrs["data-autosubmit"] = ""
    return field


class GrantFilterForm(forms.Form):
    status = _autosubmit(
        forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *GrantStatus.choices])
    )
    resource = _autosubmit(forms.ChoiceField(label=_("Data resource"), required=False))
    consumer = _autosubmit(forms.ChoiceField(label=_("Consumer"), required=False))

    def __init__(self, *args, resources=(), departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [("", _("All"))] + [(r.code, r.name) for r in resources]
        self.fields["consumer"].choices = [("", _("All"))] + [(d.code, d.name) for d in departments]


class GrantRequestForm(forms.Form):
    consumer = forms.ChoiceField(label=_("For department"))
    fields = forms.MultipleChoiceField(label=_("Fields"), widget=forms.CheckboxSelectMultiple)
    purpose = forms.CharField(label=_("Purpose"), max_length=200)
    legal_basis = forms.CharField(
        label=_("Legal basis"), max_length=300, help_text=_("The law or regulation that needs the data.")
    )
    valid_until = forms.DateField(label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, resource=None, departments=(), banned=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consumer"].choices = [(d.code, d.name) for d in departments]
        self.fields["fields"].choices = [
            (f["key"], f"{f['label']} ({f['key']})") for f in resource.fields if f["key"] not in banned
        ]
        self.initial.setdefault("valid_until", dt.date.today().replace(year=dt.date.today().year + 1))


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class NegativeForm(forms.Form):
    resource = forms.ChoiceField(label=_("Data resource"))
    field = forms.CharField(label=_("Field key"), max_length=40)
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, resources=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [(r.code, r.name) for r in resources]


class CallFilterForm(forms.Form):
    consumer = _autosubmit(forms.ChoiceField(label=_("Consumer"), required=False))
    provider = _autosubmit(forms.ChoiceField(label=_("Provider"), required=False))
    outcome = _autosubmit(
        forms.ChoiceField(label=_("Outcome"), required=False, choices=[("", _("All")), *CallOutcome.choices])
    )
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, departments=(), providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consumer"].choices = [("", _("All"))] + [(d.code, d.name) for d in departments]
        self.fields["provider"].choices = [("", _("All"))] + [(d.code, d.name) for d in providers]
