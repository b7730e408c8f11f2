"""Staff screens for process definitions: the list, one definition with its diagram, its BPMN XML,
and uploading a new version. Every read and write goes through workflow.services, which checks that
the caller manages the catalogue of the definition's department."""

import re
from collections import deque

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tongban.accounts import roles as perms
from tongban.accounts.models import Department
from tongban.core.authz import actor_for_request, require
from tongban.core.errors import InvalidInput, NotAuthenticated, NotPermitted
from tongban.core.http import apply_errors, domain_errors

from . import services
from .forms import DefinitionFilterForm, DefinitionUploadForm
from .models import ProcessDefinition

NODE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,119}")
MAX_MARKED = 50
STEP_KINDS = ("start", "user", "script", "rule", "call", "catch", "timer", "end")


def _actor(request):
    actor = actor_for_request(request)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return actor


def _managed_departments(actor) -> list[Department]:
    return [d for d in Department.objects.order_by("path") if actor.can(perms.CATALOG_MANAGE, d)]


def _node_ids(values) -> list[str]:
    """Node ids from query parameters (repeated or comma-separated), keeping only well-formed ones."""
    ids: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if NODE_ID.fullmatch(part) and part not in ids:
                ids.append(part)
    return ids[:MAX_MARKED]


# --- the diagram partial -------------------------------------------------------------------------------


def diagram_context(definition: ProcessDefinition, *, xml_url: str, current=(), completed=()) -> dict:
    """What web/_process_diagram.html needs: where the XML is, which nodes to mark, and the steps in
    flow order as text (for screen readers, and for browsers without JavaScript).

    `current` and `completed` are BPMN element ids; a case page passes the node ids of its open and
    finished work items. Ids the diagram does not have are ignored by the viewer.
    """
    current, completed = list(current), [c for c in completed if c not in current]
    graph = services.graph_of(definition)
    steps = []
    seen, queue = {graph.start}, deque([graph.start])
    while queue:
        node = graph.nodes[queue.popleft()]
        if node.kind in STEP_KINDS:
            state = "current" if node.id in current else "completed" if node.id in completed else ""
            steps.append({"id": node.id, "name": node.name or node.id, "kind": node.kind, "state": state})
        for flow in graph.outgoing.get(node.id, ()):
            if flow.target not in seen:
                seen.add(flow.target)
                queue.append(flow.target)
    return {
        "xml_url": xml_url,
        "current": " ".join(current),
        "completed": " ".join(completed),
        "steps": steps,
        "name": definition.name or definition.key,
    }


# --- screens -------------------------------------------------------------------------------------------


@require_GET
@domain_errors
def definition_list(request):
    actor = _actor(request)
    require(actor, perms.CATALOG_MANAGE)
    params = request.GET.copy()
    params.setdefault("status", "published")  # current versions unless asked; "" means every version
    form = DefinitionFilterForm(params, departments=_managed_departments(actor))
    form.is_valid()
    data = getattr(form, "cleaned_data", {}) or {}
    rows = services.list_definitions(
        actor,
        query=data.get("q", ""),
        status=data.get("status", ""),
        department_code=data.get("department", ""),
    )
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    params.pop("page", None)
    return render(
        request, "workflow/definition_list.html", {"form": form, "page": page, "query": params.urlencode()}
    )


@require_GET
@domain_errors
def definition_detail(request, key):
    actor = _actor(request)
    version = request.GET.get("version", "")
    definition = services.access_definition(actor, key, int(version) if version.isdigit() else None)
    versions = services.definition_versions(actor, key)
    xml_url = reverse("workflow:definition_xml", args=[definition.key, definition.version])
    return render(
        request,
        "workflow/definition_detail.html",
        {
            "definition": definition,
            "versions": versions,
            "latest": versions[0] if versions else definition,
            "xml_url": xml_url,
            "diagram": diagram_context(
                definition,
                xml_url=xml_url,
                current=_node_ids(request.GET.getlist("highlight")),
                completed=_node_ids(request.GET.getlist("completed")),
            ),
        },
    )


@require_GET
@domain_errors
def definition_xml(request, key, version):
    """The BPMN document as stored. Always an attachment, so a browser never renders uploaded XML as a
    page of this site; fetch() reads it all the same."""
    definition = services.access_definition(_actor(request), key, version)
    response = HttpResponse(definition.bpmn_xml, content_type="application/xml; charset=utf-8")
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", definition.key)
    response["Content-Disposition"] = f'attachment; filename="{filename}-v{definition.version}.bpmn"'
    response["Cache-Control"] = "private, max-age=3600"  # a version never changes
    return response


@domain_errors
def definition_upload(request):
    actor = _actor(request)
    require(actor, perms.CATALOG_MANAGE)
    departments = _managed_departments(actor)
    initial = {"key": request.GET.get("key", ""), "department": request.GET.get("department", "")}
    form = DefinitionUploadForm(
        request.POST or None, request.FILES or None, departments=departments, initial=initial
    )
    problems = []
    if request.method == "POST" and form.is_valid():
        try:
            definition = services.upload_definition(
                actor,
                key=form.cleaned_data["key"],
                department_code=form.cleaned_data["department"],
                bpmn_xml=form.cleaned_data["bpmn_file"],
                process_id=form.cleaned_data["process_id"],
            )
        except InvalidInput as exc:
            problems = _element_problems(exc.fields.pop("bpmn", []))
            apply_errors(form, exc)
            if problems and not form.errors:
                form.add_error("bpmn_file", _("The BPMN document has problems; nothing was published."))
        except NotPermitted as exc:
            form.add_error("key", str(exc.message))
        else:
            messages.success(
                request,
                _("Version %(n)s of %(key)s is published.")
                % {"n": definition.version, "key": definition.key},
            )
            return redirect("workflow:definition_detail", key=definition.key)
    return render(request, "workflow/definition_upload.html", {"form": form, "problems": problems})


def _element_problems(problems) -> list[dict]:
    """The BPMN field's problems as (element, message) rows, so each can be found in the modeler."""
    rows = []
    for problem in problems:
        message = problem.message
        rows.append(
            {
                "element": getattr(message, "element", ""),
                "message": str(getattr(message, "message", message)),
                "code": problem.code,
            }
        )
    return rows
