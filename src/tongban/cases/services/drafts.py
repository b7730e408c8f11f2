"""暂存: online applications saved part-way and resumed, and files kept when a submission has problems.

A draft holds what the applicant typed, unchecked (a half-filled form is the point of a draft),
and the files they chose, checked and stored as materials are, so submitting hands them to
`apply_online` as if uploaded again. Only its owner ever sees it; it is purged
`TONGBAN_DRAFT_DAYS` after its last save.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.core import crypto
from tongban.core import files as file_store
from tongban.core.errors import FieldErrors, InvalidInput, NotFound, NotPermitted
from tongban.core.uow import current, use_case

from ..models import ApplicationDraft, Case
from ._base import _check_uploads, _store_uploads, _target
from .applying import apply_online

MAX_VALUE_LENGTH = 2000


def _file_context(owner_id: int) -> str:
    # A context per account: a draft's file is shared only with the same account's other drafts,
    # so discarding a draft can delete its files after checking those few.
    return f"cases.draft:{owner_id}"


@dataclass
class Draft:
    """A draft as the application page uses it: the owner's values, decrypted."""

    id: int
    item_code: str
    bundle_code: str
    title: str
    updated_at: dt.datetime
    expires_at: dt.datetime
    data: dict = field(default_factory=dict)
    enterprise_uscc: str = ""
    reuse_consent: bool = False
    commitment: bool = False
    files: dict = field(default_factory=dict)  # material → {file_ref, file_kind, file_name, file_size}
    idempotency_key: str = ""
    owner_id: int = 0

    @property
    def kind(self) -> str:
        return "item" if self.item_code else "bundle"

    @property
    def code(self) -> str:
        return self.item_code or self.bundle_code


def _can_apply(actor) -> bool:
    return getattr(actor, "person", None) is not None and getattr(actor, "user", None) is not None


def _owner(actor):
    if not _can_apply(actor):
        raise NotPermitted(_("Log in with a citizen account to apply."))
    return actor.user


def _expires(updated_at: dt.datetime) -> dt.datetime:
    return updated_at + dt.timedelta(days=settings.TONGBAN_DRAFT_DAYS)


def _view(row: ApplicationDraft) -> Draft:
    try:
        content = json.loads(row.content or "{}")
    except ValueError:
        content = {}
    return Draft(
        id=row.pk,
        item_code=row.item_code,
        bundle_code=row.bundle_code,
        title=row.title,
        updated_at=row.updated_at,
        expires_at=_expires(row.updated_at),
        data=content.get("data") or {},
        enterprise_uscc=content.get("enterprise_uscc") or "",
        reuse_consent=bool(content.get("reuse_consent")),
        commitment=bool(content.get("commitment")),
        files=content.get("files") or {},
        idempotency_key=row.idempotency_key,
        owner_id=row.owner_id,
    )


def _cutoff(now=None) -> dt.datetime:
    """Drafts last saved at or before this have expired."""
    return (now or timezone.now()) - dt.timedelta(days=settings.TONGBAN_DRAFT_DAYS)


def _live(owner, now=None):
    return ApplicationDraft.objects.filter(owner=owner, updated_at__gt=_cutoff(now))


def my_drafts(actor, *, now=None) -> list[Draft]:
    """The applicant's drafts, newest first (the 我的 centre lists them to resume). An account that
    cannot apply (no verified person yet, staff) has none, and its 我的 page still opens."""
    if not _can_apply(actor):
        return []
    return [_view(row) for row in _live(actor.user, now)]


def draft_for(actor, *, item_code: str = "", bundle_code: str = "", now=None) -> Draft | None:
    """The applicant's draft of this item or bundle, if they saved one."""
    row = _live(_owner(actor), now).filter(item_code=item_code, bundle_code=bundle_code).first()
    return _view(row) if row else None


def _loose_data(fields: list[dict], data) -> dict:
    """What a draft keeps of the form: the known fields' values as typed, unchecked but bounded."""
    if not isinstance(data, dict):
        raise InvalidInput.single("data", "invalid", _("The form must be an object of field values."))
    kept, errors = {}, FieldErrors()
    for spec in fields:
        value = data.get(spec["key"])
        if value in (None, "", []):
            continue
        if isinstance(value, bool):
            kept[spec["key"]] = value
            continue
        value = str(value)
        if len(value) > MAX_VALUE_LENGTH or "\x00" in value:
            errors.add(f"data.{spec['key']}", "max_length", _("The value is too long."))
            continue
        kept[spec["key"]] = value
    errors.raise_if_any()
    return kept


def _acceptable_uploads(target, files: dict) -> tuple[list, list[str]]:
    """Each new file checked on its own, so one bad file does not cost the applicant the good ones."""
    good, bad = [], []
    for name, upload in (files or {}).items():
        try:
            good += _check_uploads(target, {name: upload})
        except InvalidInput:
            bad.append(name)
    return good, bad


