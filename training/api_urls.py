"""Routes of the training API, mounted under /api/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("training/courses", api.CourseViewSet, basename="api-training-course")

urlpatterns = [
    path("training/my-assignments/", api.MyAssignmentsView.as_view(), name="api-training-my-assignments"),
    path("training/attempts/", api.AttemptSubmitView.as_view(), name="api-training-attempts"),
    *router.urls,
]
