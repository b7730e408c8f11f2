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
# v2: the retention period it was filed under and the first day it may be disposed of (None when
# kept for good); archives of v1 carried no detail and predate retention.
events.activity(
    ARCHIVED,
    _("archived (归档)"),
    subject_kind=KIND,
    app=APP,
    version=2,
    detail={"retention?": "str", "until?": "str"},
    upgrades={1: lambda detail: {"retention": None, "until": None, **detail}},
)
DISPOSED = "document.disposed"
_activity(
    DISPOSED,
    _("retention ended: disposed of or kept longer (鉴定处置)"),
    decision="str",
    reason="str",
    retention="str",
)

# The outgoing process (document:outgoing): every step's outcome, with its opinion.
STEP_DONE = "document.step_done"
SIGNED_OFF = "document.signed_off"
NUMBERED = "document.numbered"
STEP_RETURNED = "document.step_returned"
WITHDRAWN = "document.withdrawn"
REMINDED = "document.reminded"
DISTRIBUTED = "document.distributed"

_activity(STEP_DONE, _("document step done, with its opinion"), step="str", decision="str", opinion="str")
_activity(SIGNED_OFF, _("signed off (签发)"), version="int")
_activity(NUMBERED, _("numbered (编号)"), number="str", serial="int", year="int")
_activity(STEP_RETURNED, _("step returned (退回)"), step="str", opinion="str")
_activity(WITHDRAWN, _("withdrawn by the drafter (撤回)"), reason="str")
_activity(REMINDED, _("reminder sent (催办)"), step="str")
_activity(DISTRIBUTED, _("distributed (分发)"), main="list", cc="list")

# 收文: a received document at the receiving agency.
RECEIPT_KIND = "received_document"
events.subject_kind(RECEIPT_KIND, _("received document (收文)"), app=APP)


def _receipt_activity(code: str, label, **detail: str) -> None:
    events.activity(code, label, subject_kind=RECEIPT_KIND, app=APP, detail=detail)


RECEIPT_SIGNED_FOR = "received.signed_for"
RECEIPT_READ = "received.read"
RECEIPT_STEP_DONE = "received.step_done"
RECEIPT_ARCHIVED = "received.archived"

_receipt_activity(RECEIPT_SIGNED_FOR, _("signed for (签收)"), document="str")
_receipt_activity(RECEIPT_READ, _("read (传阅)"))
_receipt_activity(RECEIPT_STEP_DONE, _("incoming step done, with its opinion"), step="str", opinion="str")
_receipt_activity(RECEIPT_ARCHIVED, _("received document archived (归档)"))

# 督查督办: supervised tasks from leaders' instructions.
TASK_KIND = "supervised_task"
events.subject_kind(TASK_KIND, _("supervised task (督办事项)"), app=APP)


def _task_activity(code: str, label, **detail: str) -> None:
    events.activity(code, label, subject_kind=TASK_KIND, app=APP, detail=detail)


TASK_CREATED = "supervision.created"
TASK_REPORTED = "supervision.reported"
TASK_CLOSED = "supervision.closed"
TASK_NOTICE = "supervision.notice"

_task_activity(TASK_CREATED, _("instruction (批示) put under supervision"), limit_days="int", lead="str")
_task_activity(TASK_REPORTED, _("progress reported"))
_task_activity(TASK_CLOSED, _("supervised task closed (办结)"), on_time="bool")
_task_activity(TASK_NOTICE, _("supervision notice issued (督办通知)"))
