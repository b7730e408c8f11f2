"""What each role may do. Services check these permissions; nothing else grants access.

A permission is either *scoped* (it applies to objects of the department a role is held in,
and of its sub-tree when the assignment says so) or *global* (holding the role anywhere is
enough, e.g. looking up an applicant by ID number at a window). Later apps add their
permissions here.
"""

from .models import Role

# Scoped: the object's department must fall inside the assignment's scope.
STAFF_VIEW = "staff.view"
STAFF_MANAGE = "staff.manage"
ORG_MANAGE = "org.manage"
CATALOG_MANAGE = "catalog.manage"  # edit and publish the items of a department
CASE_VIEW = "case.view"  # see the cases a department is involved in
LICENCE_ISSUE = "licence.issue"  # issue and revoke the licences a department signs
# Deliver a message from another system to the process of a case of the department (a payment
# confirmed, a certificate issued elsewhere): held by the accounts those systems call the API with.
CASE_MESSAGE = "case.message"

# Global: any assignment of a role carrying them is enough.
ORG_VIEW = "org.view"
PERSON_LOOKUP = "person.lookup"
PERSON_REGISTER = "person.register"
PERSON_LIST = "person.list"
PERSON_REVEAL = "person.reveal"
ENTERPRISE_LOOKUP = "enterprise.lookup"
ENTERPRISE_REGISTER = "enterprise.register"
AUDIT_VIEW = "audit.view"
AUDIT_VERIFY = "audit.verify"
CALENDAR_MANAGE = "calendar.manage"
TOKEN_MANAGE = "token.manage"  # noqa: S105  (a permission name)
CASE_ACCEPT = "case.accept"  # take applications at a window, and issue results
WORK_SUPERVISE = "work.supervise"  # overdue lists, reminders (催办) and escalations of a department
IDENTITY_VERIFY = "identity.verify"  # check a person's ID card in person (L3), settle identity claims
# Data sharing (exchange): scoped to the providing or consuming department; the authority is global.
EXCHANGE_PROVIDE = "exchange.provide"  # run a department's data resources, approve grants on them
EXCHANGE_REQUEST = "exchange.request"  # request grants for a department
EXCHANGE_QUERY = "exchange.query"  # query shared data under the department's grants
EXCHANGE_AUTHORITY = "exchange.authority"  # the data authority: second approval, negative list, all calls
INSIGHT_ANALYSE = "insight.analyse"  # import event logs, mine processes, simulate redesigns (效能监察)
INSIGHT_COCKPIT = "insight.cockpit"  # the leaders' cockpit (领导驾驶舱) of the departments in scope
# 12345 hotline: the centre takes, dispatches, reviews and calls back every order (global); a
# department handles the orders dispatched to it (scoped); supervisors read orders and rates.
HOTLINE_CENTRE = "hotline.centre"
HOTLINE_HANDLE = "hotline.handle"
HOTLINE_VIEW = "hotline.view"
# Official documents (公文), all scoped: read a department's documents; draft and edit them in the
# drafting section; sign them off (签发, the agency's leader) — which also gives the 发文字号.
DOCUMENT_VIEW = "document.view"
DOCUMENT_DRAFT = "document.draft"
DOCUMENT_SIGN = "document.sign"
# Reform programme office (流程再造进度管理): planners keep the plans of programmes led by a
# department in their scope; task owners report on the tasks their department owns; heads read.
PROGRAMME_PLAN = "programme.plan"
PROGRAMME_REPORT = "programme.report"
PROGRAMME_VIEW = "programme.view"
# Proactive services: keep a department's policies (eligibility rules, 免申即享), run matching under
# its data grants, and review contested grants.
POLICY_MANAGE = "policy.manage"

SCOPED = frozenset(
    {
        STAFF_VIEW,
        STAFF_MANAGE,
        ORG_MANAGE,
        CATALOG_MANAGE,
        CASE_VIEW,
        WORK_SUPERVISE,
        LICENCE_ISSUE,
        CASE_MESSAGE,
    }
    | {EXCHANGE_PROVIDE, EXCHANGE_REQUEST, EXCHANGE_QUERY, HOTLINE_HANDLE}
    | {DOCUMENT_VIEW, DOCUMENT_DRAFT, DOCUMENT_SIGN}
    | {PROGRAMME_PLAN, PROGRAMME_REPORT, PROGRAMME_VIEW}
    | {POLICY_MANAGE, INSIGHT_COCKPIT}
)
_DOCUMENT_STAFF = {DOCUMENT_VIEW, DOCUMENT_DRAFT}
_EXCHANGE_ALL = {EXCHANGE_PROVIDE, EXCHANGE_REQUEST, EXCHANGE_QUERY, EXCHANGE_AUTHORITY}
_EXCHANGE_HEAD = {EXCHANGE_PROVIDE, EXCHANGE_REQUEST, EXCHANGE_QUERY}

