"""Use cases of the service catalogue: create, edit (as drafts), publish, read and search items and
bundles. Reading published content is public; changing it needs catalog.manage over the item's
department. Every change is journalled.
"""

import hashlib
import re
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.accounts.models import Department
from tongban.core import audit
from tongban.core.authz import require
from tongban.core.errors import Conflict, FieldErrors, Formatted, InvalidInput, NotFound

from .audience import guess_audience
from .models import (
    Audience,
    Bundle,
    BundleMember,
    BundleVersion,
    ItemType,
    ItemVersion,
    Material,
    MaterialForm,
    OnlineLevel,
    RiskLevel,
    ServiceItem,
    VersionStatus,
)

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,79}$")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FORM_FIELD_TYPES = ("text", "textarea", "number", "date", "select", "checkbox", "id_number", "uscc", "phone")

# The content fields of a version, with the checks each gets.
ITEM_FIELDS = (
    "name",
    "parent_name",
    "item_type",
    "legal_basis",
    "conditions",
    "statutory_limit_days",
    "promised_limit_days",
    "fee",
    "risk_level",
    "online_level",
    "visits_required",
    "high_frequency",
    "audience",
    "accepts_with_gaps",
    "commitment_allowed",
    "auto_approvable",
    "keywords",
    "steps",
    "form_fields",
    "licence_type",
)
MATERIAL_FIELDS = ("name", "required", "core", "form", "copies", "licence_type", "data_query", "notes")


# --- validation ----------------------------------------------------------------------------------


def _int(errors: FieldErrors, name: str, value, *, low: int, high: int, optional: bool = True):
    if value in (None, ""):
        if not optional:
            errors.add(name, "required", _("This field is required."))
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.add(name, "invalid", _("Enter a whole number."))
        return None
    if not low <= number <= high:
        errors.add(name, "range", _("The value is out of range."))
        return None
    return number


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "是", "on"}
    return bool(value)


def _choice(errors: FieldErrors, name: str, value, choices) -> str | None:
    if value not in choices.values:
        errors.add(name, "choice", _("Choose one of the allowed values."))
        return None
    return value


def _text(errors: FieldErrors, name: str, value, max_length: int) -> str:
    text = ("" if value is None else str(value)).strip()
    if len(text) > max_length:
        errors.add(name, "max_length", _("The value is too long."))
    return text


def _steps(errors: FieldErrors, value) -> list[str]:
    if isinstance(value, str):
        value = [s for s in re.split(r"[→>\n,，、;；]+", value) if s.strip()]
    if not isinstance(value, list) or len(value) > 30 or not all(isinstance(s, str) for s in value):
        errors.add("steps", "invalid", _("Give up to 30 steps as a list of names."))
        return []
    steps = [s.strip() for s in value]
    if any(not s or len(s) > 60 for s in steps):
        errors.add("steps", "invalid", _("Each step needs a name of at most 60 characters."))
    return steps


def _form_fields(errors: FieldErrors, value) -> list[dict]:
    if not isinstance(value, list) or len(value) > 60:
        errors.add("form_fields", "invalid", _("Give up to 60 form fields as a list."))
        return []
    cleaned, keys = [], set()
    for spec in value:
        if not isinstance(spec, dict):
            errors.add("form_fields", "invalid", _("Each form field is an object with key, label and type."))
            continue
        key, label, kind = spec.get("key", ""), str(spec.get("label", "")).strip(), spec.get("type", "text")
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            errors.add(
                "form_fields",
                "key",
                _("Field keys use lower-case letters, digits and _, starting with a letter."),
            )
            continue
        if key in keys:
            errors.add("form_fields", "duplicate", _("Each field key may appear once."))
            continue
        if not label or len(label) > 60:
            errors.add("form_fields", "label", _("Each form field needs a label of at most 60 characters."))
            continue
        if kind not in FORM_FIELD_TYPES:
            errors.add("form_fields", "type", _("Unknown form field type."))
            continue
        options = spec.get("options", [])
        if kind == "select" and (
            not isinstance(options, list) or not options or not all(isinstance(o, str) and o for o in options)
        ):
            errors.add("form_fields", "options", _("A choice field needs its options."))
            continue
        example = spec.get("example", "")
        if example and (not isinstance(example, str | int | float) or len(str(example)) > 200):
            errors.add("form_fields", "example", _("A field's example is a text of at most 200 characters."))
            continue
        keys.add(key)
        entry = {"key": key, "label": label, "type": kind, "required": _bool(spec.get("required", False))}
        if kind == "select":
            entry["options"] = options
        if example:
            entry["example"] = str(example)  # shown on the 样表, the printed sample of the form
        cleaned.append(entry)
    return cleaned


