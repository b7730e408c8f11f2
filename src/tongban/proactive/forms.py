"""The policy form: the policy's facts and up to MAX_ROWS conditions, each a label and a rule."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import PolicyKind

MAX_ROWS = 8


class PolicyForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=PolicyKind.choices)
    department = forms.ChoiceField(label=_("Department"))
    issuer = forms.CharField(label=_("Issued by"), max_length=100, required=False)
    benefit = forms.CharField(label=_("What it gives"), max_length=200)
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300, required=False)
    automatic = forms.BooleanField(
        label=_("Granted without application (免申即享)"),
        required=False,
        help_text=_(
            "Granted to everyone the data shows qualifies, with every condition true and none unknown."
        ),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, departments=(), conditions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [(d.code, d.name) for d in departments]
        for n in range(MAX_ROWS):
            initial = conditions[n] if n < len(conditions) else {}
            self.fields[f"conditions.{n}.label"] = forms.CharField(
                label=_("Condition %(n)d: in words") % {"n": n + 1},
                required=False,
                initial=initial.get("label", ""),
            )
            self.fields[f"conditions.{n}.expression"] = forms.CharField(
                label=_("Condition %(n)d: rule") % {"n": n + 1},
                required=False,
                initial=initial.get("expression", ""),
                widget=forms.TextInput(attrs={"class": "mono", "spellcheck": "false"}),
            )

    def conditions(self) -> list[dict]:
        """The filled rows, in order (an empty row is skipped; half a row is checked by the service)."""
        rows = []
        for n in range(MAX_ROWS):
            label = self.cleaned_data.get(f"conditions.{n}.label", "")
            expression = self.cleaned_data.get(f"conditions.{n}.expression", "")
            if label or expression:
                rows.append({"label": label, "expression": expression, "row": n})
        return rows
