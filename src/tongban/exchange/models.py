"""Data sharing (数据共享交换): resources departments provide, grants to consume them, and every call.

A resource's records are held here (the "table" and "file" adapters) or fetched live (the "http"
and "licence" adapters). Held records are encrypted at rest; each carries a blind index of its
normalised key (ID number or credit code), so a verify-only query is one indexed lookup.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Department, User
from tongban.core.fields import EncryptedTextField

# Classification levels, lowest first. Configurable through TONGBAN_EXCHANGE_LEVELS (same shape).
DEFAULT_LEVELS = [  # 公开 / 内部 / 敏感 / 重要
    ("public", _("Public")),
    ("internal", _("Internal")),
    ("sensitive", _("Sensitive")),
    ("important", _("Important")),
]


def levels() -> list[tuple[str, object]]:
    return list(getattr(settings, "TONGBAN_EXCHANGE_LEVELS", DEFAULT_LEVELS))


class KeyKind(models.TextChoices):
    PERSON = "person", _("person (ID number)")
    ENTERPRISE = "enterprise", _("enterprise (credit code)")
    ANY = "any", _("person or enterprise")


class AdapterKind(models.TextChoices):
    TABLE = "table", _("table in this database")
    FILE = "file", _("CSV/XLSX drop folder")
    HTTP = "http", _("HTTP JSON endpoint")
    LICENCE = "licence", _("e-licence library")


class Frequency(models.TextChoices):
    REALTIME = "realtime", _("real time")
    DAILY = "daily", _("daily")
    WEEKLY = "weekly", _("weekly")
    MONTHLY = "monthly", _("monthly")


class Resource(models.Model):
    """A data resource of the catalogue (数据资源目录): who provides it, what fields it has, how it
    is reached. `subject` is unique: one source of truth per kind of data (一数一源)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    subject = models.CharField(
        _("source of truth for"),
        max_length=100,
        unique=True,
        help_text=_("一数一源: one resource per subject."),
    )
    provider = models.ForeignKey(
        Department, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="data_resources"
    )
    description = models.TextField(_("description"), blank=True)
    key_kind = models.CharField(_("key"), max_length=10, choices=KeyKind.choices)
    key_field = models.CharField(_("key field"), max_length=40)
    # [{"key", "label", "level", "personal": bool, "required": bool}]
    fields = models.JSONField(_("fields"), default=list)
    # {"<code>": {"label": ..., "params": [...], "all": [[field, op, value or "$param"], ...]}}
    predicates = models.JSONField(_("verify-only predicates"), default=dict, blank=True)
    frequency = models.CharField(_("update frequency"), max_length=10, choices=Frequency.choices)
    stale_after_days = models.PositiveIntegerField(_("stale after (days)"), default=365)
    adapter = models.CharField(_("adapter"), max_length=10, choices=AdapterKind.choices)
    # Adapter settings (folder, url, timeout) and field mapping/normalisation; see exchange.normalise.
    adapter_config = models.JSONField(_("adapter settings"), default=dict, blank=True)
    mapping = models.JSONField(_("field mapping"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    record_count = models.PositiveIntegerField(_("records"), default=0)
    imported_at = models.DateTimeField(_("last import"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("data resource")
        verbose_name_plural = _("data resources")

    def __str__(self):
        return self.name

    def field_map(self) -> dict[str, dict]:
        return {f["key"]: f for f in self.fields}


class Record(models.Model):
    """One subject's record of a held resource. `data` (JSON of the normalised fields) is encrypted.
    The quality check's findings are columns, so the report counts them in the database."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="records")
    key_index = models.CharField(max_length=64)
    key_masked = models.CharField(max_length=24)
    data = EncryptedTextField()
    row_number = models.PositiveIntegerField()
    updated_on = models.DateField(null=True, blank=True)
    key_problem = models.CharField(max_length=20, blank=True)  # checksum, format, length, region, …
    duplicate = models.BooleanField(default=False)
    missing = models.CharField(max_length=200, blank=True)  # required fields without a value, comma-joined
    is_dirty = models.BooleanField(default=False)

    class Meta:
        ordering = ["resource", "row_number"]
        indexes = [
            models.Index(fields=["resource", "key_index"], name="exchange_record_lookup"),
            models.Index(fields=["resource", "is_dirty", "row_number"], name="exchange_record_dirty"),
        ]
        verbose_name = _("record")
        verbose_name_plural = _("records")

    def __str__(self):
        return f"{self.resource_id}:{self.row_number}"


class GrantStatus(models.TextChoices):
    PENDING = "pending", _("waiting for the provider")
    PROVIDER_APPROVED = "provider_approved", _("waiting for the data authority")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    REVOKED = "revoked", _("revoked")


class Grant(models.Model):
    """A consuming department's right to some fields of a resource, for a purpose, until a date.
    Approved by the provider and then by the data authority; checked on every call."""

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    consumer = models.ForeignKey(
        Department, verbose_name=_("consumer"), on_delete=models.PROTECT, related_name="data_grants"
    )
    resource = models.ForeignKey(
        Resource, verbose_name=_("resource"), on_delete=models.PROTECT, related_name="grants"
    )
    fields = models.JSONField(_("fields"), default=list)
    purpose = models.CharField(_("purpose"), max_length=200)
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(_("status"), max_length=20, choices=GrantStatus.choices, default="pending")
    requested_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(_("requested"))
    provider_decided_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    provider_decided_at = models.DateTimeField(null=True, blank=True)
    authority_decided_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    authority_decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["consumer", "resource", "status"], name="exchange_grant_lookup")]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")

    def __str__(self):
        return self.reference


class NegativeEntry(models.Model):
    """负面清单: a field that is never shared, whatever a grant says."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="negative_entries")
    field = models.CharField(_("field"), max_length=40)
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["resource", "field"]
        constraints = [models.UniqueConstraint(fields=["resource", "field"], name="negative_entry_unique")]
        verbose_name = _("negative-list entry")
        verbose_name_plural = _("negative list")

    def __str__(self):
        return f"{self.resource_id}.{self.field}"


class CallKind(models.TextChoices):
    QUERY = "query", _("full record")
    VERIFY = "verify", _("verify only")


class CallOutcome(models.TextChoices):
    ANSWERED = "answered", _("answered")
    NOT_FOUND = "not_found", _("no such record")
    REFUSED = "refused", _("refused")
    FAILED = "failed", _("provider failed")


class Call(models.Model):
    """One query or verification, answered or refused: the statistics' raw material. The subject is
    kept only masked; the audit journal holds the same call, tamper-evident."""

    reference = models.CharField(_("reference"), max_length=24, unique=True)
    at = models.DateTimeField(_("time"), db_index=True)
    consumer = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey(Resource, null=True, on_delete=models.PROTECT, related_name="calls")
    provider = models.ForeignKey(Department, null=True, on_delete=models.PROTECT, related_name="+")
    grant = models.ForeignKey(Grant, null=True, on_delete=models.SET_NULL, related_name="calls")
    actor_label = models.CharField(max_length=60)
    kind = models.CharField(_("kind"), max_length=6, choices=CallKind.choices)
    purpose = models.CharField(_("purpose"), max_length=200)
    fields = models.JSONField(_("fields"), default=list)
    predicate = models.CharField(_("predicate"), max_length=60, blank=True)
    subject_masked = models.CharField(max_length=24, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=CallOutcome.choices)
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    result_size = models.PositiveIntegerField(_("result size"), default=0)
    latency_ms = models.FloatField(_("latency (ms)"))

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["consumer", "at"], name="exchange_call_consumer"),
            models.Index(fields=["provider", "at"], name="exchange_call_provider"),
        ]
        verbose_name = _("call")
        verbose_name_plural = _("calls")

    def __str__(self):
        return self.reference


class PolicyStamp(models.Model):
    """One row whose version moves, in the same transaction, with every change to what the call
    path reads of the catalogue: a resource, the negative list, a department. Each process caches
    those and reads only this version per call, so a change applies to the very next call."""

    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")

    def __str__(self):
        return str(self.version)