def clean_item_fields(values: dict, *, errors: FieldErrors | None = None, partial: bool = False) -> dict:
    """Validate and normalise item content; with `partial`, only the fields given are checked."""
    errors = FieldErrors() if errors is None else errors
    out: dict = {}
    present = set(values) if partial else set(ITEM_FIELDS)
    unknown = set(values) - set(ITEM_FIELDS)
    for name in sorted(unknown):
        errors.add(name, "unknown", _("Unknown field."))
    get = values.get
    if "name" in present:
        out["name"] = _text(errors, "name", get("name"), 200)
        if not out["name"]:
            errors.add("name", "required", _("This field is required."))
    if "parent_name" in present:
        out["parent_name"] = _text(errors, "parent_name", get("parent_name"), 200)
    if "item_type" in present:
        out["item_type"] = _choice(errors, "item_type", get("item_type"), ItemType)
    for name in ("legal_basis", "conditions"):
        if name in present:
            out[name] = _text(errors, name, get(name), 4000)
    for name in ("statutory_limit_days", "promised_limit_days"):
        if name in present:
            out[name] = _int(errors, name, get(name), low=0, high=3650)
    if "fee" in present:
        out["fee"] = _text(errors, "fee", get("fee") if get("fee") not in (None, "") else "不收费", 200)
    if "risk_level" in present:
        out["risk_level"] = _choice(errors, "risk_level", get("risk_level") or RiskLevel.LOW, RiskLevel)
    if "online_level" in present:
        out["online_level"] = _choice(
            errors, "online_level", get("online_level") or OnlineLevel.OFFLINE, OnlineLevel
        )
    if "visits_required" in present:
        visits = get("visits_required")
        out["visits_required"] = _int(
            errors, "visits_required", 1 if visits in (None, "") else visits, low=0, high=10
        )
    for name in ("high_frequency", "accepts_with_gaps", "commitment_allowed", "auto_approvable"):
        if name in present:
            out[name] = _bool(get(name, False))
    if "audience" in present:
        given = get("audience")
        # Not given (an import from a list without 服务对象): judged from the item's name, and
        # editable like any field; see catalog/audience.py.
        out["audience"] = (
            _choice(errors, "audience", given, Audience)
            if given not in (None, "")
            else guess_audience(str(get("name") or ""), str(get("parent_name") or ""))
        )
    if "keywords" in present:
        out["keywords"] = _text(errors, "keywords", get("keywords"), 400)
    if "steps" in present:
        out["steps"] = _steps(errors, get("steps") or [])
    if "form_fields" in present:
        out["form_fields"] = _form_fields(errors, get("form_fields") or [])
    if "licence_type" in present:
        out["licence_type"] = _text(errors, "licence_type", get("licence_type"), 60)
    return out


def _check_consistency(errors: FieldErrors, version: ItemVersion, *, publishing: bool = False) -> None:
    statutory, promised = version.statutory_limit_days, version.promised_limit_days
    if statutory is not None and promised is not None and promised > statutory:
        errors.add(
            "promised_limit_days",
            "above_statutory",
            _("The promised limit cannot be longer than the statutory limit."),
        )
    if version.online_level == OnlineLevel.FULL_ONLINE and version.visits_required:
        errors.add("visits_required", "online", _("A fully online item needs no visit."))
    # Publishing without limits is allowed: a catalogue imported from a list of names is public at
    # once, and cases refuse items whose guide is incomplete (no promised limit).


