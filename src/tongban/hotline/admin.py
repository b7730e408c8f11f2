from django.contrib import admin

from .models import Assignment, Callback, Category, TimeLimit, TrainingExample, WorkOrder


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The centre's category → department map is edited here (or through the console)."""

    list_display = ("path", "level", "department")
    list_filter = ("level",)
    search_fields = ("path",)
    list_editable = ("department",)
    readonly_fields = ("name", "level", "parent", "path")


@admin.register(TimeLimit)
class TimeLimitAdmin(admin.ModelAdmin):
    list_display = (
        "urgency",
        "order_type",
        "first_contact_hours",
        "resolution_working_days",
        "extended_working_days",
    )


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in Assignment._meta.fields]


class CallbackInline(admin.TabularInline):
    model = Callback
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in Callback._meta.fields]


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    """Read-only: orders change only through the services (one audit entry and event per step)."""

    list_display = ("number", "order_type", "urgency", "status", "department", "received_at")
    list_filter = ("status", "order_type", "urgency", "channel")
    search_fields = ("number",)
    exclude = ("requester_name", "contact_phone", "phone_index")
    inlines = [AssignmentInline, CallbackInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in WorkOrder._meta.fields if f.name not in self.exclude]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TrainingExample)
class TrainingExampleAdmin(admin.ModelAdmin):
    list_display = ("label", "suggested", "overridden", "created_at")
    list_filter = ("overridden", "label")
    readonly_fields = ("text", "label", "suggested", "overridden", "order", "created_at")
