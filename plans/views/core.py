"""Browser pages for ERP services, the response team, fallback procedures and action items.

Thin views: a form validates the input, a function of plans.services makes the change, and a
ValidationError it raises is shown on the form (never a 500, never a half-written change)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from plans import selectors, services
from plans.forms.core import (
    ActionFilterForm,
    ActionItemForm,
    FallbackForm,
    MemberForm,
    RoleForm,
    ServiceForm,
    attach_service_error,
)
from plans.models import ActionItem, Department, ERPService, FallbackProcedure, ResponseRole, TeamMember

PAGE_SIZE = 50


def perm_required(perm: str) -> Callable:
    """Login first (anonymous → login page), then the permission (logged in without it → 403)."""

    def decorator(view: Callable) -> Callable:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorator


def _save(form, action: Callable, **kwargs):
    """Call a service with the form's data; on a rule broken, put the reason on the form."""
    try:
        return action(**kwargs)
    except ValidationError as exc:
        attach_service_error(form, exc)
        return None


def _delete(request: HttpRequest, obj, action: Callable, *, template: str, success_url: str, context: dict):
    """Confirmation page on GET; on POST the service deletes or explains why it will not."""
    error = None
    if request.method == "POST":
        name = str(obj)
        try:
            action()
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("“%(name)s” was deleted.") % {"name": name})
            return redirect(success_url)
    return render(request, template, {**context, "object": obj, "error": error})


# --- ERP services -------------------------------------------------------------------------------

# ?sort= value → ordering; a leading "-" reverses it.
SERVICE_SORTS = {
    "name": ("name",),
    "kind": ("kind", "name"),
    "criticality": ("criticality", "name"),
    "rto": ("rto_minutes", "name"),
    "rpo": ("rpo_minutes", "name"),
    "mtpd": ("mtpd_minutes", "name"),
    "department": ("owner_department__name", "name"),
}
SERVICE_COLUMNS = [
    ("name", gettext_lazy("Service")),
    ("kind", gettext_lazy("Kind")),
    ("criticality", gettext_lazy("Criticality")),
    ("rto", gettext_lazy("RTO")),
    ("rpo", gettext_lazy("RPO")),
    ("mtpd", gettext_lazy("MTPD")),
    ("department", gettext_lazy("Owner department")),
]


def _sort_columns(current: str) -> list[dict]:
    columns = []
    for key, label in SERVICE_COLUMNS:
        state = "asc" if current == key else "desc" if current == f"-{key}" else ""
        columns.append(
            {
                "key": key,
                "label": label,
                "state": state,
                "next": f"-{key}" if state == "asc" else key,
                "num": key in ("rto", "rpo", "mtpd"),
            }
        )
    return columns


@perm_required("plans.view_erpservice")
def service_list(request: HttpRequest) -> HttpResponse:
    services_qs = selectors.service_list()
    q = request.GET.get("q", "").strip()
    if q:
        services_qs = services_qs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(description__icontains=q))
    kind = request.GET.get("kind", "")
    if kind in ERPService.Kind.values:
        services_qs = services_qs.filter(kind=kind)
    criticality = request.GET.get("criticality", "")
    if criticality.isdigit() and int(criticality) in ERPService.Criticality.values:
        services_qs = services_qs.filter(criticality=int(criticality))
    department = request.GET.get("owner_department", "")
    if department.isdigit():
        services_qs = services_qs.filter(owner_department_id=int(department))
    sort = request.GET.get("sort", "")
    if sort.lstrip("-") in SERVICE_SORTS:
        fields = SERVICE_SORTS[sort.lstrip("-")]
        services_qs = services_qs.order_by(*(f"-{f}" for f in fields) if sort.startswith("-") else fields)
    else:
        sort = ""
    page = Paginator(services_qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "plans/service_list.html",
        {
            "page": page,
            "q": q,
            "kind": kind,
            "criticality": criticality,
            "owner_department": department,
            "kinds": ERPService.Kind.choices,
            "criticalities": ERPService.Criticality.choices,
            "departments": Department.objects.all(),
            "columns": _sort_columns(sort),
            "filtered": bool(q or kind or criticality or department),
        },
    )