@use_case("cases.draft.save", object_type="application_draft")
def save_draft(
    actor,
    *,
    item_code: str = "",
    bundle_code: str = "",
    data: dict,
    enterprise_uscc: str = "",
    files: dict | None = None,
    remove: tuple | list = (),
    reuse_consent: bool = False,
    commitment: bool = False,
    strict_files: bool = True,
    now=None,
) -> Draft:
    """暂存: keep what the applicant has so far. New files are checked as at submission (a file that
    would be refused then is refused now, with the material named); `remove` drops kept files.
    With `strict_files=False` a bad file is left out instead, for keeping what can be kept after a
    submission with problems."""
    owner = _owner(actor)
    now = now or timezone.now()
    target = _target(item_code, bundle_code)
    errors = FieldErrors()
    kept_data = errors.collect(lambda: _loose_data(target.form_fields(), data)) or {}
    uscc = str(enterprise_uscc or "").strip()[:18]
    if strict_files:
        uploads = errors.collect(lambda: _check_uploads(target, files or {})) or []
    else:
        uploads, _bad = _acceptable_uploads(target, files or {})
    errors.raise_if_any()
    row = (
        ApplicationDraft.objects.select_for_update()
        .filter(owner=owner, item_code=item_code, bundle_code=bundle_code)
        .first()
    )
    if row is None:
        # Expired drafts are still rows until the purge: they do not count against the limit.
        if _live(owner, now).count() >= settings.TONGBAN_DRAFTS_PER_ACCOUNT:
            raise InvalidInput.single(
                "draft",
                "too_many",
                _("You have too many saved applications: submit or discard one first."),
            )
        row = ApplicationDraft(
            owner=owner,
            item_code=item_code,
            bundle_code=bundle_code,
            created_at=now,
            idempotency_key=secrets.token_urlsafe(24),
        )
        previous_files = {}
    else:
        previous_files = _view(row).files
    materials = {m["name"] for m in target.materials()}
    removed = set(remove)
    kept_files = {
        name: stored for name, stored in previous_files.items() if name in materials and name not in removed
    }
    kept_files.update(_store_uploads(uploads, context=_file_context(owner.pk)))
    dropped = {s["file_ref"] for s in previous_files.values()} - {s["file_ref"] for s in kept_files.values()}
    row.title = target.title[:200]
    row.updated_at = now
    row.content = json.dumps(
        {
            "data": kept_data,
            "enterprise_uscc": uscc,
            "reuse_consent": bool(reuse_consent),
            "commitment": bool(commitment),
            "files": kept_files,
        },
        ensure_ascii=False,
    )
    row.save()
    uow = current()
    if dropped:
        uow.after_commit(_delete_unused, owner.pk, dropped)
    uow.audit.object_ref = str(row.pk)
    uow.audit.detail = {"target": item_code or bundle_code, "files": len(kept_files)}
    return _view(row)


@use_case("cases.draft.discard", object_type="application_draft")
def discard_draft(actor, draft_id: int) -> None:
    """放弃草稿: only the owner can; anyone else is told it does not exist."""
    owner = _owner(actor)
    row = ApplicationDraft.objects.filter(pk=draft_id, owner=owner).first()
    if row is None:
        raise NotFound()
    refs = {s["file_ref"] for s in _view(row).files.values()}
    row.delete()
    uow = current()
    uow.audit.object_ref = str(draft_id)
    if refs:
        uow.after_commit(_delete_unused, owner.pk, refs)


def _delete_unused(owner_id: int, refs: set[str]) -> None:
    """Delete a draft's stored files that none of the account's other drafts still holds."""
    for row in ApplicationDraft.objects.filter(owner_id=owner_id):
        refs = refs - {s["file_ref"] for s in _view(row).files.values()}
    for ref in refs:
        with contextlib.suppress(NotFound):
            file_store.remove(ref)


def kept_files(draft: Draft | None, *, skip=()) -> dict[str, tuple[str, bytes]]:
    """The draft's stored files as `apply_online` takes uploads: {material: (file name, bytes)}."""
    if draft is None:
        return {}
    found = {}
    for name, stored in draft.files.items():
        if name in skip:
            continue
        try:
            content = file_store.load(stored["file_ref"], context=_file_context(draft.owner_id))
        except (NotFound, KeyError, TypeError, crypto.DecryptionError):
            continue  # a file gone from the store is simply not kept; the applicant is asked for it
        found[name] = (stored["file_name"], content)
    return found


def apply_with_draft(
    actor,
    *,
    item_code: str = "",
    bundle_code: str = "",
    data: dict,
    enterprise_uscc: str = "",
    files: dict | None = None,
    remove: tuple | list = (),
    idempotency_key: str = "",
    commitment: bool = False,
    reuse_consent: bool = False,
    now=None,
) -> Case:
    """Submit an application together with what its draft kept (files chosen earlier), then drop the
    draft. When the submission has problems, what can be kept is saved as the draft (the form as
    typed and every acceptable file), so the applicant never chooses a file twice; the problems are
    raised as they were."""
    draft = draft_for(actor, item_code=item_code, bundle_code=bundle_code)
    files = dict(files or {})
    all_files = kept_files(draft, skip=set(remove) | set(files))
    all_files.update(files)
    try:
        case = apply_online(
            actor,
            item_code=item_code,
            bundle_code=bundle_code,
            data=data,
            enterprise_uscc=enterprise_uscc,
            idempotency_key=draft.idempotency_key if draft else idempotency_key,
            files=all_files,
            commitment=commitment,
            reuse_consent=reuse_consent,
            now=now,
        )
    except InvalidInput:
        # Nothing may be keepable (too many drafts, a value too long): the problems then stand alone.
        with contextlib.suppress(InvalidInput):
            save_draft(
                actor,
                item_code=item_code,
                bundle_code=bundle_code,
                data=data,
                enterprise_uscc=enterprise_uscc,
                files=files,
                remove=remove,
                reuse_consent=reuse_consent,
                commitment=commitment,
                strict_files=False,
                now=now,
            )
        raise
    if draft is not None:
        discard_draft(actor, draft.id)
    return case


def purge_expired_drafts(*, now=None) -> int:
    """Drafts nobody saved for `TONGBAN_DRAFT_DAYS` are deleted, with their stored files unless
    another draft of the same account holds them (equal content shares one stored file)."""
    expired = list(ApplicationDraft.objects.filter(updated_at__lte=_cutoff(now)))
    for row in expired:
        row.delete()
        _delete_unused(row.owner_id, {s["file_ref"] for s in _view(row).files.values()})
    return len(expired)