def clean_material(values: dict, errors: FieldErrors, index: int) -> dict:
    prefix = f"materials.{index}"
    out = {}
    out["name"] = _text(errors, f"{prefix}.name", values.get("name"), 200)
    if not out["name"]:
        errors.add(f"{prefix}.name", "required", _("This field is required."))
    out["required"] = _bool(values.get("required", True))
    out["core"] = _bool(values.get("core", True))
    if out["core"] and not out["required"]:
        errors.add(f"{prefix}.core", "optional_core", _("An optional material cannot be core."))
    out["form"] = _choice(
        errors, f"{prefix}.form", values.get("form") or MaterialForm.ELECTRONIC, MaterialForm
    )
    copies = values.get("copies")
    out["copies"] = _int(errors, f"{prefix}.copies", 1 if copies in (None, "") else copies, low=1, high=20)
    out["licence_type"] = _text(errors, f"{prefix}.licence_type", values.get("licence_type"), 60)
    out["data_query"] = _text(errors, f"{prefix}.data_query", values.get("data_query"), 80)
    out["notes"] = _text(errors, f"{prefix}.notes", values.get("notes"), 300)
    for name in set(values) - set(MATERIAL_FIELDS):
        errors.add(f"{prefix}.{name}", "unknown", _("Unknown field."))
    return out


# --- access ----------------------------------------------------------------------------------------


def published_items() -> QuerySet[ItemVersion]:
    return ItemVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related(
        "item", "item__department"
    )


def get_published(code: str) -> ItemVersion:
    """The published version of an item: public, like its guide page."""
    version = published_items().filter(item__code=code).first()
    if version is None:
        raise NotFound()
    return version


def application_form_paper(code: str, *, sample: bool) -> tuple[str, bytes]:
    """The published item's application form as a PDF to print: blank, or the 样表 (public, like
    the guide). Items without an online form have no form to print."""
    from .paper_forms import application_form_pdf

    version = get_published(code)
    if not version.form_fields:
        raise NotFound(_("This item has no application form to download."))
    name = f"{version.name}申请表{'（样表）' if sample else ''}.pdf"
    # A published version never changes, so its forms are drawn once, not on every download of a
    # public URL. The key names the version by what it prints (item, version, publication instant,
    # department name), never by a row id a restored or rolled-back database could give another.
    department = version.item.department.name if version.item.department_id else ""
    printed = "\x1f".join([version.item.code, str(version.number), str(version.published_at), department])
    key = f"catalog:paper-form:{int(sample)}:{hashlib.sha256(printed.encode()).hexdigest()}"
    return name, cache.get_or_set(key, lambda: application_form_pdf(version, sample=sample), 24 * 3600)


def _access_for_change(actor, code: str) -> ServiceItem:
    item = ServiceItem.objects.select_related("department").filter(code=code).first()
    if item is None:
        raise NotFound()
    require(actor, perms.CATALOG_MANAGE, item.department)
    return item


def get_draft(actor, code: str) -> ItemVersion | None:
    item = _access_for_change(actor, code)
    return item.versions.filter(status=VersionStatus.DRAFT).first()


def item_versions(actor, code: str) -> QuerySet[ItemVersion]:
    item = _access_for_change(actor, code)
    return item.versions.order_by("-number")


# --- changes ---------------------------------------------------------------------------------------


def create_item(
    actor, *, code: str, department_code: str, source: str = "local", materials=(), **fields
) -> ServiceItem:
    """A new item with its first version as a draft."""
    errors = FieldErrors()
    code = (code or "").strip()
    if not CODE_PATTERN.match(code):
        errors.add("code", "format", _("Use 3–80 letters, digits, '.', '-' or '_'."))
    elif ServiceItem.objects.filter(code=code).exists():
        errors.add("code", "exists", _("An item with this code exists."))
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        errors.add("department_code", "unknown", _("Unknown department."))
        errors.raise_if_any()
    require(actor, perms.CATALOG_MANAGE, department)
    content = clean_item_fields(fields, errors=errors)
    cleaned_materials = [clean_material(m, errors, i) for i, m in enumerate(materials)]
    with audit.audited(
        "catalog.item.create",
        actor=actor,
        object_type="service_item",
        object_ref=code,
        department_code=department.code,
    ):
        errors.raise_if_any()
        item = ServiceItem.objects.create(code=code, department=department, source=source)
        version = ItemVersion(item=item, number=1, created_by=getattr(actor, "user", None), **content)
        _check_consistency(errors, version, publishing=False)
        errors.raise_if_any()
        version.save()
        Material.objects.bulk_create(
            [Material(version=version, position=i, **m) for i, m in enumerate(cleaned_materials)]
        )
    return item


