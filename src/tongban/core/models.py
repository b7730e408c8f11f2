"""Kernel tables: the audit journal and the working-day calendar's administrator overrides."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", _("succeeded")
    DENIED = "denied", _("refused (not permitted)")
    INVALID = "invalid", _("refused (invalid input)")
    FAILED = "failed", _("failed")


class AuditEntry(models.Model):
    """One line of the append-only, tamper-evident journal.

    The journal is K parallel hash chains (K = TONGBAN_AUDIT_CHAINS) so concurrent writers do
    not queue behind one lock. Within a chain, `entry_mac` = HMAC-SM3(journal key, prev_mac ‖
    canonical fields), so changing, deleting or reordering any entry breaks its chain at that
    point (docs/security.md). `id` orders entries across chains for reading.
    """

    chain = models.PositiveSmallIntegerField(_("chain"), default=0)
    seq = models.BigIntegerField(_("sequence"))
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_label = models.CharField(_("actor"), max_length=150)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_ref = models.CharField(_("object"), max_length=120, blank=True, db_index=True)
    department_code = models.CharField(_("department"), max_length=40, blank=True, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=AuditOutcome.choices)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    client_ip = models.CharField(_("client address"), max_length=45, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    key_id = models.CharField(max_length=8)
    prev_mac = models.CharField(max_length=64)
    entry_mac = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique")]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit journal")

    def __str__(self):
        return f"#{self.id} ({self.chain}:{self.seq}) {self.action} {self.outcome}"


class AuditHead(models.Model):
    """The tip of one chain (id = chain number). An appender locks one free head row, which keeps
    that chain gap-free and in commit order while other writers use the other chains."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    seq = models.BigIntegerField(default=0)
    entry_mac = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit journal head")

    def __str__(self):
        return f"chain {self.id} at #{self.seq}"


class AuditCheckpoint(models.Model):
    """Result of each scheduled or manual verification run."""

    verified_at = models.DateTimeField(_("verified at"), auto_now_add=True)
    entries_checked = models.BigIntegerField(_("entries verified"))
    anchor = models.CharField(_("anchor"), max_length=64, blank=True)
    ok = models.BooleanField(_("intact"))
    problem = models.TextField(_("problem"), blank=True)
    trigger = models.CharField(_("trigger"), max_length=20)

    class Meta:
        ordering = ["-verified_at"]
        verbose_name = _("journal verification")
        verbose_name_plural = _("journal verifications")

    def __str__(self):
        state = "ok" if self.ok else "BROKEN"
        return f"{self.verified_at:%Y-%m-%d %H:%M} {state}, {self.entries_checked} entries"


class CalendarOverride(models.Model):
    """An administrator's ruling on one date: a holiday, or a working day on a weekend (调休).

    Overrides win over the chinesecalendar package, so administrators can enter years the
    package does not know yet and correct it if needed.
    """

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=60, blank=True, help_text=_("e.g. 春节, 国庆节调休上班"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self):
        return f"{self.date} {'working' if self.is_working_day else 'holiday'} {self.name}"


class CalendarYear(models.Model):
    """Marks a year whose official holiday arrangement an administrator has entered in full."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    confirmed = models.BooleanField(_("arrangement entered"), default=False)
    source = models.CharField(
        _("source"), max_length=200, blank=True, help_text=_("e.g. 国务院办公厅通知 文号")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")

    def __str__(self):
        return str(self.year)


class DomainEvent(models.Model):
    """One row of the event log every app writes through core.events (ARCHITECTURE.md, "The spine").

    Append-only: readers take it in id order (`id > last seen`). The one index serves a subject's
    page (its history); every index is written again on every step of every subject.
    """

    subject_kind = models.CharField(_("subject kind"), max_length=20)
    subject_id = models.CharField(_("subject"), max_length=64)
    activity = models.CharField(_("activity"), max_length=60)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    lifecycle = models.CharField(_("lifecycle"), max_length=10, default="complete")
    occurred_at = models.DateTimeField(_("time"))
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(_("actor"), max_length=150)
    department_code = models.CharField(_("department"), max_length=40, blank=True)
    channel = models.CharField(_("channel"), max_length=10, blank=True)
    work_item = models.UUIDField(null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["subject_kind", "subject_id", "occurred_at"], name="event_subject")]
        verbose_name = _("event")
        verbose_name_plural = _("event log")

    def __str__(self):
        return f"{self.subject_kind}:{self.subject_id} {self.activity} {self.occurred_at:%Y-%m-%d %H:%M}"


class DeadLetterReason(models.TextChoices):
    UNKNOWN_TASK = "unknown_task", _("no worker knows the job")
    UNDECODABLE = "undecodable", _("the message cannot be read")
    FAILED = "failed", _("failed on its last retry")


class DeadLetter(models.Model):
    """A queued job that could not be run and was kept rather than dropped (core.queue).

    Rows are never deleted: a requeued or discarded letter is marked so, which keeps the count of
    job failures (a metric) increasing and the history of what an operator did with each."""

    task = models.CharField(_("job"), max_length=200)
    task_id = models.CharField(_("job id"), max_length=64, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=DeadLetterReason.choices)
    error = models.TextField(_("error"), blank=True)
    arguments = models.TextField(_("arguments"), blank=True)
    message = models.BinaryField(_("message"))  # the raw queue message, to put it back as it was
    created_at = models.DateTimeField(_("kept at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=20, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")

    def __str__(self):
        return f"#{self.pk} {self.task} ({self.reason})"
