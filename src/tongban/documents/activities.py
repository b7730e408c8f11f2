"""What can happen to an official document (公文), as registered on the core event log."""

from django.utils.translation import gettext_lazy as _

from tongban.core import events

KIND = "document"
APP = "documents"

events.subject_kind(KIND, _("official document (公文)"), app=APP)


def _activity(code: str, label, nullable: dict[str, str] | None = None, **detail: str) -> None:
    detail.update({f"{key}?": kind for key, kind in (nullable or {}).items()})
    events.activity(code, label, subject_kind=KIND, app=APP, detail=detail)


DRAFTED = "document.drafted"
SAVED = "document.saved"
SIGNED = "document.signed"
NUMBER_VOIDED = "document.number_voided"
SEALED = "document.sealed"
ISSUED = "document.issued"
ARCHIVED = "document.archived"

_activity(DRAFTED, _("document drafted (起草)"), doc_type="str", version="int")
_activity(SAVED, _("draft saved (new version)"), version="int", changed="list")
_activity(
    SIGNED, _("signed off (签发) and numbered (编号)"), number="str", serial="int", year="int", version="int"
)
_activity(NUMBER_VOIDED, _("document number voided (作废文号)"), number="str", reason="str")
_activity(SEALED, _("sealed (用印)"), seal="str", digest="str")
_activity(ISSUED, _("issued (印发)"))
_activity(ARCHIVED, _("archived (归档)"))
