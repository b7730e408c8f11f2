"""Process definitions (versioned BPMN), running instances and the work items people act on.

An instance keeps only what the token engine needs between steps — its token balance and the
arrival counts of parallel joins — in one small row; the waiting steps are work items. A step
therefore writes a handful of small rows, never a serialised copy of the whole engine state.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Department, User


class DefinitionStatus(models.TextChoices):
    PUBLISHED = "published", _("published")
    SUPERSEDED = "superseded", _("superseded")


class ProcessDefinition(models.Model):
    """One version of a BPMN document, under a key such as "item:<code>" or "bundle:<code>"."""

    key = models.CharField(_("key"), max_length=120)
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=DefinitionStatus.choices)
    name = models.CharField(_("name"), max_length=200)
    process_id = models.CharField(_("executable process"), max_length=120)
    bpmn_xml = models.TextField(_("BPMN 2.0 XML"))
    checksum = models.CharField(max_length=64)
    # The department that owns the key: only its catalogue managers publish new versions.
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="process_definitions",
    )
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(_("published"))

    class Meta:
        ordering = ["key", "-version"]
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="definition_version_unique")]
        verbose_name = _("process definition")
        verbose_name_plural = _("process definitions")

    def __str__(self):
        return f"{self.key} v{self.version}"


class DecisionDefinition(models.Model):
    """One version of a DMN decision, under its decision id: what a businessRuleTask calls
    (camunda:decisionRef, spiffworkflow:calledDecisionId, zeebe:calledDecision, tb:decision).

    The whole DMN document is kept, so the decisions it requires are evaluated with it; a document
    with several decisions publishes one version of each. A step evaluates the version published at
    that moment (the "latest" binding of other engines)."""

    key = models.CharField(_("decision id"), max_length=120)
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=DefinitionStatus.choices)
    name = models.CharField(_("name"), max_length=200)
    dmn_xml = models.TextField(_("DMN XML"))
    checksum = models.CharField(max_length=64)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="decision_definitions",
    )
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(_("published"))

    class Meta:
        ordering = ["key", "-version"]
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="decision_version_unique")]
        verbose_name = _("decision definition")
        verbose_name_plural = _("decision definitions")

    def __str__(self):
        return f"{self.key} v{self.version}"


class InstanceStatus(models.TextChoices):
    RUNNING = "running", _("running")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")


class ProcessInstance(models.Model):
    definition = models.ForeignKey(ProcessDefinition, on_delete=models.PROTECT, related_name="instances")
    process_id = models.CharField(_("process"), max_length=120)
    subject = models.CharField(
        _("subject"),
        max_length=80,
        db_index=True,
        help_text=_("What the instance is about, e.g. a case number."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=InstanceStatus.choices, default=InstanceStatus.RUNNING
    )
    tokens = models.IntegerField(default=0)
    joins = models.JSONField(default=dict, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    parent_node = models.CharField(max_length=120, blank=True)
    started_at = models.DateTimeField(_("started"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("process instance")
        verbose_name_plural = _("process instances")

    def __str__(self):
        return f"{self.subject} ({self.status})"


class WorkStatus(models.TextChoices):
    OPEN = "open", _("waiting to be claimed")
    CLAIMED = "claimed", _("in progress")
    COMPLETED = "completed", _("completed")
    RETURNED = "returned", _("returned")
    CANCELLED = "cancelled", _("cancelled")


OPEN_STATUSES = (WorkStatus.OPEN, WorkStatus.CLAIMED)


class WorkKind(models.TextChoices):
    """Steps belong to a running process; the others are tasks a case opens on its own."""

    STEP = "step", _("process step")
    INSPECTION = "inspection", _("follow-up inspection (事后核查)")
    RECTIFICATION = "rectification", _("rectification (整改)")


class WorkItem(models.Model):
    """A user task waiting for, or done by, someone: the unit of the worklist."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=14, choices=WorkKind.choices, default=WorkKind.STEP)
    # Foreign keys without an index of their own where a composite index leads with them or the
    # lookup is a rare administrative one: each index is written on every step a case takes.
    instance = models.ForeignKey(
        ProcessInstance,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="work_items",
        db_index=False,  # work_instance leads with it
    )  # empty for tasks outside a process (inspections, rectifications)
    subject = models.CharField(_("subject"), max_length=80, db_index=True)
    node_id = models.CharField(_("step"), max_length=120)
    name = models.CharField(_("name"), max_length=200)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_items",
        db_index=False,  # steps are found by department_path
    )
    # The department's tree path, copied so a worklist filters by scope without a join.
    department_path = models.CharField(max_length=400, blank=True)
    role = models.CharField(_("role"), max_length=20)
    assignee = models.ForeignKey(
        User,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_items",
        db_index=False,  # work_open_mine leads with it (open steps; users are deactivated, not deleted)
    )
    status = models.CharField(_("status"), max_length=10, choices=WorkStatus.choices, default=WorkStatus.OPEN)
    group = models.UUIDField(_("countersign group"), null=True, blank=True, db_index=True)
    group_rule = models.CharField(max_length=8, blank=True)
    decision = models.CharField(_("decision"), max_length=20, blank=True)
    opinion = models.TextField(_("opinion"), blank=True)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    limit_days = models.PositiveIntegerField(_("limit (working days)"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    reminded = models.PositiveSmallIntegerField(
        default=0, help_text=_("Reminders sent: 1 at 50 %, 2 at 80 %, 3 overdue.")
    )
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    # Working days the step's clock stood still (its case waited on the applicant or a special
    # procedure); due_at already includes them.
    paused_days = models.FloatField(default=0.0)
    # When the step turns yellow (TONGBAN_YELLOW_AT of its limit used); with due_at it lets a worklist
    # filter by red/yellow/green in SQL.
    yellow_at = models.DateTimeField(null=True, blank=True)
    # Set while the subject (a case) waits on its applicant or a special procedure: the clock stands.
    paused_since = models.DateTimeField(null=True, blank=True)
    # The process the step belongs to ("item:<code>", "bundle:<code>"), so a worklist filters by item.
    process_key = models.CharField(_("process"), max_length=120, blank=True)
    # When the deadline sweep next has something to say about this step (a 催办 at 50 % or 80 % of
    # its limit, an escalation once overdue); empty once escalated, while paused, or when done.
    next_reminder_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["instance", "status"], name="work_instance"),
            models.Index(fields=["next_reminder_at"], name="work_reminder"),
            # The worklist reads open steps only: a small partial index, however many cases are done.
            # Its columns answer the worklist's filters (colour, item, kind) and count without
            # reading the table, in due order with id as the tie-break, as the worklist pages.
            models.Index(
                fields=[
                    "department_path",
                    "role",
                    "status",
                    "due_at",
                    "id",
                    "yellow_at",
                    "paused_since",
                    "kind",
                    "process_key",
                ],
                name="work_open_queue",
                condition=models.Q(status__in=["open", "claimed"]),
            ),
            models.Index(
                fields=[
                    "assignee",
                    "due_at",
                    "id",
                    "status",
                    "department_path",
                    "role",
                    "yellow_at",
                    "paused_since",
                    "kind",
                    "process_key",
                ],
                name="work_open_mine",
                condition=models.Q(status__in=["open", "claimed"]),
            ),
            # 已办: the steps one person finished (or sent back), newest first.
            models.Index(
                fields=["completed_by", "-completed_at", "-id"],
                name="work_done_by",
                condition=models.Q(completed_by__isnull=False),
            ),
        ]
        verbose_name = _("work item")
        verbose_name_plural = _("work items")

    def __str__(self):
        return f"{self.subject} {self.name} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TimerStatus(models.TextChoices):
    WAITING = "waiting", _("waiting")
    FIRED = "fired", _("fired")
    CANCELLED = "cancelled", _("cancelled")


