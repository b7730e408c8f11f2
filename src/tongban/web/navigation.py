"""The left navigation. Each entry names the permission (or kind of user) that makes it appear, so
staff see only what their roles allow; the services still check every request themselves."""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms


@dataclass(frozen=True)
class NavItem:
    label: object
    url_name: str
    permission: str | None = None
    kinds: tuple[str, ...] = ()  # user kinds that see it regardless of permissions
    admin_site: bool = False


@dataclass(frozen=True)
class NavGroup:
    label: object
    items: tuple[NavItem, ...] = field(default_factory=tuple)


NAVIGATION = (
    NavGroup(_("Workbench"), (NavItem(_("Home"), "web:home", kinds=("citizen", "staff")),)),
    NavGroup(
        _("My affairs"),
        (
            NavItem(_("Services"), "catalog:portal", kinds=("citizen",)),
            NavItem(_("Guide assistant"), "guide:assistant", kinds=("citizen",)),
            NavItem(_("My cases"), "cases:my_cases", kinds=("citizen",)),
            NavItem(_("My enterprises"), "accounts:my_enterprises", kinds=("citizen",)),
            NavItem(_("Policies for my enterprises"), "proactive:mine", kinds=("citizen",)),
            NavItem(_("My licences"), "licences:wallet", kinds=("citizen",)),
            NavItem(_("12345 hotline"), "hotline:my_orders", kinds=("citizen",)),
            NavItem(_("Public consultations"), "programme:consultation_list", kinds=("citizen",)),
        ),
    ),
    NavGroup(
        _("12345 hotline"),
        (
            NavItem(_("Take a call"), "hotline:console", perms.HOTLINE_CENTRE),
            NavItem(_("Work orders"), "hotline:order_list", perms.HOTLINE_VIEW),
            NavItem(_("Work orders"), "hotline:order_list", perms.HOTLINE_HANDLE),
            NavItem(_("Three rates"), "hotline:rates", perms.HOTLINE_VIEW),
            NavItem(_("Three rates"), "hotline:rates", perms.HOTLINE_HANDLE),
            NavItem(_("Hotspots"), "hotline:hotspots", perms.HOTLINE_VIEW),
            NavItem(_("Hotspots"), "hotline:hotspots", perms.HOTLINE_CENTRE),
        ),
    ),
    NavGroup(
        _("Official documents"),
        (
            NavItem(_("Documents to handle"), "documents:worklist", perms.DOCUMENT_VIEW),
            NavItem(_("All documents"), "documents:list", perms.DOCUMENT_VIEW),
            NavItem(_("Received documents (收文)"), "documents:received", perms.DOCUMENT_VIEW),
            NavItem(_("Archive (归档)"), "documents:archive", perms.DOCUMENT_VIEW),
            NavItem(_("Full-text search"), "documents:search", perms.DOCUMENT_VIEW),
            NavItem(_("Supervision (督查督办)"), "documents:tasks", perms.DOCUMENT_VIEW),
            NavItem(_("Supervision (督查督办)"), "documents:tasks", perms.WORK_SUPERVISE),
            NavItem(_("Verify a sealed document"), "documents:verify", perms.DOCUMENT_VIEW),
        ),
    ),
    NavGroup(
        _("Window"),
        (
            NavItem(_("Window queue"), "cases:window_queue", perms.CASE_ACCEPT),
            NavItem(_("Accept an application on behalf"), "cases:window_apply", perms.CASE_ACCEPT),
            NavItem(_("Find applicant"), "accounts:person_lookup", perms.PERSON_LOOKUP),
            NavItem(_("Register applicant"), "accounts:person_register", perms.PERSON_REGISTER),
            NavItem(_("Identity claims"), "accounts:identity_claims", perms.IDENTITY_VERIFY),
            NavItem(_("Scan a licence"), "licences:scan", perms.CASE_ACCEPT),
        ),
    ),
    NavGroup(
        _("Back office"),
        (
            NavItem(_("Worklist"), "cases:worklist", perms.CASE_VIEW),
            NavItem(_("Handled"), "cases:done", perms.CASE_VIEW),
            NavItem(_("Frequent opinions"), "cases:opinions", perms.CASE_VIEW),
            NavItem(_("Overdue steps"), "cases:overdue", perms.WORK_SUPERVISE),
        ),
    ),
    NavGroup(
        _("Service catalogue"),
        (
            NavItem(_("Items"), "catalog:manage_list", perms.CATALOG_MANAGE),
            NavItem(_("Process definitions"), "workflow:definition_list", perms.CATALOG_MANAGE),
            NavItem(_("Public guides"), "catalog:portal", kinds=("staff",)),
        ),
    ),
    NavGroup(
        _("Data sharing"),
        (
            NavItem(_("Resource catalogue"), "exchange:resource_list", perms.EXCHANGE_QUERY),
            NavItem(_("Grants"), "exchange:grant_list", perms.EXCHANGE_QUERY),
            NavItem(_("Call log"), "exchange:call_log", perms.EXCHANGE_QUERY),
            NavItem(_("Negative list"), "exchange:negative_list", perms.EXCHANGE_AUTHORITY),
            NavItem(_("Policies and matching"), "proactive:manage", perms.POLICY_MANAGE),
        ),
    ),
    NavGroup(
        _("Organisation"),
        (
            NavItem(_("Departments"), "accounts:departments", perms.ORG_VIEW),
            NavItem(_("Staff"), "accounts:staff_list", perms.STAFF_VIEW),
            NavItem(_("Windows"), "accounts:windows", perms.ORG_VIEW),
        ),
    ),
    NavGroup(
        _("Supervision"),
        (
            NavItem(_("Leaders' cockpit"), "insight:cockpit", perms.INSIGHT_COCKPIT),
            NavItem(_("Efficiency dashboard"), "insight:dashboard", perms.INSIGHT_ANALYSE),
            NavItem(_("Process mining"), "insight:log_list", perms.INSIGHT_ANALYSE),
            NavItem(_("Redesigns"), "insight:redesigns", perms.INSIGHT_ANALYSE),
            NavItem(_("Reform programmes"), "programme:list", perms.PROGRAMME_PLAN),
            NavItem(_("Reform programmes"), "programme:list", perms.PROGRAMME_VIEW),
            NavItem(_("Reform programmes"), "programme:list", perms.PROGRAMME_REPORT),
            NavItem(_("Public consultations"), "programme:consultation_manage_list", perms.PROGRAMME_PLAN),
            NavItem(_("Public consultations"), "programme:consultation_manage_list", perms.PROGRAMME_VIEW),
            NavItem(_("Audit journal"), "core:audit", perms.AUDIT_VIEW),
        ),
    ),
    NavGroup(
        _("System"),
        (
            NavItem(_("Working-day calendar"), "core:calendar", kinds=("staff",)),
            NavItem(_("Administration"), "admin:index", admin_site=True),
        ),
    ),
    NavGroup(
        _("Account"),
        (
            NavItem(_("Messages"), "accounts:inbox", kinds=("citizen", "staff")),
            NavItem(_("Account and security"), "accounts:profile", kinds=("citizen", "staff")),
            NavItem(_("Identity verification (实名认证)"), "accounts:identity", kinds=("citizen",)),
        ),
    ),
)


def navigation_for(actor, current_path: str) -> list[dict]:
    groups = []
    for group in NAVIGATION:
        items = []
        for item in group.items:
            visible = (
                (item.permission and actor.can(item.permission))
                or (actor.is_authenticated and actor.user is not None and actor.user.kind in item.kinds)
                or (item.admin_site and actor.user is not None and actor.user.is_staff)
            )
            if visible:
                url = reverse(item.url_name)
                if any(i["url"] == url for i in items):
                    continue  # an entry listed once per permission that shows it
                active = current_path == url if url == "/" else current_path.startswith(url)
                items.append({"label": item.label, "url": url, "active": active})
        # Only the most specific entry is current (/work/overdue is not also /work/).
        current = [i for i in items if i["active"]]
        if len(current) > 1:
            longest = max(current, key=lambda i: len(i["url"]))
            for i in current:
                i["active"] = i is longest
        if items:
            groups.append({"label": group.label, "items": items})
    return groups
