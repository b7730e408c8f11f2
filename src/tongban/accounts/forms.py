from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Role


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username or ID number"),
        max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class OtpForm(forms.Form):
    otp_token = forms.CharField(
        label=_("6-digit code from your authenticator app"),
        max_length=8,
        min_length=6,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "pattern": "[0-9]*",
            }
        ),
    )


class ServiceBackedForm(forms.Form):
    """A form whose service checks every field, presence included, and reports all problems at once.

    Django's own required check would stop at the first empty field and hide the others' errors.
    """

    mandatory: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.mandatory:
            field = self.fields[name]
            field.required = False
            field.mandatory = True
            field.widget.attrs["aria-required"] = "true"


class CitizenRegisterForm(ServiceBackedForm):
    mandatory = ("name", "id_number", "phone", "username", "password")

    name = forms.CharField(label=_("Name"), max_length=50)
    id_number = forms.CharField(
        label=_("ID number"), max_length=24, help_text=_("18 characters; a 15-digit old number is converted.")
    )
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    username = forms.CharField(
        label=_("Username"),
        max_length=60,
        help_text=_("3–60 characters: letters a–z, digits and . _ - @, starting with a letter."),
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=_("At least 10 characters, not only digits."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class PersonLookupForm(ServiceBackedForm):
    mandatory = ("id_number",)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )


class PersonRegisterForm(ServiceBackedForm):
    mandatory = ("name", "id_number")
    name = forms.CharField(label=_("Name"), max_length=50)
    id_number = forms.CharField(
        label=_("ID number"), max_length=24, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )


class RevealForm(ServiceBackedForm):
    mandatory = ("reason",)
    reason = forms.CharField(label=_("Why do you need the full numbers?"), max_length=200)


class PhoneForm(ServiceBackedForm):
    mandatory = ("phone",)
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )


class StaffFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Name or username"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    department = forms.ChoiceField(label=_("Department"), required=False)
    role = forms.ChoiceField(
        label=_("Role"),
        required=False,
        choices=[("", _("All roles")), *Role.choices],
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("All departments I may see"))] + [
            (d.code, ("\u3000" * d.depth) + d.name) for d in departments
        ]
        self.fields["department"].widget.attrs["data-autosubmit"] = ""


# --- identity assurance (实名认证) -------------------------------------------------------------------


class RealNameForm(ServiceBackedForm):
    name = forms.CharField(label=_("Name as on your ID card"), max_length=50, required=False)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=24,
        required=False,
        help_text=_("Leave empty to use the number you registered with; type it to correct it."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class SendCodeForm(ServiceBackedForm):
    mandatory = ("phone",)
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )


class ConfirmCodeForm(ServiceBackedForm):
    mandatory = ("code",)
    code = forms.CharField(
        label=_("6-digit code from the text message"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
    )


class FaceCheckForm(ServiceBackedForm):
    mandatory = ("evidence",)
    evidence = forms.CharField(
        label=_("Result code from the face-check app"), max_length=4000, widget=forms.TextInput()
    )


class ClaimLookupForm(ServiceBackedForm):
    mandatory = ("id_number",)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )


class ResolveClaimForm(ServiceBackedForm):
    mandatory = ("id_number", "name")
    id_number = forms.CharField(
        label=_("ID number on the card"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    name = forms.CharField(label=_("Name on the card"), max_length=50)
    checked = forms.BooleanField(
        label=_("I have checked the ID card, and the face of the person before me matches its photo."),
        required=True,
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class RejectClaimForm(ServiceBackedForm):
    mandatory = ("note",)
    note = forms.CharField(label=_("Why is the claim rejected?"), max_length=200)


class InPersonForm(ServiceBackedForm):
    mandatory = ("id_number",)
    id_number = forms.CharField(
        label=_("ID number on the card"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    checked = forms.BooleanField(
        label=_("I have checked the ID card, and the face of the person before me matches its photo."),
        required=True,
    )