def _draft_of(item: ServiceItem, actor) -> ItemVersion:
    """The item's draft, copied from the published version (with its materials) if there is none."""
    draft = item.versions.select_for_update().filter(status=VersionStatus.DRAFT).first()
    if draft is not None:
        return draft
    base = item.versions.filter(status=VersionStatus.PUBLISHED).first()
    if base is None:
        raise Conflict(_("The item has neither a draft nor a published version."))
    number = item.versions.order_by("-number").values_list("number", flat=True).first() + 1
    content = {name: getattr(base, name) for name in ITEM_FIELDS}
    draft = ItemVersion.objects.create(
        item=item, number=number, created_by=getattr(actor, "user", None), **content
    )
    Material.objects.bulk_create(
        [
            Material(version=draft, position=m.position, **{f: getattr(m, f) for f in MATERIAL_FIELDS})
            for m in base.materials.all()
        ]
    )
    return draft


def update_item(actor, code: str, **fields) -> ItemVersion:
    """Change an item's content. The change lands in its draft; the published version stays as it is."""
    item = _access_for_change(actor, code)
    errors = FieldErrors()
    content = clean_item_fields(fields, errors=errors, partial=True)
    with audit.audited(
        "catalog.item.update",
        actor=actor,
        object_type="service_item",
        object_ref=code,
        department_code=item.department.code,
        detail={"fields": sorted(content)},
    ):
        errors.raise_if_any()
        draft = _draft_of(item, actor)
        for name, value in content.items():
            setattr(draft, name, value)
        _check_consistency(errors, draft, publishing=False)
        errors.raise_if_any()
        draft.save()
    return draft


def set_materials(actor, code: str, materials: list[dict]) -> list[Material]:
    """Replace the draft's materials with this list (in order)."""
    item = _access_for_change(actor, code)
    errors = FieldErrors()
    if not isinstance(materials, list) or len(materials) > 60:
        raise InvalidInput.single("materials", "invalid", _("Give up to 60 materials as a list."))
    cleaned = [clean_material(m if isinstance(m, dict) else {}, errors, i) for i, m in enumerate(materials)]
    with audit.audited(
        "catalog.item.set_materials",
        actor=actor,
        object_type="service_item",
        object_ref=code,
        department_code=item.department.code,
        detail={"count": len(cleaned)},
    ):
        errors.raise_if_any()
        draft = _draft_of(item, actor)
        draft.materials.all().delete()
        return Material.objects.bulk_create(
            [Material(version=draft, position=i, **m) for i, m in enumerate(cleaned)]
        )


def publish_item(actor, code: str) -> ItemVersion:
    """Freeze the draft as the published version; the previous one is kept, superseded."""
    item = _access_for_change(actor, code)
    errors = FieldErrors()
    with audit.audited(
        "catalog.item.publish",
        actor=actor,
        object_type="service_item",
        object_ref=code,
        department_code=item.department.code,
    ) as entry:
        item = ServiceItem.objects.select_for_update().get(pk=item.pk)
        draft = item.versions.filter(status=VersionStatus.DRAFT).first()
        if draft is None:
            raise Conflict(_("There is no draft to publish."))
        _check_consistency(errors, draft, publishing=True)
        errors.raise_if_any()
        _publish_draft(item, actor, draft)
        entry.detail = {"version": draft.number}
    transaction.on_commit(_catalogue_changed)
    return draft


def _publish_draft(item: ServiceItem, actor, draft: ItemVersion | None = None) -> ItemVersion:
    draft = draft or item.versions.get(status=VersionStatus.DRAFT)
    previous = item.versions.filter(status=VersionStatus.PUBLISHED).first()
    if previous is not None:
        previous.mark_superseded()
    draft.status = VersionStatus.PUBLISHED
    draft.published_at = timezone.now()
    draft.published_by = getattr(actor, "user", None)
    draft.save()
    item.current = draft
    item.save(update_fields=["current"])
    return draft