_EVERY_STAFF = {ORG_VIEW, STAFF_VIEW}
_PROGRAMME_OWNER = {PROGRAMME_REPORT, PROGRAMME_VIEW}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.CLERK: frozenset(
        _EVERY_STAFF
        | {PERSON_LOOKUP, PERSON_REGISTER, PERSON_REVEAL, ENTERPRISE_LOOKUP, ENTERPRISE_REGISTER, CASE_ACCEPT}
        | {EXCHANGE_QUERY, IDENTITY_VERIFY}
    ),
    Role.REVIEWER: frozenset(
        _EVERY_STAFF
        | {PERSON_LOOKUP, ENTERPRISE_LOOKUP, CASE_VIEW, EXCHANGE_QUERY, HOTLINE_HANDLE, CASE_MESSAGE}
        | _DOCUMENT_STAFF
        | {PROGRAMME_REPORT}
    ),
    Role.SECTION_HEAD: frozenset(
        _EVERY_STAFF
        | {PERSON_LOOKUP, ENTERPRISE_LOOKUP, CASE_VIEW, WORK_SUPERVISE, LICENCE_ISSUE, HOTLINE_HANDLE}
        | _EXCHANGE_HEAD
        | {POLICY_MANAGE}
        | _DOCUMENT_STAFF
        | _PROGRAMME_OWNER
    ),
    Role.DIVISION_HEAD: frozenset(
        _EVERY_STAFF
        | {PERSON_LOOKUP, ENTERPRISE_LOOKUP, CASE_VIEW, WORK_SUPERVISE, LICENCE_ISSUE, HOTLINE_HANDLE}
        | _EXCHANGE_HEAD
        | {POLICY_MANAGE}
        | _DOCUMENT_STAFF
        | _PROGRAMME_OWNER
        | {INSIGHT_COCKPIT}
    ),
    Role.BUREAU_HEAD: frozenset(
        _EVERY_STAFF
        | {PERSON_LOOKUP, ENTERPRISE_LOOKUP, CASE_VIEW, WORK_SUPERVISE, LICENCE_ISSUE, HOTLINE_HANDLE}
        | _EXCHANGE_HEAD
        | {POLICY_MANAGE}
        | _DOCUMENT_STAFF
        | {DOCUMENT_SIGN}
        | _PROGRAMME_OWNER
        | {INSIGHT_COCKPIT}
    ),
    Role.SUPERVISOR: frozenset(
        _EVERY_STAFF
        | {AUDIT_VIEW, AUDIT_VERIFY, CASE_VIEW, WORK_SUPERVISE, INSIGHT_ANALYSE, HOTLINE_VIEW, DOCUMENT_VIEW}
        | {PROGRAMME_PLAN, PROGRAMME_VIEW, INSIGHT_COCKPIT}
    ),
    Role.HOTLINE_OPERATOR: frozenset(_EVERY_STAFF | {HOTLINE_CENTRE, HOTLINE_VIEW}),
    Role.DATA_OFFICER: frozenset(
        _EVERY_STAFF
        | {CATALOG_MANAGE, CASE_VIEW, INSIGHT_ANALYSE, PROGRAMME_VIEW, POLICY_MANAGE}
        | _EXCHANGE_ALL
    ),
    Role.ADMIN: frozenset(
        _EVERY_STAFF
        | {
            STAFF_MANAGE,
            ORG_MANAGE,
            CATALOG_MANAGE,
            CASE_VIEW,
            CASE_ACCEPT,
            PERSON_LOOKUP,
            PERSON_REGISTER,
            PERSON_LIST,
            PERSON_REVEAL,
            ENTERPRISE_LOOKUP,
            ENTERPRISE_REGISTER,
            IDENTITY_VERIFY,
            AUDIT_VIEW,
            AUDIT_VERIFY,
            CALENDAR_MANAGE,
            TOKEN_MANAGE,
            INSIGHT_ANALYSE,
            INSIGHT_COCKPIT,
            PROGRAMME_PLAN,
            PROGRAMME_VIEW,
        }
    ),
}

# Heads see their whole sub-tree by default; a clerk or reviewer only their own section.
SUBTREE_BY_DEFAULT = frozenset(
    {Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.BUREAU_HEAD, Role.SUPERVISOR, Role.DATA_OFFICER, Role.ADMIN}
)
