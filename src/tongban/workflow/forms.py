from django import forms
from django.utils.translation import gettext_lazy as _

from . import bpmn
from .models import DefinitionStatus

ALLOWED_SUFFIXES = (".bpmn", ".xml")


def _department_choices(departments, empty_label):
    return [("", empty_label)] + [(d.code, ("\u3000" * d.depth) + d.name) for d in departments]


class DefinitionFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Key or name"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All versions")), *DefinitionStatus.choices],
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )
    department = forms.ChoiceField(label=_("Department"), required=False)

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = _department_choices(departments, _("All departments I manage"))
        self.fields["department"].widget.attrs["data-autosubmit"] = ""


class DefinitionUploadForm(forms.Form):
    """The file is checked here for size and type only; its content is the service's to judge."""

    key = forms.CharField(
        label=_("Process key"),
        max_length=120,
        help_text=_(
            "item:<item code> or bundle:<bundle code> replaces a standard process with a new version."
        ),
    )
    department = forms.ChoiceField(label=_("Department"))
    bpmn_file = forms.FileField(
        label=_("BPMN file"),
        help_text=_("BPMN 2.0 XML (.bpmn or .xml, UTF-8, at most 1 MB), e.g. exported from a BPMN modeler."),
        widget=forms.ClearableFileInput(attrs={"accept": ".bpmn,.xml,application/xml,text/xml"}),
    )
    process_id = forms.CharField(
        label=_("Executable process id"),
        max_length=120,
        required=False,
        help_text=_("Only needed when the document holds several top-level processes."),
    )

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = _department_choices(departments, _("Choose a department"))

    def clean_bpmn_file(self) -> str:
        upload = self.cleaned_data["bpmn_file"]
        if not upload.name.lower().endswith(ALLOWED_SUFFIXES):
            raise forms.ValidationError(_("Upload a .bpmn or .xml file."), code="suffix")
        # The size is known from the request before anything is read into memory.
        if upload.size > bpmn.MAX_BYTES:
            raise forms.ValidationError(_("The BPMN file is larger than 1 MB."), code="too_large")
        data = upload.read(bpmn.MAX_BYTES + 1)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file must be UTF-8 encoded XML."), code="encoding") from None
