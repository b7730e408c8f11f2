"""Event logs held for analysis (效能监察, 流程再造). The events themselves are Parquet files under
the var directory (insight.eventlog), read with DuckDB; the database keeps what a list shows."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import User


class LogSource(models.TextChoices):
    XES = "xes", _("XES file")
    CSV = "csv", _("CSV file")
    PARQUET = "parquet", _("Parquet file")
    OCEL = "ocel", _("OCEL 2.0 file")
    CASES = "cases", _("our case events")
    EVENTS = "events", _("our event log")


class EventLog(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=120)
    source = models.CharField(_("source"), max_length=10, choices=LogSource.choices)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    events = models.PositiveBigIntegerField(_("events"), default=0)
    cases = models.PositiveIntegerField(_("cases"), default=0)
    activities = models.PositiveIntegerField(_("activities"), default=0)
    first_at = models.DateTimeField(_("first event"), null=True, blank=True)
    last_at = models.DateTimeField(_("last event"), null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("imported"))
    value_adding = models.JSONField(
        _("value-adding steps"), default=list, blank=True, help_text=_("For the value-stream view.")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("event log")
        verbose_name_plural = _("event logs")

    def __str__(self):
        return self.name


class KpiTarget(models.Model):
    """A supervisor's target for a KPI, for the whole region (no department) or one department; the
    dashboard colours each figure green, yellow (short of the target by less than the margin) or red."""

    kpi = models.CharField(_("KPI"), max_length=40)
    department_code = models.CharField(_("department"), max_length=40, blank=True)
    target = models.FloatField(_("target"))
    yellow_margin = models.FloatField(
        _("yellow margin"), default=0.05, help_text=_("Relative, e.g. 0.05 = 5 %.")
    )
    set_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField(_("set"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kpi", "department_code"], name="one_target_per_kpi_unit")
        ]
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")

    def __str__(self):
        return f"{self.kpi} {self.department_code or '*'} {self.target}"


class WarningLetter(models.Model):
    """A 预警函 sent to a unit: its 文号 (效能预警〔year〕n号, numbered per year without gaps) and what
    it said, so a letter fetched again keeps its number and the supervisor can list what was sent."""

    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("number in the year"))
    department_code = models.CharField(_("department"), max_length=40)
    kpi = models.CharField(_("KPI"), max_length=40)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    value = models.FloatField(_("measured value"), null=True)
    target = models.FloatField(_("target"), null=True)
    issued_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField(_("issued"))

    class Meta:
        ordering = ["-year", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="warning_letter_number"),
            models.UniqueConstraint(
                fields=["department_code", "kpi", "period_start", "period_end"], name="one_letter_per_finding"
            ),
        ]
        verbose_name = _("warning letter")
        verbose_name_plural = _("warning letters")

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"效能预警〔{self.year}〕{self.sequence}号"


class Redesign(models.Model):
    """A redesign decided on a what-if (流程再造): what was changed, what the simulation predicted,
    and from when it is live — so the measured result can be set against the prediction."""

    log = models.ForeignKey(EventLog, on_delete=models.CASCADE, related_name="redesigns")
    name = models.CharField(_("name"), max_length=120)
    item_code = models.CharField(_("item"), max_length=80, blank=True)
    changes = models.JSONField(_("changes"), default=dict)
    predicted = models.JSONField(_("prediction"), default=dict)  # as-is / to-be mean cycle time (s), savings
    live_from = models.DateField(_("live from"))
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("decided"))

    class Meta:
        ordering = ["-live_from"]
        verbose_name = _("redesign")
        verbose_name_plural = _("redesigns")

    def __str__(self):
        return self.name


class DailyVolume(models.Model):
    """How much of one measure a bureau had on one local day, counted from the core event log by
    the cockpit's refresh job (insight.cockpit): cases submitted, work orders received or dispatched
    to it, orders closed (and on time), ratings given (and their points). The cockpit's trends and
    forecasts read these rows instead of the whole event log; `bureau` is "" for events that name
    no department (a work order not yet dispatched)."""

    measure = models.CharField(_("measure"), max_length=24)
    bureau = models.CharField(_("department"), max_length=40, blank=True)
    day = models.DateField(_("day"))
    value = models.FloatField(_("value"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "bureau", "day"], name="one_volume_per_measure_bureau_day"
            )
        ]
        indexes = [models.Index(fields=["measure", "day"], name="volume_measure_day")]
        verbose_name = _("daily volume")
        verbose_name_plural = _("daily volumes")

    def __str__(self):
        return f"{self.measure} {self.bureau or '*'} {self.day} {self.value}"


class CockpitState(models.Model):
    """The one row that says how far the refresh job has read the event log (its last event id),
    so each run counts only what is new and the page adds only the events since."""

    last_event_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("cockpit state")
        verbose_name_plural = _("cockpit state")

    def __str__(self):
        return f"cockpit counted to event {self.last_event_id}"


class VolumeForecast(models.Model):
    """The next weeks' daily volume of one measure for one bureau (or "" for the whole region), as
    fitted once a day, with its rolling-origin backtest and the seasonal-naive baseline's."""

    made_on = models.DateField(_("made on"))
    measure = models.CharField(_("measure"), max_length=24)
    bureau = models.CharField(_("department"), max_length=40, blank=True)
    method = models.CharField(_("method"), max_length=20)
    history_days = models.PositiveIntegerField(_("days of history"), default=0)
    first_day = models.DateField(_("first day forecast"))
    values = models.JSONField(_("forecast"), default=list)
    backtest = models.JSONField(_("backtest"), default=dict)  # origins, mase, wape
    baseline = models.JSONField(_("seasonal-naive baseline"), default=dict)
    made_at = models.DateTimeField(_("made at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["made_on", "measure", "bureau"], name="one_forecast_per_day_measure"
            )
        ]
        verbose_name = _("volume forecast")
        verbose_name_plural = _("volume forecasts")

    def __str__(self):
        return f"{self.made_on} {self.measure} {self.bureau or '*'} {self.method}"
