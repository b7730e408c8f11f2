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
    CASES = "cases", _("our case events")


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

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("event log")
        verbose_name_plural = _("event logs")

    def __str__(self):
        return self.name
