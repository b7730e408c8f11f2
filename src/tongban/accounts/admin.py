from django.contrib import admin

from tongban.core.admin import JournalledAdmin, ReadOnlyAdmin

from .models import Department, Region, ServiceCentre, Staff, User, Window


@admin.register(Region)
class RegionAdmin(JournalledAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]


@admin.register(Department)
class DepartmentAdmin(JournalledAdmin):
    list_display = ["code", "name", "kind", "region", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    readonly_fields = ["path"]

    def get_readonly_fields(self, request, obj=None):
        # Codes are public identifiers and make up the sub-tree paths: fixed once created.
        return ["code", "parent", "path"] if obj else ["path"]

    def _ref(self, obj):
        return obj.code

    def save_model(self, request, obj, form, change):
        if not change:
            obj.path = obj.build_path()
        super().save_model(request, obj, form, change)


@admin.register(ServiceCentre)
class ServiceCentreAdmin(JournalledAdmin):
    list_display = ["code", "name", "region", "department"]


@admin.register(Window)
class WindowAdmin(JournalledAdmin):
    list_display = ["centre", "number", "name", "kind", "department", "is_active"]
    list_filter = ["centre", "kind", "is_active"]


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    """Accounts are managed through the staff screens and CLI (they check scope and write the journal)."""

    list_display = ["username", "display_name", "kind", "is_active", "last_login"]
    list_filter = ["kind", "is_active"]
    search_fields = ["username", "display_name"]
    exclude = ["password"]


@admin.register(Staff)
class StaffAdmin(ReadOnlyAdmin):
    list_display = ["user", "department", "title"]
    exclude = ["phone"]
