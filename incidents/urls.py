"""Routes of incident response, mounted at "incidents/" (Incident.get_absolute_url relies on it).
The status page for business users lives at the top-level "/status/" (erpcontinuity/urls.py)."""

from django.urls import path

from .views import actions, alerts, config, incidents, reviews, stats

app_name = "incidents"

urlpatterns = [
    path("", incidents.incident_list, name="incident-list"),
    path("new/", incidents.incident_create, name="incident-create"),
    path("<int:pk>/", incidents.incident_detail, name="incident-detail"),
    path("<int:pk>/edit/", incidents.incident_edit, name="incident-edit"),
    path("<int:pk>/status/", actions.transition, name="incident-transition"),
    path("<int:pk>/reopen/", actions.reopen, name="incident-reopen"),
    path("<int:pk>/severity/", actions.change_severity, name="incident-severity"),
    path("<int:pk>/commander/", actions.assign_commander, name="incident-commander"),
    path("<int:pk>/notes/", actions.add_note, name="incident-note"),
    path("<int:pk>/public-update/", actions.publish_update, name="incident-public-update"),
    path("<int:pk>/plan/", actions.attach_plan, name="incident-attach-plan"),
    path("<int:pk>/checklist/<int:item_pk>/done/", actions.checklist_done, name="checklist-done"),
    path("<int:pk>/checklist/<int:item_pk>/undo/", actions.checklist_undo, name="checklist-undo"),
    path("<int:pk>/review/", reviews.review, name="review"),
    path("<int:pk>/review/complete/", reviews.review_complete, name="review-complete"),
    path("<int:pk>/review/actions/", reviews.review_add_action, name="review-add-action"),
    path("alerts/", alerts.alert_list, name="alert-list"),
    path("alerts/<int:pk>/", alerts.alert_detail, name="alert-detail"),
    path("alerts/silences/", config.silence_list, name="silence-list"),
    path("alerts/silences/new/", config.silence_create, name="silence-create"),
    path("alerts/silences/<int:pk>/expire/", config.silence_expire, name="silence-expire"),
    path("alerts/channels/", config.channel_list, name="channel-list"),
    path("alerts/channels/new/", config.channel_create, name="channel-create"),
    path("alerts/channels/<int:pk>/edit/", config.channel_edit, name="channel-edit"),
    path("alerts/channels/<int:pk>/test/", config.channel_test, name="channel-test"),
    path("alerts/channels/<int:pk>/delete/", config.channel_delete, name="channel-delete"),
    path("alerts/escalation/", config.policy_list, name="policy-list"),
    path("alerts/escalation/new/", config.policy_create, name="policy-create"),
    path("alerts/escalation/<int:pk>/", config.policy_detail, name="policy-detail"),
    path("alerts/escalation/<int:pk>/edit/", config.policy_edit, name="policy-edit"),
    path("alerts/escalation/<int:pk>/delete/", config.policy_delete, name="policy-delete"),
    path("alerts/escalation/<int:pk>/levels/new/", config.level_create, name="level-create"),
    path("alerts/escalation/levels/<int:pk>/edit/", config.level_edit, name="level-edit"),
    path("alerts/escalation/levels/<int:pk>/delete/", config.level_delete, name="level-delete"),
    path("stats/", stats.stats_page, name="stats"),
]
