"""What happens to a work item, whatever its process is about (a case, a work order, a document).

Registered on the core event log for every subject kind (events.ANY_KIND) when Django starts
(WorkflowConfig.ready). A step is written as "work:<step name>": names are the administrators'
(they come from the BPMN), so the steps are one family rather than one activity each.
"""

from django.utils.translation import gettext_lazy as _

from tongban.core import events

_ACTIVITIES = (
    ("work:", _("Step"), {"node": "str", "role": "str", "decision": "str", "due": "str"}),
    ("work.returned", _("Returned to the previous step"), {"node": "str", "to": "str"}),
    ("work.transferred", _("Transferred"), {"node": "str", "to": "str"}),
    ("work.countersigner_added", _("Countersigner added"), {"node": "str", "user": "str"}),
    ("work.reminded", _("Reminder (催办)"), {"stage": "int", "recipients": "int", "manual": "bool"}),
    ("work.escalated", _("Escalated (overdue)"), {"stage": "int", "recipients": "int"}),
)


def register() -> None:
    for code, label, detail in _ACTIVITIES:
        # Steps and their reminders are for staff: the applicant's timeline words its own steps.
        events.activity(
            code,
            label,
            subject_kind=events.ANY_KIND,
            app="workflow",
            detail=detail,
            audiences={"applicant": None},
        )
