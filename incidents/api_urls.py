"""Routes of the incident-response API, mounted under /api/ (basename = URL name prefix)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("incidents", api.IncidentViewSet, basename="api-incident")
router.register("alerts", api.AlertViewSet, basename="api-alert")
router.register("silences", api.SilenceViewSet, basename="api-silence")
router.register("notification-channels", api.ChannelViewSet, basename="api-channel")
router.register("escalation-policies", api.PolicyViewSet, basename="api-escalation-policy")
router.register("escalation-levels", api.LevelViewSet, basename="api-escalation-level")

urlpatterns = [
    path("incident-stats/", api.StatsView.as_view(), name="api-incident-stats"),
    path("status/", api.StatusView.as_view(), name="api-status"),
    *router.urls,
]
