from django.contrib import admin

from tongban.core.admin import ReadOnlyAdmin

from .models import Bundle, ItemVersion, ServiceItem


@admin.register(ServiceItem)
class ServiceItemAdmin(ReadOnlyAdmin):
    """Items change through the catalogue console, API and import: they version and journal the change."""

    list_display = ["code", "department", "current", "source"]
    list_filter = ["source", "department"]
    search_fields = ["code", "versions__name"]


@admin.register(ItemVersion)
class ItemVersionAdmin(ReadOnlyAdmin):
    list_display = ["item", "number", "status", "name", "promised_limit_days", "published_at"]
    list_filter = ["status", "item_type", "online_level", "high_frequency", "audience"]
    search_fields = ["name", "item__code"]


@admin.register(Bundle)
class BundleAdmin(ReadOnlyAdmin):
    list_display = ["code", "lead_department", "current"]
