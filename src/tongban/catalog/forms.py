from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Audience, ItemType, OnlineLevel, RiskLevel


class ManageFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Code or name"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    department = forms.ChoiceField(label=_("Department"), required=False)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", _("All items")),
            ("draft", _("With an unpublished draft")),
            ("detailed", _("Guide complete (limits set)")),
            ("incomplete", _("Guide incomplete")),
        ],
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("All departments I manage"))] + [
            (d.code, ("\u3000" * d.depth) + d.name) for d in departments
        ]
        self.fields["department"].widget.attrs["data-autosubmit"] = ""


class ItemDraftForm(forms.Form):
    """The scalar fields of an item; materials, steps and form fields are edited through the API or import."""

    name = forms.CharField(label=_("Item name"), max_length=200)
    item_type = forms.ChoiceField(label=_("Type"), choices=ItemType.choices)
    statutory_limit_days = forms.IntegerField(
        label=_("Statutory limit (working days)"), required=False, min_value=0
    )
    promised_limit_days = forms.IntegerField(
        label=_("Promised limit (working days)"),
        required=False,
        min_value=0,
        help_text=_("0 means handled on the spot (即办件)."),
    )
    online_level = forms.ChoiceField(label=_("Online level"), choices=OnlineLevel.choices)
    visits_required = forms.IntegerField(label=_("Visits required"), min_value=0, max_value=10)
    risk_level = forms.ChoiceField(label=_("Risk level"), choices=RiskLevel.choices)
    fee = forms.CharField(label=_("Fee"), max_length=200, required=False)
    keywords = forms.CharField(
        label=_("Search keywords"),
        max_length=400,
        required=False,
        help_text=_("Everyday words people search with, e.g. 开饭店 for a food licence."),
    )
    high_frequency = forms.BooleanField(label=_("High-frequency item"), required=False)
    audience = forms.ChoiceField(
        label=_("Serves (服务对象)"),
        choices=Audience.choices,
        required=False,  # a form sent without it leaves it as it was
        help_text=_("Puts the item under the portal's 个人服务 or 法人服务 tab (or both)."),
    )
    accepts_with_gaps = forms.BooleanField(label=_("容缺受理 allowed"), required=False)
    commitment_allowed = forms.BooleanField(label=_("告知承诺 allowed"), required=False)
    auto_approvable = forms.BooleanField(label=_("秒批 (auto-approval) eligible"), required=False)

    @classmethod
    def initial_from(cls, version) -> dict:
        return {name: getattr(version, name) for name in cls.base_fields}

    def changes(self, version) -> dict:
        """Only what the user changed, so a draft is not created for nothing."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if (version is None or getattr(version, name) != value) and not (name == "audience" and not value)
        }