@perm_required("plans.view_erpservice")
def service_detail(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(ERPService.objects.select_related("owner_department", "business_owner"), pk=pk)
    dependents = list(service.dependents.order_by("criticality", "name"))
    context = {
        "service": service,
        "depends_on": service.depends_on.order_by("criticality", "name"),
        "dependents": dependents,
        # Only services that others stand on can inherit a stricter objective.
        "effective": services.effective_objectives(service) if dependents else None,
        "fallbacks": service.fallbacks.all(),
    }
    if request.user.has_perm("plans.view_emergencyplan"):
        context["plans"] = service.plans.order_by("title")
    if request.user.has_perm("risks.view_risk"):
        context["risks"] = service.risks.select_related("owner")
    return render(request, "plans/service_detail.html", context)


@perm_required("plans.add_erpservice")
def service_create(request: HttpRequest) -> HttpResponse:
    form = ServiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        depends_on = data.pop("depends_on")
        service = _save(form, services.service_create, depends_on=depends_on, **data)
        if service:
            messages.success(request, _("Service “%(name)s” was created.") % {"name": service.name})
            return redirect(service)
    return render(request, "plans/service_form.html", {"form": form})


@perm_required("plans.change_erpservice")
def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(ERPService, pk=pk)
    # The form writes its input onto its instance while validating; keep the page's heading on
    # the stored name by giving the form its own copy.
    form = ServiceForm(request.POST or None, instance=ERPService.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        depends_on = data.pop("depends_on")
        saved = _save(form, services.service_update, service=service, depends_on=depends_on, **data)
        if saved:
            messages.success(request, _("Service “%(name)s” was saved.") % {"name": saved.name})
            return redirect(saved)
    return render(request, "plans/service_form.html", {"form": form, "service": service})


@perm_required("plans.delete_erpservice")
def service_delete(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(ERPService, pk=pk)
    return _delete(
        request,
        service,
        lambda: services.service_delete(service=service),
        template="plans/service_confirm_delete.html",
        success_url=reverse("plans:service-list"),
        context={
            "service": service,
            "covering_plans": service.plans.order_by("title"),
            "fallback_count": service.fallbacks.count(),
            "dependents": service.dependents.order_by("name"),
        },
    )


# --- Response team ------------------------------------------------------------------------------


@perm_required("plans.view_responserole")
def team(request: HttpRequest) -> HttpResponse:
    return render(request, "plans/team.html", {"roles": selectors.team_roles()})


@perm_required("plans.view_responserole")
def role_detail(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(selectors.team_roles(), pk=pk)
    return render(request, "plans/role_detail.html", {"role": role})


@perm_required("plans.add_responserole")
def role_create(request: HttpRequest) -> HttpResponse:
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        role = _save(form, services.role_create, **form.cleaned_data)
        if role:
            messages.success(request, _("Role “%(name)s” was created.") % {"name": role.name})
            return redirect(role)
    return render(request, "plans/role_form.html", {"form": form})


@perm_required("plans.change_responserole")
def role_edit(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(ResponseRole, pk=pk)
    form = RoleForm(request.POST or None, instance=ResponseRole.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        saved = _save(form, services.role_update, role=role, **form.cleaned_data)
        if saved:
            messages.success(request, _("Role “%(name)s” was saved.") % {"name": saved.name})
            return redirect(saved)
    return render(request, "plans/role_form.html", {"form": form, "role": role})


@perm_required("plans.delete_responserole")
def role_delete(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(ResponseRole, pk=pk)
    return _delete(
        request,
        role,
        lambda: services.role_delete(role=role),
        template="plans/role_confirm_delete.html",
        success_url=reverse("plans:team"),
        context={"role": role, "member_count": role.members.count()},
    )


@perm_required("plans.add_teammember")
def member_create(request: HttpRequest, role_pk: int) -> HttpResponse:
    role = get_object_or_404(ResponseRole, pk=role_pk)
    next_rank = (role.members.order_by("-rank").values_list("rank", flat=True).first() or 0) + 1
    form = MemberForm(request.POST or None, role=role, initial={"rank": next_rank})
    if request.method == "POST" and form.is_valid():
        member = _save(form, services.member_create, role=role, **form.cleaned_data)
        if member:
            messages.success(request, _("%(name)s was added to %(role)s.") % {"name": member.name, "role": role.name})
            return redirect(role)
    return render(request, "plans/member_form.html", {"form": form, "role": role})


@perm_required("plans.change_teammember")
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(TeamMember.objects.select_related("role"), pk=pk)
    form = MemberForm(request.POST or None, role=member.role, instance=TeamMember.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        saved = _save(form, services.member_update, member=member, **form.cleaned_data)
        if saved:
            messages.success(request, _("%(name)s was saved.") % {"name": saved.name})
            return redirect(member.role)
    return render(request, "plans/member_form.html", {"form": form, "role": member.role, "member": member})


@perm_required("plans.delete_teammember")
def member_delete(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(TeamMember.objects.select_related("role"), pk=pk)
    return _delete(
        request,
        member,
        lambda: services.member_delete(member=member),
        template="plans/member_confirm_delete.html",
        success_url=member.role.get_absolute_url(),
        context={"member": member, "role": member.role},
    )


# --- Fallback procedures ------------------------------------------------------------------------


@perm_required("plans.view_fallbackprocedure")
def fallback_list(request: HttpRequest) -> HttpResponse:
    procedures = selectors.fallback_list()
    q = request.GET.get("q", "").strip()
    if q:
        procedures = procedures.filter(
            Q(title__icontains=q)
            | Q(service__name__icontains=q)
            | Q(audience__icontains=q)
            | Q(when_to_use__icontains=q)
            | Q(steps__icontains=q)
        )
    service = request.GET.get("service", "")
    if service.isdigit():
        procedures = procedures.filter(service_id=int(service))
    else:
        service = ""
    page = Paginator(procedures, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "plans/fallback_list.html",
        {
            "page": page,
            "q": q,
            "service": service,
            # Only services that have a procedure: the picker answers "what do I do when X is down".
            "services": ERPService.objects.filter(fallbacks__isnull=False).distinct().order_by("name"),
            "filtered": bool(q or service),
        },
    )


@perm_required("plans.view_fallbackprocedure")
def fallback_detail(request: HttpRequest, pk: int) -> HttpResponse:
    procedure = get_object_or_404(FallbackProcedure.objects.select_related("service"), pk=pk)
    return render(request, "plans/fallback_detail.html", {"procedure": procedure})


@perm_required("plans.add_fallbackprocedure")
def fallback_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    preselect = request.GET.get("service", "")
    if preselect.isdigit():
        initial["service"] = int(preselect)
    form = FallbackForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        procedure = _save(form, services.fallback_create, **form.cleaned_data)
        if procedure:
            messages.success(request, _("Fallback procedure “%(title)s” was created.") % {"title": procedure.title})
            return redirect(procedure)
    return render(request, "plans/fallback_form.html", {"form": form})


@perm_required("plans.change_fallbackprocedure")
def fallback_edit(request: HttpRequest, pk: int) -> HttpResponse:
    procedure = get_object_or_404(FallbackProcedure.objects.select_related("service"), pk=pk)
    form = FallbackForm(request.POST or None, instance=FallbackProcedure.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        saved = _save(form, services.fallback_update, procedure=procedure, **form.cleaned_data)
        if saved:
            if saved.version != procedure.version:
                text = _("Saved as version %(n)d.") % {"n": saved.version}
            else:
                text = _("Saved; the content did not change, so the version stays %(n)d.") % {"n": saved.version}
            messages.success(request, text)
            return redirect(saved)
    return render(request, "plans/fallback_form.html", {"form": form, "procedure": procedure})


@perm_required("plans.delete_fallbackprocedure")
def fallback_delete(request: HttpRequest, pk: int) -> HttpResponse:
    procedure = get_object_or_404(FallbackProcedure.objects.select_related("service"), pk=pk)
    return _delete(
        request,
        procedure,
        lambda: services.fallback_delete(procedure=procedure),
        template="plans/fallback_confirm_delete.html",
        success_url=reverse("plans:fallback-list"),
        context={"procedure": procedure},
    )


# --- Action items -------------------------------------------------------------------------------


@perm_required("plans.view_actionitem")
def action_list(request: HttpRequest) -> HttpResponse:
    filters = ActionFilterForm(request.GET or None)
    # What is still to do comes first, soonest due at the top; closed items sink to the bottom.
    closed = [ActionItem.Status.DONE, ActionItem.Status.CANCELLED]
    items = selectors.action_item_list().order_by(
        Case(When(status__in=closed, then=Value(1)), default=Value(0), output_field=IntegerField()), "due_date", "id"
    )
    data = filters.cleaned_data if filters.is_valid() else {}
    if data.get("q"):
        items = items.filter(Q(title__icontains=data["q"]) | Q(description__icontains=data["q"]))
    if data.get("status"):
        items = items.filter(status=data["status"])
    if data.get("owner"):
        items = items.filter(owner=data["owner"])
    if data.get("overdue"):
        items = items.overdue()
    if data.get("mine"):
        items = items.filter(owner=request.user)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "plans/action_list.html",
        {
            "page": page,
            "filters": filters,
            "filtered": any(data.values()),
            "overdue_count": ActionItem.objects.overdue().count(),
        },
    )


@perm_required("plans.view_actionitem")
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(selectors.action_item_list(), pk=pk)
    source = item.source if item.source_type_id else None
    source_url = getattr(source, "get_absolute_url", None)
    return render(
        request,
        "plans/action_detail.html",
        {"item": item, "source": source, "source_url": source_url() if source_url else None},
    )


@perm_required("plans.add_actionitem")
def action_create(request: HttpRequest) -> HttpResponse:
    form = ActionItemForm(request.POST or None, initial={"owner": request.user.pk})
    if request.method == "POST" and form.is_valid():
        item = _save(form, services.action_item_create, **form.cleaned_data)
        if item:
            messages.success(request, _("Action item “%(title)s” was created.") % {"title": item.title})
            return redirect(item)
    return render(request, "plans/action_form.html", {"form": form})


@perm_required("plans.change_actionitem")
def action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(ActionItem, pk=pk)
    form = ActionItemForm(request.POST or None, instance=ActionItem.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        saved = _save(form, services.action_item_update, item=item, **form.cleaned_data)
        if saved:
            messages.success(request, _("Action item “%(title)s” was saved.") % {"title": saved.title})
            return redirect(saved)
    return render(request, "plans/action_form.html", {"form": form, "item": item})