def discard_draft(actor, code: str) -> None:
    item = _access_for_change(actor, code)
    with audit.audited(
        "catalog.item.discard_draft",
        actor=actor,
        object_type="service_item",
        object_ref=code,
        department_code=item.department.code,
    ):
        draft = item.versions.filter(status=VersionStatus.DRAFT).first()
        if draft is None:
            raise NotFound(_("There is no draft."))
        if item.versions.count() == 1:
            raise Conflict(_("The first version of an unpublished item cannot be discarded."))
        draft.materials.all().delete()
        draft.delete()


def _catalogue_changed() -> None:
    from . import search

    search.invalidate()


# --- bulk import ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based data row, as a spreadsheet user counts it after the header
    field: str
    code: str
    message: object


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


IMPORT_COLUMNS = ("code", "department_code", *ITEM_FIELDS)


def import_items(actor, rows: list[dict], *, publish: bool = True, source: str = "import") -> ImportReport:
    """Create or update many items from rows (one dict per row, keys as IMPORT_COLUMNS).

    All rows are checked first and every problem is reported (row, field, problem); if there is
    any, nothing is imported. Otherwise everything is written in one transaction: new items get a
    first version, changed items a new draft, and with `publish` the drafts are published.
    """
    report = ImportReport(rows=len(rows))
    departments = {d.code: d for d in Department.objects.all()}
    existing = {i.code: i for i in ServiceItem.objects.select_related("current", "department")}
    drafts = {v.item_id: v for v in ItemVersion.objects.filter(status=VersionStatus.DRAFT)}
    seen: dict[str, int] = {}
    prepared = []
    for number, row in enumerate(rows, start=1):
        errors = FieldErrors()
        code = str(row.get("code") or "").strip()
        if not CODE_PATTERN.match(code):
            errors.add("code", "format", _("Use 3–80 letters, digits, '.', '-' or '_'."))
        elif code in seen:
            errors.add(
                "code",
                "duplicate",
                Formatted(_("The same code appears in row %(row)s."), {"row": seen[code]}),
            )
        seen.setdefault(code, number)
        department = departments.get(str(row.get("department_code") or "").strip())
        if department is None:
            errors.add("department_code", "unknown", _("Unknown department."))
        elif not actor.can(perms.CATALOG_MANAGE, department):
            errors.add("department_code", "not_permitted", _("You may not manage this department's items."))
        given = {k: v for k, v in row.items() if k in ITEM_FIELDS and v not in (None, "")}
        unknown = set(row) - set(IMPORT_COLUMNS)
        for name in sorted(unknown):
            errors.add(name, "unknown", _("Unknown column."))
        item = existing.get(code)
        if item is not None and not actor.can(perms.CATALOG_MANAGE, item.department):
            errors.add("code", "not_permitted", _("You may not manage this department's items."))
        content = clean_item_fields(given, errors=errors, partial=item is not None)
        if item is None:
            _check_consistency(errors, ItemVersion(**content))
        elif (base := drafts.get(item.pk) or item.current) is not None:
            # The draft the row will change, as it will be: a row may make it inconsistent.
            merged = ItemVersion(**{name: getattr(base, name) for name in ITEM_FIELDS})
            for name, value in content.items():
                setattr(merged, name, value)
            _check_consistency(errors, merged)
        for name, problems in errors.fields.items():
            report.problems.extend(RowProblem(number, name, p.code, p.message) for p in problems)
        prepared.append((code, department, item, content))
    if report.problems:
        return report
    with audit.audited(
        "catalog.import",
        actor=actor,
        object_type="catalogue",
        object_ref=source,
        detail={"rows": len(rows), "publish": publish},
    ) as entry:
        user = getattr(actor, "user", None)
        now = timezone.now()
        # New items in three bulk statements: the whole district list imports in about a second.
        new = [(code, department, content) for code, department, item, content in prepared if item is None]
        created_items = ServiceItem.objects.bulk_create(
            [ServiceItem(code=code, department=department, source=source) for code, department, _c in new]
        )
        status = VersionStatus.PUBLISHED if publish else VersionStatus.DRAFT
        created_versions = ItemVersion.objects.bulk_create(
            [
                ItemVersion(
                    item=item,
                    number=1,
                    status=status,
                    created_by=user,
                    published_by=user if publish else None,
                    published_at=now if publish else None,
                    **content,
                )
                for item, (_code, _d, content) in zip(created_items, new, strict=True)
            ]
        )
        if publish:
            for item, version in zip(created_items, created_versions, strict=True):
                item.current = version
            ServiceItem.objects.bulk_update(created_items, ["current"])
        report.created = len(created_items)
        for _code, department, item, content in prepared:
            if item is None:
                continue
            base = item.current or item.versions.filter(status=VersionStatus.DRAFT).first()
            if (
                base is not None
                and all(getattr(base, k) == v for k, v in content.items())
                and item.department_id == department.id
            ):
                report.unchanged += 1
                continue
            if item.department_id != department.id:
                item.department = department
                item.save(update_fields=["department"])
            draft = _draft_of(item, actor)
            for name, value in content.items():
                setattr(draft, name, value)
            errors = FieldErrors()
            _check_consistency(errors, draft)
            errors.raise_if_any()
            draft.save()
            report.updated += 1
            if publish:
                _publish_draft(item, actor)
        entry.detail = {
            **entry.detail,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        }
    transaction.on_commit(_catalogue_changed)
    return report


