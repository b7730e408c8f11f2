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
