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
    probability = models.FloatField(_("probability"))
    delay_days = models.FloatField(_("delay (working days)"))
    tasks = models.ManyToManyField(Task, related_name="risks", blank=True)

    class Meta:
        ordering = ["programme", "code"]
        constraints = [models.UniqueConstraint(fields=["programme", "code"], name="programme_risk_code")]
        verbose_name = _("schedule risk")
        verbose_name_plural = _("schedule risks")

    def __str__(self):
        return f"{self.code} {self.name}"


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