# --- bundles (一件事一次办) ------------------------------------------------------------------------------


def create_bundle(
    actor,
    *,
    code: str,
    lead_department_code: str,
    name: str,
    item_codes: list[str],
    description: str = "",
    keywords: str = "",
    promised_limit_days=None,
    publish: bool = False,
) -> Bundle:
    """A bundle of published items; it pins each member's current version."""
    errors = FieldErrors()
    code = (code or "").strip()
    if not CODE_PATTERN.match(code):
        errors.add("code", "format", _("Use 3–80 letters, digits, '.', '-' or '_'."))
    elif Bundle.objects.filter(code=code).exists():
        errors.add("code", "exists", _("A bundle with this code exists."))
    department = Department.objects.filter(code=lead_department_code).first()
    if department is None:
        errors.add("lead_department_code", "unknown", _("Unknown department."))
        errors.raise_if_any()
    require(actor, perms.CATALOG_MANAGE, department)
    name = _text(errors, "name", name, 200)
    if not name:
        errors.add("name", "required", _("This field is required."))
    members = []
    if not isinstance(item_codes, list) or len(item_codes) < 2:
        errors.add("item_codes", "too_few", _("A bundle combines at least two items."))
    else:
        for item_code in item_codes:
            version = published_items().filter(item__code=item_code).first()
            if version is None:
                errors.add("item_codes", "unpublished", _("Every item of a bundle must be published."))
            elif version in members:
                errors.add("item_codes", "duplicate", _("Each item may appear once."))
            else:
                members.append(version)
    limit = _int(errors, "promised_limit_days", promised_limit_days, low=0, high=3650)
    with audit.audited(
        "catalog.bundle.create",
        actor=actor,
        object_type="bundle",
        object_ref=code,
        department_code=department.code,
        detail={"items": item_codes},
    ):
        errors.raise_if_any()
        bundle = Bundle.objects.create(code=code, lead_department=department)
        version = BundleVersion.objects.create(
            bundle=bundle,
            number=1,
            name=name,
            description=_text(errors, "description", description, 4000),
            keywords=_text(errors, "keywords", keywords, 400),
            promised_limit_days=limit,
            created_by=getattr(actor, "user", None),
        )
        BundleMember.objects.bulk_create(
            [BundleMember(bundle_version=version, position=i, item_version=v) for i, v in enumerate(members)]
        )
        if publish:
            version.status = VersionStatus.PUBLISHED
            version.published_at = timezone.now()
            version.published_by = getattr(actor, "user", None)
            version.save()
            bundle.current = version
            bundle.save(update_fields=["current"])
    transaction.on_commit(_catalogue_changed)
    return bundle


