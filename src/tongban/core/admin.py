from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite

from . import audit
from .models import AuditCheckpoint, AuditEntry, CalendarOverride, CalendarYear, DeadLetter

# The admin site asks for the second factor like every other staff page.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = _("tongban administration")
admin.site.site_title = _("tongban administration")


class JournalledAdmin(admin.ModelAdmin):
    """Admin edits of reference data go through the audit journal like service calls do."""

    def _ref(self, obj) -> str:
        return str(obj.pk)

    def save_model(self, request, obj, form, change):
        action = f"admin.{obj._meta.label_lower}.{'change' if change else 'add'}"
        with audit.audited(
            action,
            actor=request.user,
            object_type=obj._meta.model_name,
            object_ref=self._ref(obj),
            detail={"fields": sorted(form.changed_data)},
        ):
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        with audit.audited(
            f"admin.{obj._meta.label_lower}.delete",
            actor=request.user,
            object_type=obj._meta.model_name,
            object_ref=self._ref(obj),
        ):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(JournalledAdmin):
    list_display = ["date", "is_working_day", "name", "updated_at"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"
    search_fields = ["name"]

    def _ref(self, obj):
        return obj.date.isoformat()


@admin.register(CalendarYear)
class CalendarYearAdmin(JournalledAdmin):
    list_display = ["year", "confirmed", "source", "updated_at"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "occurred_at", "actor_label", "action", "object_type", "object_ref", "outcome"]
    list_filter = ["outcome", "object_type"]
    search_fields = ["action", "actor_label", "object_ref", "request_id"]


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["verified_at", "entries_checked", "ok", "trigger", "problem"]


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    """Seen here; requeued or discarded with `tongban jobs` (journalled)."""

    list_display = ["id", "created_at", "task", "reason", "resolution", "resolved_at"]
    list_filter = ["reason", "resolution"]
    search_fields = ["task", "task_id"]
    exclude = ["message"]
