"""Forms of the hotline pages. They only shape input; the services check it (and report problems
field by field, which the views put back under these fields)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CallbackSolved, OrderStatus, OrderType, Outcome, Satisfaction, Urgency


def _autosubmit(field: forms.Field) -> forms.Field:
    field.widget.attrs["data-autosubmit"] = ""
    return field


class OrderFilterForm(forms.Form):
    status = _autosubmit(
        forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *OrderStatus.choices])
    )
    department = _autosubmit(forms.ChoiceField(label=_("Department"), required=False))
    q = forms.CharField(label=_("Number or text"), required=False, max_length=60)

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("All"))] + [(d.code, d.name) for d in departments]


class _Location(forms.Form):
    address = forms.CharField(label=_("Address"), required=False, max_length=200)
    latitude = forms.CharField(label=_("Latitude"), required=False, max_length=20)
    longitude = forms.CharField(label=_("Longitude"), required=False, max_length=20)


class CallForm(_Location):
    """What an operator records while talking to a caller (坐席)."""

    phone = forms.CharField(
        label=_("Caller's number"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    requester_name = forms.CharField(label=_("Caller's name"), required=False, max_length=60)
    anonymous = forms.BooleanField(label=_("Name withheld (匿名)"), required=False)
    text = forms.CharField(label=_("What the caller says"), widget=forms.Textarea(attrs={"rows": 5}))
    order_type = forms.ChoiceField(label=_("Type"), choices=OrderType.choices)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    region_code = forms.ChoiceField(label=_("Region"), required=False)
    category = forms.CharField(
        label=_("Category"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"list": "hotline-categories", "autocomplete": "off"}),
        help_text=_("一级/二级/三级; the router's suggestion fills the first level."),
    )
    department_code = forms.ChoiceField(label=_("Owning department"), required=False)
    dispatch = forms.BooleanField(label=_("Dispatch at once"), required=False, initial=True)
    suggested_category = forms.CharField(required=False, widget=forms.HiddenInput)
    suggestion_confidence = forms.FloatField(required=False, widget=forms.HiddenInput)
    # 直接办结 during the call: the answer given, and the knowledge base entry it came from
    reply_text = forms.CharField(
        label=_("Answer given (直接办结)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For a consultation answered on the spot: the order is closed at once."),
    )
    knowledge_ref = forms.CharField(required=False, max_length=60, widget=forms.HiddenInput)

    def __init__(self, *args, departments=(), regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department_code"].choices = [("", _("From the category map"))] + [
            (d.code, d.name) for d in departments
        ]
        self.fields["region_code"].choices = [("", "—")] + [(r.code, r.name) for r in regions]


class PortalForm(_Location):
    """The citizen's form (mobile first): what happened and where."""

    text = forms.CharField(
        label=_("What would you like to tell us?"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6})
    )
    order_type = forms.ChoiceField(label=_("Type"), choices=OrderType.choices, initial=OrderType.HELP)
    anonymous = forms.BooleanField(
        label=_("Withhold my name from the department (only the 12345 centre sees it)"), required=False
    )
    phone = forms.CharField(
        label=_("Contact number"),
        required=False,
        max_length=20,
        help_text=_("Leave empty to use the number of your account."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class DispatchForm(forms.Form):
    lead = forms.ChoiceField(label=_("Lead department (主办)"))
    co = forms.MultipleChoiceField(
        label=_("Co-handlers (协办)"), required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    category = forms.CharField(
        label=_("Category"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"list": "hotline-categories", "autocomplete": "off"}),
    )

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(d.code, d.name) for d in departments]
        self.fields["lead"].choices = choices
        self.fields["co"].choices = choices


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Reply (答复意见)"), widget=forms.Textarea(attrs={"rows": 4}))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class ArbitrateForm(forms.Form):
    uphold = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda v: v == "1",
        choices=[("1", _("Return upheld: dispatch to another department")), ("0", _("Return rejected"))],
        widget=forms.RadioSelect,
    )
    department = forms.ChoiceField(label=_("Department"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", "—")] + [(d.code, d.name) for d in departments]


class ReviewForm(forms.Form):
    accept = forms.TypedChoiceField(
        label=_("Review"),
        coerce=lambda v: v == "1",
        choices=[("1", _("Accept the reply")), ("0", _("Send it back"))],
        widget=forms.RadioSelect,
        initial="1",
    )
    reason = forms.CharField(label=_("Reason for sending back"), required=False, max_length=1000)


class CallbackForm(forms.Form):
    contacted = forms.TypedChoiceField(
        label=_("Reached the requester"),
        coerce=lambda v: v == "1",
        choices=[("1", _("yes")), ("0", _("no"))],
        widget=forms.RadioSelect,
        initial="1",
    )
    solved = forms.ChoiceField(
        label=_("Solved?"), required=False, choices=[("", "—"), *CallbackSolved.choices]
    )
    satisfaction = forms.ChoiceField(
        label=_("Satisfaction"), required=False, choices=[("", "—"), *Satisfaction.choices]
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)
    close_unreached = forms.BooleanField(label=_("Close although unreached"), required=False)


class AnswerForm(forms.Form):
    reply_text = forms.CharField(label=_("Answer given (直接办结)"), widget=forms.Textarea(attrs={"rows": 3}))
    knowledge_ref = forms.CharField(required=False, max_length=60, widget=forms.HiddenInput)