class Timer(models.Model):
    """A timer event waiting for its moment: a boundary timer on a step, or an intermediate timer.

    The worker's sweep fires the due ones (services.fire_timer). A timer whose step is no longer
    open, or whose instance has ended, is cancelled when it comes due instead of firing."""

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="timers")
    subject = models.CharField(_("subject"), max_length=80)
    node_id = models.CharField(_("timer event"), max_length=120)
    work_item = models.ForeignKey(
        WorkItem, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )  # the step a boundary timer is attached to
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=TimerStatus.choices, default=TimerStatus.WAITING
    )
    fired_at = models.DateTimeField(_("fired"), null=True, blank=True)
    # After an event-based gateway: the first wait of its race to fire cancels the others.
    race = models.CharField(max_length=120, blank=True)
    # Set while the subject (a case) waits on its applicant or a special procedure: the timer stands
    # still, and on resuming its due time moves out by the time it stood (services.resume_subject).
    paused_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"], name="workflow_timer_due")]

    def __str__(self):
        return f"{self.subject} {self.node_id} {self.due_at:%Y-%m-%d %H:%M}"


class Subscription(models.Model):
    """A process waiting for a message, a signal or a condition: an intermediate catch event, a
    receive task, a start event, a boundary event on a step, or an event subprocess listening.

    Messages come from other systems through the API (POST /api/v1/cases/{number}/messages) or
    from a process of the same case; they are correlated by the case (the subject). Signals reach
    the waiting events of the same case. Conditions are tested whenever the case data changes."""

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="subscriptions")
    subject = models.CharField(_("subject"), max_length=80)
    node_id = models.CharField(_("event"), max_length=120)
    # "message:<name>", "signal:<name>" or "conditional"
    trigger = models.CharField(_("waits for"), max_length=240)
    work_item = models.ForeignKey(
        WorkItem, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )  # the step a boundary event is attached to
    race = models.CharField(max_length=120, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=TimerStatus.choices, default=TimerStatus.WAITING
    )
    created_at = models.DateTimeField(_("created"))
    fired_at = models.DateTimeField(_("fired"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["subject", "status", "trigger"], name="workflow_subscription_wait")]

    def __str__(self):
        return f"{self.subject} {self.node_id} {self.trigger}"


class SavedOpinion(models.Model):
    """常用意见: a phrase a reviewer writes again and again ("材料齐全，符合法定形式，同意。"), kept
    per person so an opinion is one click, not retyped on every step."""

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(_("opinion"), max_length=500)
    uses = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-uses", "id"]
        constraints = [models.UniqueConstraint(fields=("owner", "text"), name="saved_opinion_unique")]
        verbose_name = _("saved opinion")
        verbose_name_plural = _("saved opinions")

    def __str__(self):
        return self.text[:40]
