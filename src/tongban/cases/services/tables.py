"""秒批 decision tables of auto-approvable items: draft, check, publish — versioned like the catalogue.

Publishing freezes a version; a case records the table version and rule that decided it, so an
edited table never changes how an earlier case was judged. Catalogue managers of the item's
department edit the tables (as JSON in the editor, or as a DMN file from any DMN modeler).
"""

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.catalog.models import ServiceItem
from tongban.core import audit
from tongban.core.authz import require
from tongban.core.errors import Conflict, InvalidInput, NotFound

from .. import rules, verification
from ..models import DecisionTable, TableStatus


def _item(actor, item_code: str) -> ServiceItem:
    item = ServiceItem.objects.select_related("department", "current").filter(code=item_code).first()
    if item is None:
        raise NotFound()
    require(actor, perms.CATALOG_MANAGE, item.department)
    return item


def list_tables(actor, item_code: str) -> list[DecisionTable]:
    item = _item(actor, item_code)
    return list(DecisionTable.objects.filter(item=item).order_by("-version"))


def save_draft(
    actor,
    item_code: str,
    *,
    table: dict | None = None,
    dmn: bytes | None = None,
    contract: dict | None = None,
) -> DecisionTable:
    """Check a table (JSON, or a DMN file) and keep it as the item's draft; nothing is saved if it fails.

    With a `contract` the DMN file is taken as its author wrote it (any names, outputs, hit policy,
    requirement graph) and the contract maps it onto the item: which decision and output decide,
    which values approve, where each input comes from (data.… / check.…), which are required
    (cases.rules.validate_dmn_table). Without one, the file must be a table in our own shape."""
    item = _item(actor, item_code)
    if (table is None) == (dmn is None):
        raise InvalidInput.single("table", "required", _("Give the table or a DMN file."))
    if dmn is not None and contract is not None:
        normalised = rules.validate_dmn_table(dmn, contract)
    else:
        normalised = rules.validate_table(rules.table_from_dmn(dmn) if dmn is not None else table)
    unknown = [
        column["key"]
        for column in normalised["inputs"]
        if column["key"].startswith("check.") and column["key"][6:] not in verification.available()
    ]
    if unknown:
        raise InvalidInput.single(
            "inputs", "unknown_check", _("Unknown verification check: %(c)s.") % {"c": ", ".join(unknown)}
        )
    now = timezone.now()
    with audit.audited(
        "cases.table.draft",
        actor=actor,
        object_type="decision_table",
        object_ref=item_code,
        department_code=item.department.code,
    ) as entry:
        draft = DecisionTable.objects.filter(item=item, status=TableStatus.DRAFT).first()
        if draft is None:
            latest = DecisionTable.objects.filter(item=item).aggregate(v=Max("version"))["v"] or 0
            draft = DecisionTable(
                item=item, version=latest + 1, created_by=getattr(actor, "user", None), created_at=now
            )
        draft.table = normalised
        draft.save()
        entry.detail = {"version": draft.version, "rules": len(normalised["rules"])}
    return draft


def publish(actor, item_code: str) -> DecisionTable:
    """The draft becomes the table new applications are decided by; the previous one is superseded."""
    item = _item(actor, item_code)
    if item.current is None or not item.current.auto_approvable:
        raise Conflict(_("Mark the published item as auto-approvable (秒批) first."))
    with audit.audited(
        "cases.table.publish",
        actor=actor,
        object_type="decision_table",
        object_ref=item_code,
        department_code=item.department.code,
    ) as entry:
        draft = DecisionTable.objects.select_for_update().filter(item=item, status=TableStatus.DRAFT).first()
        if draft is None:
            raise Conflict(_("There is no draft to publish."))
        DecisionTable.objects.filter(item=item, status=TableStatus.PUBLISHED).update(
            status=TableStatus.SUPERSEDED
        )
        draft.status, draft.published_by, draft.published_at = (
            TableStatus.PUBLISHED,
            getattr(actor, "user", None),
            timezone.now(),
        )
        draft.save(update_fields=["status", "published_by", "published_at"])
        entry.detail = {"version": draft.version}
    return draft


def export_dmn(actor, item_code: str, version: int | None = None) -> bytes:
    item = _item(actor, item_code)
    tables = DecisionTable.objects.filter(item=item)
    table = tables.filter(version=version).first() if version else tables.order_by("-version").first()
    if table is None:
        raise NotFound()
    return rules.table_to_dmn(table.table)


def try_table(
    actor, item_code: str, *, data: dict, checks: dict, table: dict | None = None
) -> rules.Evaluation:
    """Run the draft (or a given table) on sample data, so an editor sees what it would decide."""
    item = _item(actor, item_code)
    if table is None:
        stored = (
            DecisionTable.objects.filter(item=item)
            .exclude(status=TableStatus.SUPERSEDED)
            .order_by("-version")
            .first()
        )
        if stored is None:
            raise NotFound()
        table = stored.table
    return rules.evaluate(rules.validate_table(table), {"data": data or {}, "check": checks or {}})
