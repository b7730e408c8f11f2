"""The reform programme office (流程再造进度管理): programme → projects → tasks and milestones.

A programme is led by a department; planners whose scope covers that department keep its plan.
Each task is owned by a department (and a person in it), may have co-owning departments, and is
scheduled on the working-day calendar: `not_before` is the start the plan asks for, `duration_days`
its length in working days (0 for a milestone), and `start`/`finish` the dates the scheduler worked
out from both and from the finish-to-start links with their lags (programme.schedule). The
baseline is the schedule as first approved, kept to show slippage on the Gantt chart.

Tasks are addressed by the programme's code and their own code ("LCZZ-2026/T12"), never by
database id; the same pair is the subject id of their events on the core log.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Department, User


class ProgrammeStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    CLOSED = "closed", _("closed")


class Programme(models.Model):
    code = models.CharField(_("programme code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    department = models.ForeignKey(
        Department, verbose_name=_("lead department"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ProgrammeStatus.choices, default=ProgrammeStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")

    def __str__(self):
        return f"{self.code} {self.name}"


class Project(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="projects")
    code = models.CharField(_("project code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["programme", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["programme", "code"], name="programme_project_code")]
        verbose_name = _("project")
        verbose_name_plural = _("projects")

    def __str__(self):
        return f"{self.code} {self.name}"


class TaskKind(models.TextChoices):
    TASK = "task", _("task")
    MILESTONE = "milestone", _("milestone")


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("not started")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", _("done")
    SUSPENDED = "suspended", _("suspended")
    CANCELLED = "cancelled", _("cancelled")


class Task(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="tasks")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    code = models.CharField(_("task code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=TaskKind.choices, default=TaskKind.TASK)
    owner_department = models.ForeignKey(
        Department, verbose_name=_("owner department"), on_delete=models.PROTECT, related_name="+"
    )
    owner_person = models.ForeignKey(
        User, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    co_owners = models.ManyToManyField(Department, verbose_name=_("co-owners"), blank=True, related_name="+")
    not_before = models.DateField(_("planned start"))
    duration_days = models.PositiveIntegerField(_("duration (working days)"))
    start = models.DateField(_("start"))
    finish = models.DateField(_("deadline"))
    baseline_start = models.DateField(_("baseline start"), null=True, blank=True)
    baseline_finish = models.DateField(_("baseline deadline"), null=True, blank=True)
    weight = models.DecimalField(_("weight"), max_digits=8, decimal_places=2, default=1)
    deliverable = models.CharField(_("deliverable"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    percent = models.PositiveSmallIntegerField(_("percent done"), default=0)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    # Three-point estimate in working days, for the Monte Carlo schedule risk (blank: the duration).
    optimistic_days = models.FloatField(_("optimistic (working days)"), null=True, blank=True)
    likely_days = models.FloatField(_("most likely (working days)"), null=True, blank=True)
    pessimistic_days = models.FloatField(_("pessimistic (working days)"), null=True, blank=True)
    # A KPI-bound task (issue 15): measured every night from the event log, achieved only when the
    # value meets the target for `kpi_hold_days` consecutive measurements.
    kpi = models.CharField(_("KPI"), max_length=40, blank=True)
    kpi_department = models.ForeignKey(
        Department,
        verbose_name=_("KPI department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kpi_item = models.CharField(_("KPI item"), max_length=60, blank=True)
    kpi_region = models.CharField(_("KPI region"), max_length=12, blank=True)
    kpi_target = models.FloatField(_("KPI target"), null=True, blank=True)
    kpi_window_days = models.PositiveIntegerField(_("KPI window (days)"), default=30)
    kpi_hold_days = models.PositiveIntegerField(_("KPI must hold (measurements)"), default=7)
    kpi_achieved_on = models.DateField(_("KPI achieved on"), null=True, blank=True)
    # the week (Monday) whose weekly report the owner was last reminded of: one reminder a week
    report_reminded_week = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["programme", "start", "code"]
        constraints = [models.UniqueConstraint(fields=["programme", "code"], name="programme_task_code")]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def public_id(self) -> str:
        return f"{self.programme.code}/{self.code}"


class Dependency(models.Model):
    """Finish-to-start: the successor starts no earlier than `lag_days` working days after the
    predecessor finishes."""

    predecessor = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="successor_links")
    successor = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="predecessor_links")
    lag_days = models.IntegerField(_("lag (working days)"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["predecessor", "successor"], name="programme_dependency_pair")
        ]

    def __str__(self):
        return f"{self.predecessor_id} → {self.successor_id} (+{self.lag_days})"


class Risk(models.Model):
    """A schedule risk event: with `probability` it happens, and then delays its tasks by `delay_days`."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="risks")
    code = models.CharField(_("risk code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    probability = models.FloatField(_("probability"), default=0)
    delay_days = models.FloatField(_("delay (working days)"), default=0)
    tasks = models.ManyToManyField(Task, related_name="risks", blank=True)
    # the register (风险台账): cause, owner, likelihood and impact from 1 to 5, responses, review
    cause = models.TextField(_("cause"), blank=True)
    owner_department = models.ForeignKey(
        Department,
        verbose_name=_("owner department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    likelihood = models.PositiveSmallIntegerField(_("likelihood (1–5)"), null=True, blank=True)
    impact = models.PositiveSmallIntegerField(_("impact (1–5)"), null=True, blank=True)
    response = models.TextField(_("responses"), blank=True)
    review_on = models.DateField(_("next review"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, default="open")  # RiskStatus

    class Meta:
        ordering = ["programme", "code"]
        constraints = [models.UniqueConstraint(fields=["programme", "code"], name="programme_risk_code")]
        verbose_name = _("schedule risk")
        verbose_name_plural = _("schedule risks")

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def score(self) -> int | None:
        return self.likelihood * self.impact if self.likelihood and self.impact else None


class RiskStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class RiskScoreChange(models.Model):
    """One assessment of a risk in the register: its likelihood and impact from then on."""

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(_("assessed"))
    likelihood = models.PositiveSmallIntegerField(_("likelihood (1–5)"))
    impact = models.PositiveSmallIntegerField(_("impact (1–5)"))
    score = models.PositiveSmallIntegerField(_("score"))
    author = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["risk", "at"]

    def __str__(self):
        return f"{self.risk_id} {self.at:%Y-%m-%d} {self.score}"


class KpiMeasurement(models.Model):
    """One night's measurement of a KPI-bound task: the value over the window ending that day."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="measurements")
    measured_on = models.DateField()
    value = models.FloatField(null=True)
    cases = models.PositiveIntegerField(default=0)
    met = models.BooleanField(default=False)

    class Meta:
        ordering = ["task", "measured_on"]
        constraints = [models.UniqueConstraint(fields=["task", "measured_on"], name="programme_kpi_day")]

    def __str__(self):
        return f"{self.task_id} {self.measured_on}: {self.value}"


# --- public consultation (公众参与 / 意见征集) -------------------------------------------------------


class Consultation(models.Model):
    """A draft (a policy or a process change) put to the public for a period (意见征集).

    Its phase follows from the dates once it is published: upcoming, open (comments taken from
    `opens_on` to `closes_on`, both days included), closed. Every comment is answered (反馈): a
    published one with an adoption decision, a refused one with the moderation reason, within
    `feedback_days` working days after the period closed (15, or 30 for a complex draft). The
    adoption report (公示) is published once every comment is answered.
    """

    code = models.CharField(_("consultation code"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    draft = models.TextField(_("draft"))
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    programme = models.ForeignKey(
        Programme,
        verbose_name=_("programme"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="consultations",
    )
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    complex = models.BooleanField(_("complex draft"), default=False)
    feedback_days = models.PositiveSmallIntegerField(_("feedback limit (working days)"))
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    report_summary = models.TextField(_("adoption report"), blank=True)
    report_published_at = models.DateTimeField(_("report published"), null=True, blank=True)
    # the last feedback reminder sent to the department ("", "yellow", "red"): each goes out once
    reminded = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opens_on", "-code"]
        verbose_name = _("public consultation")
        verbose_name_plural = _("public consultations")

    def __str__(self):
        return f"{self.code} {self.title}"


class Moderation(models.TextChoices):
    PENDING = "pending", _("awaiting moderation")
    PUBLISHED = "published", _("published")
    REFUSED = "refused", _("not published")


class RefusalReason(models.TextChoices):
    OFF_TOPIC = "off_topic", _("not about the draft")
    ABUSIVE = "abusive", _("abusive or unlawful content")
    ADVERTISING = "advertising", _("advertising or spam")
    PERSONAL_DATA = "personal_data", _("contains personal data")
    DUPLICATE = "duplicate", _("repeats an earlier comment")


class Adoption(models.TextChoices):
    ADOPTED = "adopted", _("adopted (采纳)")
    PARTLY = "partly", _("partly adopted (部分采纳)")
    NOT_ADOPTED = "not_adopted", _("not adopted (不采纳)")


class Comment(models.Model):
    """One comment on a consultation. Its `receipt` is the commenter's handle on it (anonymous
    commenters have nothing else); the network address is kept only as a keyed hash, for the
    anonymous rate limit."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="comments")
    number = models.PositiveIntegerField(_("number"))
    receipt = models.CharField(max_length=24, unique=True)
    author = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author_name = models.CharField(_("name shown"), max_length=40, blank=True)
    section = models.CharField(_("part of the draft"), max_length=100, blank=True)
    text = models.TextField(_("comment"))
    address_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(_("received"))
    moderation = models.CharField(
        _("moderation"), max_length=12, choices=Moderation.choices, default=Moderation.PENDING
    )
    refusal_reason = models.CharField(_("reason"), max_length=16, choices=RefusalReason.choices, blank=True)
    moderation_note = models.CharField(_("moderation note"), max_length=300, blank=True)
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(_("adoption"), max_length=12, choices=Adoption.choices, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # when the commenter was answered: the decision, or the refusal to publish
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        ordering = ["consultation", "number"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "number"], name="programme_comment_number")
        ]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self):
        return f"{self.consultation_id}#{self.number}"


# --- weekly progress reports ---------------------------------------------------------------------


class WeeklyReport(models.Model):
    """A task owner's report for one week (Monday's date): what was done, the percent now, evidence.
    Filing again in the same week replaces the text and percent and adds the new evidence."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="weekly_reports")
    week = models.DateField(_("week of"))
    author = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("progress this week"))
    percent = models.PositiveSmallIntegerField(_("percent done"))
    filed_at = models.DateTimeField(_("filed"))

    class Meta:
        ordering = ["task", "-week"]
        constraints = [models.UniqueConstraint(fields=["task", "week"], name="programme_weekly_report_week")]
        verbose_name = _("weekly report")
        verbose_name_plural = _("weekly reports")

    def __str__(self):
        return f"{self.task_id} {self.week}"


class Evidence(models.Model):
    """A file backing a weekly report, kept encrypted by core.files (context "programme.evidence")."""

    report = models.ForeignKey(WeeklyReport, on_delete=models.CASCADE, related_name="evidence")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(_("file name"), max_length=120)
    kind = models.CharField(max_length=8)
    size = models.PositiveIntegerField()
    ref = models.CharField(max_length=64)
    sm3 = models.CharField(max_length=64)

    class Meta:
        ordering = ["report", "number"]
        constraints = [models.UniqueConstraint(fields=["report", "number"], name="programme_evidence_number")]

    def __str__(self):
        return self.name


# --- funds supervision ------------------------------------------------------------------------------


class BudgetLine(models.Model):
    """A budget line (预算科目) of a project for one year."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="budget_lines")
    year = models.PositiveSmallIntegerField(_("year"))
    code = models.CharField(_("budget line"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    amount = models.DecimalField(_("budget (yuan)"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["project", "year", "code"]
        constraints = [
            models.UniqueConstraint(fields=["project", "year", "code"], name="programme_budget_line_code")
        ]
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")

    def __str__(self):
        return f"{self.year} {self.code} {self.name}"


class SpendingKind(models.TextChoices):
    COMMITMENT = "commitment", _("commitment (合同/承诺)")
    PAYMENT = "payment", _("payment (支付)")


class Spending(models.Model):
    """A commitment or a payment against a budget line, entered or imported from XLSX."""

    line = models.ForeignKey(BudgetLine, on_delete=models.CASCADE, related_name="spendings")
    kind = models.CharField(_("kind"), max_length=12, choices=SpendingKind.choices)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    on = models.DateField(_("date"))
    reference = models.CharField(_("voucher or contract number"), max_length=60, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    source = models.CharField(max_length=8, default="entered")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["line", "on", "id"]
        verbose_name = _("spending")
        verbose_name_plural = _("spending")

    def __str__(self):
        return f"{self.kind} {self.amount}"
