"""Routes of the monitoring API, mounted under /api/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("checks", api.CheckViewSet, basename="api-check")

urlpatterns = [
    path("metrics/", api.MetricsView.as_view(), name="api-metrics"),
    path("events/", api.EventsView.as_view(), name="api-monitoring-events"),
    path("alertmanager/", api.AlertmanagerView.as_view(), name="api-alertmanager"),
    *router.urls,
]
