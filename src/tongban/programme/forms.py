from django import forms
from django.utils.translation import gettext_lazy as _


class ProgrammeForm(forms.Form):
    code = forms.CharField(label=_("Programme code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    department_code = forms.ChoiceField(label=_("Lead department"))

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department_code"].choices = [(d.code, d.name) for d in departments]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Plan workbook (.xlsx)"))


class ConsultationForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), max_length=500, required=False)
    draft = forms.CharField(label=_("Draft text"), widget=forms.Textarea(attrs={"rows": 8}))
    department_code = forms.ChoiceField(label=_("Department"))
    opens_on = forms.DateField(label=_("Opens on"), widget=forms.DateInput(attrs={"type": "date"}))
    closes_on = forms.DateField(label=_("Closes on"), widget=forms.DateInput(attrs={"type": "date"}))
    complex_draft = forms.BooleanField(
        label=_("Complex draft (answers due within 30 working days instead of 15)"), required=False
    )
    programme_code = forms.CharField(label=_("Programme code (optional)"), max_length=40, required=False)

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department_code"].choices = [(d.code, d.name) for d in departments]


class CommentForm(forms.Form):
    section = forms.CharField(label=_("Which part of the draft (optional)"), max_length=100, required=False)
    text = forms.CharField(label=_("Your comment"), widget=forms.Textarea(attrs={"rows": 6}), max_length=3000)
    author_name = forms.CharField(label=_("Name shown (optional)"), max_length=40, required=False)


class ModerationForm(forms.Form):
    ACTIONS = (("publish", _("Publish")), ("refuse", _("Do not publish")))
    action = forms.ChoiceField(label=_("Moderation"), choices=ACTIONS)
    reason = forms.ChoiceField(label=_("Reason"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        from .models import RefusalReason

        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "—"), *RefusalReason.choices]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Adoption"))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=3000)

    def __init__(self, *args, **kwargs):
        from .models import Adoption

        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = Adoption.choices


class ReportForm(forms.Form):
    summary = forms.CharField(
        label=_("Adoption report: how the comments changed the draft"),
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's FileField takes one)."""

    def clean(self, data, initial=None):
        one = super().clean
        if isinstance(data, list | tuple):
            return [one(item, initial) for item in data if item]
        return [one(data, initial)] if data else []


class WeeklyReportForm(forms.Form):
    # checked by the service (programme.weekly), which reports every problem at once
    text = forms.CharField(
        label=_("Progress this week"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=3000,
        required=False,
    )
    percent = forms.CharField(
        required=False,
        label=_("Percent done now"),
        max_length=5,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    files = MultipleFileField(
        label=_("Evidence (PDF, OFD, JPEG, PNG or DOCX; up to 5 files)"),
        required=False,
        widget=MultipleFileInput(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("text", "percent"):
            self.fields[name].mandatory = True  # shown as required; the service checks it


class BudgetLineForm(forms.Form):
    project_code = forms.CharField(label=_("Project code"), max_length=40)
    year = forms.CharField(label=_("Year"), max_length=4)
    code = forms.CharField(label=_("Budget line code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    amount = forms.CharField(label=_("Budget (yuan)"), max_length=20)


class SpendingForm(forms.Form):
    project_code = forms.CharField(label=_("Project code"), max_length=40)
    year = forms.CharField(label=_("Year"), max_length=4)
    line = forms.CharField(label=_("Budget line code"), max_length=40)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=(("支付", _("payment (支付)")), ("承诺", _("commitment (合同/承诺)")))
    )
    amount = forms.CharField(label=_("Amount (yuan)"), max_length=20)
    on = forms.CharField(label=_("Date"), max_length=10, widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=_("Voucher or contract number"), max_length=60, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class RiskForm(forms.Form):
    # checked by the service (programme.risks), which reports every problem at once
    code = forms.CharField(label=_("Risk code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    cause = forms.CharField(label=_("Cause"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    owner_department = forms.CharField(label=_("Owner department"), max_length=60, required=False)
    likelihood = forms.CharField(label=_("Likelihood (1–5)"), max_length=1)
    impact = forms.CharField(label=_("Impact (1–5)"), max_length=1)
    response = forms.CharField(label=_("Responses"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    review_on = forms.CharField(
        label=_("Next review"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    tasks = forms.CharField(label=_("Tasks (codes)"), max_length=500, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=(("open", _("open")), ("closed", _("closed"))))
    note = forms.CharField(label=_("Note on this assessment"), max_length=300, required=False)
