"""Electronic licences (电子证照): what a department certifies, signed so that anyone can check it.

A licence's payload — type, holder, fields, issuer, validity — is canonical JSON signed with SM2 by
the issuing department's key (core.sm2). The payload holds personal data (the holder's ID number,
names), so it is stored encrypted; what the public may see of it is derived and masked.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Department
from tongban.core.fields import EncryptedTextField


class HolderKind(models.TextChoices):
    PERSON = "person", _("person")
    ENTERPRISE = "enterprise", _("enterprise")


class LicenceType(models.Model):
    """营业执照, 食品经营许可证, …: who holds it, who issues it, how long it lasts, what it says."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    holder_kind = models.CharField(_("holder"), max_length=10, choices=HolderKind.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("issuing department"), on_delete=models.PROTECT, related_name="+"
    )
    validity_years = models.PositiveSmallIntegerField(
        _("valid for (years)"), null=True, blank=True, help_text=_("Empty: valid until revoked.")
    )
    # [{"key": ..., "label": ..., "type": "text|date|number", "required": bool}, ...]
    fields = models.JSONField(_("fields"), default=list, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("licence type")
        verbose_name_plural = _("licence types")

    def __str__(self):
        return self.name


class KeyStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    RETIRED = "retired", _("retired")


class SigningKey(models.Model):
    """A department's SM2 key. One is active; retired ones stay to verify what they signed."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="signing_keys")
    key_id = models.CharField(max_length=16, unique=True)
    public_key = models.CharField(max_length=128)
    private_key_ciphertext = models.TextField(help_text=_("SM4-GCM under the master key; never in clear."))
    status = models.CharField(max_length=8, choices=KeyStatus.choices, default=KeyStatus.ACTIVE)
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["department"], condition=models.Q(status="active"), name="one_active_key"
            )
        ]
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")

    def __str__(self):
        return f"{self.key_id} ({self.status})"


class LicenceStatus(models.TextChoices):
    VALID = "valid", _("valid")
    REVOKED = "revoked", _("revoked")


class Licence(models.Model):
    code = models.CharField(_("licence code"), max_length=24, unique=True)
    licence_type = models.ForeignKey(LicenceType, on_delete=models.PROTECT, related_name="licences")
    # The holder, findable without decrypting: the USCC, or the blind index of the ID number.
    holder_index = models.CharField(max_length=64, db_index=True)
    payload = EncryptedTextField(_("signed payload (canonical JSON)"))
    signature = models.CharField(max_length=128)  # r ‖ s, hex
    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="licences")
    issued_at = models.DateTimeField(_("issued"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=LicenceStatus.choices, default="valid")
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoke_reason = models.CharField(_("reason"), max_length=200, blank=True)
    case_number = models.CharField(_("case"), max_length=32, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        # A case's hand-over is a queued job, delivered at least once: the database keeps it to one
        # licence of each type per case even when two deliveries race.
        constraints = [
            models.UniqueConstraint(
                fields=["case_number", "licence_type"],
                condition=~models.Q(case_number=""),
                name="one_licence_per_case_and_type",
            )
        ]
        verbose_name = _("licence")
        verbose_name_plural = _("licences")

    def __str__(self):
        return self.code


class LicenceUse(models.Model):
    """A licence standing in for a case's material (免提交), with the holder's consent: shown in the
    holder's wallet so they see where their certificates were relied on."""

    licence = models.ForeignKey(Licence, on_delete=models.CASCADE, related_name="uses")
    case_number = models.CharField(_("case"), max_length=32)
    material = models.CharField(_("material"), max_length=200)
    purpose = models.CharField(_("purpose"), max_length=200)
    used_at = models.DateTimeField(_("used"))

    class Meta:
        ordering = ["-used_at"]
        verbose_name = _("licence use")
        verbose_name_plural = _("licence uses")

    def __str__(self):
        return f"{self.licence_id} → {self.case_number}"