def get_published_bundle(code: str) -> BundleVersion:
    version = (
        BundleVersion.objects.filter(bundle__code=code, status=VersionStatus.PUBLISHED)
        .select_related("bundle", "bundle__lead_department")
        .first()
    )
    if version is None:
        raise NotFound()
    return version


@dataclass
class MergedForm:
    """One form for a whole bundle: each field and material asked once (一表申请)."""

    fields: list[dict] = field(default_factory=list)
    materials: list[dict] = field(default_factory=list)  # with "items": the item codes that need it
    asked_separately: int = 0  # how many questions the items would ask one by one
    # What a member issues and a later member would otherwise ask for ("营业执照" from 公司设立登记):
    # {"name", "by"} — not asked, since the applicant cannot have it before the bundle runs.
    produced: list[dict] = field(default_factory=list)

    @property
    def saved(self) -> int:
        return self.asked_separately - len(self.fields) - len(self.materials)


_merged_cache: dict[tuple, MergedForm] = {}


def merged_form(bundle_version: BundleVersion) -> MergedForm:
    """The bundle's one form. A published version never changes, so its form is computed once."""
    if bundle_version.status == VersionStatus.DRAFT:
        return _merge(bundle_version)
    key = (bundle_version.pk, bundle_version.published_at)
    merged = _merged_cache.get(key)
    if merged is None:
        merged = _merged_cache[key] = _merge(bundle_version)
    return merged


def clear_caches() -> None:
    """Forget cached forms and the search index (tests roll back rows whose ids come round again)."""
    from . import search

    _merged_cache.clear()
    search.invalidate()


# The identifier a licence brings with it: a company's unified social credit code is assigned when
# its business licence is issued (GB 32100), so a bundle that founds the company cannot ask for it.
IDENTIFIER_OF_LICENCE = {"business_licence": "uscc"}


def _merge(bundle_version: BundleVersion) -> MergedForm:
    merged = MergedForm()
    fields_by_key: dict[str, dict] = {}
    materials_by_key: dict[str, dict] = {}
    members = list(
        bundle_version.members.select_related("item_version__item").prefetch_related(
            "item_version__materials"
        )
    )
    # Members run in the bundle's order: what an earlier member issues, a later one need not be given
    # (the new owner's 不动产权属证书 for the utilities after 转移登记; the seller's, asked by 税费申报
    # before it, is still asked).
    producers: dict[str, ItemVersion] = {}
    produced_names: dict[str, str] = {}
    for member in members:
        version = member.item_version
        produced_fields = {IDENTIFIER_OF_LICENCE[t] for t in producers if t in IDENTIFIER_OF_LICENCE}
        for spec in version.form_fields:
            merged.asked_separately += 1
            if spec.get("type") in produced_fields:
                continue
            existing = fields_by_key.get(spec["key"])
            if existing is None:
                fields_by_key[spec["key"]] = {**spec, "items": [version.item.code]}
            else:
                existing["required"] = existing["required"] or spec["required"]
                existing["items"].append(version.item.code)
        for material in version.materials.all():
            merged.asked_separately += 1
            producer = producers.get(material.licence_type) if material.licence_type else None
            if producer is not None:
                produced_names.setdefault(material.name, producer.name)
                continue
            # The same licence or data source satisfies every item that asks for it; otherwise
            # materials are the same when they have the same name.
            key = f"licence:{material.licence_type}" if material.licence_type else f"name:{material.name}"
            existing = materials_by_key.get(key)
            if existing is None:
                materials_by_key[key] = {
                    "name": material.name,
                    "required": material.required,
                    "core": material.core,
                    "licence_type": material.licence_type,
                    "data_query": material.data_query,
                    "items": [version.item.code],
                }
            else:
                existing["required"] = existing["required"] or material.required
                existing["core"] = existing["core"] or material.core
                existing["items"].append(version.item.code)
        if version.licence_type:
            producers.setdefault(version.licence_type, version)
    merged.fields = list(fields_by_key.values())
    merged.materials = list(materials_by_key.values())
    merged.produced = [{"name": name, "by": by} for name, by in produced_names.items()]
    return merged
