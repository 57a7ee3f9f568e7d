"""Project-level pages: landing, dashboard, audit trail, login, health."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from rest_framework.authtoken.views import ObtainAuthToken

from backups import selectors as backup_selectors
from drills import selectors as drill_selectors
from drills.models import Drill
from incidents import selectors as incident_selectors
from incidents import services as incident_services
from incidents.models import Incident
from monitoring import selectors as monitoring_selectors
from plans import selectors as plan_selectors
from risks import selectors as risk_selectors
from training import selectors as training_selectors

from .roles import BUSINESS_USER, user_role


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Operations people land on the dashboard; business users on what they need in an outage."""
    if user_role(request.user) == BUSINESS_USER:
        return redirect("status")
    return redirect("dashboard")


@login_required
@permission_required("plans.view_erpservice", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    context = plan_selectors.dashboard_context(request.user)
    if request.user.has_perm("risks.view_risk"):
        context["heat_map"] = risk_selectors.heat_map()
        context["risk_levels"] = risk_selectors.level_counts()
        context["risks_due"] = risk_selectors.risks_due_for_review(days=30)[:10]
    if request.user.has_perm("incidents.view_incident"):
        context["open_by_severity"] = incident_selectors.open_incident_counts_by_severity()
        context["open_incidents"] = list(
            incident_selectors.incident_list(
                filters={"status": list(Incident.OPEN_STATUSES), "is_drill": False}
            ).order_by("severity", "-opened_at", "-id")[:8]
        )
    if request.user.has_perm("incidents.view_status"):
        context["service_states"] = incident_services.service_states()
    if request.user.has_perm("plans.view_actionitem"):
        context["open_action_items"] = list(plan_selectors.action_item_list().open().order_by("due_date", "id")[:8])
    if request.user.has_perm("backups.view_backuppolicy"):
        context["backup_compliance"] = backup_selectors.compliance_summary()
    if request.user.has_perm("monitoring.view_check"):
        context["monitoring_not_ok"] = monitoring_selectors.checks_not_ok()
    if request.user.has_perm("drills.view_drill"):
        context["upcoming_drills"] = list(
            drill_selectors.drill_list(request.user)
            .filter(status__in=[Drill.Status.PLANNED, Drill.Status.RUNNING])
            .order_by("scheduled_start", "pk")[:5]
        )
    if request.user.has_perm("training.view_coverage"):
        context["training_total"] = training_selectors.coverage()["total"]
    return render(request, "dashboard.html", context)


@login_required
@permission_required("auditlog.view_logentry", raise_exception=True)
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-id")
    model = request.GET.get("model", "")
    if model:
        entries = entries.filter(content_type__model=model)
    actor = request.GET.get("actor", "")
    if actor:
        entries = entries.filter(actor__username=actor)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    for entry in page:  # field names read in the user's language: the models' verbose names
        model_class = entry.content_type.model_class()
        entry.labelled_changes = [(_field_label(model_class, f), c) for f, c in entry.changes_dict.items()]
    types = ContentType.objects.filter(pk__in=LogEntry.objects.order_by().values("content_type"))
    models = sorted(((ct.model, capfirst(ct.name)) for ct in types), key=lambda m: str(m[1]))
    return render(request, "audit_log.html", {"page": page, "models": models, "model": model, "actor": actor})


def _field_label(model_class, name: str) -> str:
    try:
        field = model_class._meta.get_field(name)
    except (AttributeError, FieldDoesNotExist):
        return name
    if field.auto_created and not field.concrete:  # a reverse relation: name it after the related model
        return capfirst(field.related_model._meta.verbose_name_plural)
    # gettext again: a field without verbose_name gets a plain English one from its name ("created
    # by"), and the primary key Django's untranslated "ID"; the catalog may still translate them.
    return capfirst(gettext(str(field.verbose_name)))


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("password_change_done")


class ObtainTokenView(ObtainAuthToken):
    """POST username and password, get the API token of that account (for scripts and agents)."""


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
