from django.urls import path

from . import views

app_name = "drills"

urlpatterns = [
    path("", views.drill_list, name="drill-list"),
    path("calendar/", views.drill_calendar, name="calendar"),
    path("calendar/subscribe/", views.feed_settings, name="feed-settings"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
    path("scenarios/", views.scenario_list, name="scenario-list"),
    path("scenarios/new/", views.scenario_create, name="scenario-create"),
    path("scenarios/<int:pk>/", views.scenario_detail, name="scenario-detail"),
    path("scenarios/<int:pk>/edit/", views.scenario_edit, name="scenario-edit"),
    path("new/", views.drill_create, name="drill-create"),
    path("<int:pk>/", views.drill_detail, name="drill-detail"),
    path("<int:pk>/edit/", views.drill_edit, name="drill-edit"),
    path("<int:pk>/transition/<str:to>/", views.drill_transition, name="drill-transition"),
    path("<int:pk>/run/", views.drill_run, name="drill-run"),
    path("<int:pk>/run/steps/<int:step_id>/<str:action>/", views.run_step, name="run-step"),
    path("<int:pk>/run/injects/", views.run_inject, name="run-inject"),
    path("<int:pk>/run/services/<int:service_id>/<str:action>/", views.run_service, name="run-service"),
    path("<int:pk>/run/alert/", views.run_alert, name="run-alert"),
    path("<int:pk>/findings/", views.finding_create, name="finding-create"),
    path("findings/<int:pk>/action/", views.finding_action, name="finding-action"),
    path("findings/<int:pk>/plan-change/", views.finding_plan_change, name="finding-plan-change"),
    path("findings/<int:pk>/risk-change/", views.finding_risk_change, name="finding-risk-change"),
    path("<int:pk>/report/", views.drill_report, name="drill-report"),
    path("<int:pk>/report.pdf", views.drill_report_pdf, name="drill-report-pdf"),
]
