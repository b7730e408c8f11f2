"""Use cases of a case: apply, accept, work on it, pause it, decide, issue, follow it up.

Each function is one transaction: the case, its process (through tongban.workflow), its domain
events and the audit journal change together or not at all. Reading a case is allowed to its
applicant (or a representative of the enterprise it is for), to window clerks, and to staff of
a department the case involves; everyone else is told it does not exist.

The use cases live in modules by stage (applying, handling, pauses, results, followup) over
shared internals (_base); callers use them through this package, `cases.services.<function>`.
"""

from . import _base, applying, prechecks, tables
from ._base import (
    CLOSED_STATUSES,
    MATERIAL_CONTEXT,
    WINDOW_QUEUES,
    ApplicationForm,
    access_case,
    application_form,
    can_see,
    clean_form,
    current_due,
    due_date,
    ensure_process,
    list_my_cases,
    open_work,
    process_key,
    status_colour,
    window_queue,
)
from .applying import (
    COMMITMENT_TEXT,
    accept,
    accept_at_window,
    apply_online,
    auto_approval_table,
    case_signed_at,
    commitment_digest,
    commitment_text,
    refuse,
    reuse_preview,
)
from .drafts import (
    Draft,
    apply_with_draft,
    discard_draft,
    draft_for,
    kept_files,
    my_drafts,
    purge_expired_drafts,
    save_draft,
)
from .figures import ExemptionRate, exemption_rate
from .followup import (
    complete_inspection,
    complete_rectification,
    rate,
    remind_work,
    sweep,
)
from .handling import (
    BATCH_CLAIM_LIMIT,
    WORKLIST_COUNT_CAP,
    DoneRowView,
    WorkRowView,
    add_countersigner,
    claim_many,
    claim_work,
    complete_work,
    deliver_message,
    done_list,
    export_done,
    export_worklist,
    return_notes,
    return_work,
    transfer_work,
    worklist,
)
from .lookup import PublicProgress, public_progress
from .overview import MyOverview, my_overview
from .pauses import (
    alert_overdue_gaps,
    end_procedure,
    request_supplement,
    respond_supplement,
    start_procedure,
    supply_material,
)
from .results import (
    ADDRESS_CONTEXT,
    DELIVERY,
    CaseDetail,
    case_detail,
    decision_document,
    document_number,
    document_pdf,
    hand_over_licence,
    issue,
    material_file,
    record_document,
    revoke_case_licences,
    withdraw,
)


def clear_caches() -> None:
    """Forget cached catalogue versions and rule tables (tests roll back the rows they came from)."""
    _base.clear_caches()
    applying.clear_tables()


__all__ = [
    "ADDRESS_CONTEXT",
    "BATCH_CLAIM_LIMIT",
    "CLOSED_STATUSES",
    "COMMITMENT_TEXT",
    "DELIVERY",
    "MATERIAL_CONTEXT",
    "WINDOW_QUEUES",
    "WORKLIST_COUNT_CAP",
    "ApplicationForm",
    "CaseDetail",
    "DoneRowView",
    "Draft",
    "ExemptionRate",
    "MyOverview",
    "PublicProgress",
    "WorkRowView",
    "accept",
    "accept_at_window",
    "access_case",
    "add_countersigner",
    "alert_overdue_gaps",
    "application_form",
    "apply_online",
    "apply_with_draft",
    "auto_approval_table",
    "can_see",
    "case_detail",
    "case_signed_at",
    "claim_many",
    "claim_work",
    "clean_form",
    "clear_caches",
    "commitment_digest",
    "commitment_text",
    "complete_inspection",
    "complete_rectification",
    "complete_work",
    "current_due",
    "decision_document",
    "deliver_message",
    "discard_draft",
    "document_number",
    "document_pdf",
    "done_list",
    "draft_for",
    "due_date",
    "end_procedure",
    "ensure_process",
    "exemption_rate",
    "export_done",
    "export_worklist",
    "hand_over_licence",
    "issue",
    "kept_files",
    "list_my_cases",
    "material_file",
    "my_drafts",
    "my_overview",
    "open_work",
    "prechecks",
    "process_key",
    "public_progress",
    "purge_expired_drafts",
    "rate",
    "record_document",
    "refuse",
    "remind_work",
    "request_supplement",
    "respond_supplement",
    "return_notes",
    "return_work",
    "reuse_preview",
    "revoke_case_licences",
    "save_draft",
    "start_procedure",
    "status_colour",
    "supply_material",
    "sweep",
    "tables",
    "transfer_work",
    "window_queue",
    "withdraw",
    "worklist",
]
