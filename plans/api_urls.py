"""Routes of the continuity-core API, mounted under /api/ (basename = URL name prefix).

SimpleRouter: plans/ and risks/ each add routes under /api/, so neither owns an API root view;
the index of the API is the schema (/api/schema/) and its Swagger UI (/api/docs/)."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("services", api.ServiceViewSet, basename="api-service")
router.register("departments", api.DepartmentViewSet, basename="api-department")
router.register("roles", api.RoleViewSet, basename="api-role")
router.register("members", api.MemberViewSet, basename="api-member")
router.register("plans", api.PlanViewSet, basename="api-plan")
router.register("plan-versions", api.PlanVersionViewSet, basename="api-plan-version")
router.register("plan-steps", api.PlanStepViewSet, basename="api-plan-step")
router.register("plan-communications", api.CommunicationViewSet, basename="api-plan-communication")
router.register("fallbacks", api.FallbackViewSet, basename="api-fallback")
router.register("action-items", api.ActionItemViewSet, basename="api-action-item")

urlpatterns = router.urls
