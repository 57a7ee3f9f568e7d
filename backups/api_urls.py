"""Routes of the backups API, mounted under /api/."""

from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("backup-policies", api.PolicyViewSet, basename="api-backup-policy")
router.register("backup-runs", api.RunViewSet, basename="api-backup-run")
router.register("backup-verifications", api.VerificationViewSet, basename="api-backup-verification")

urlpatterns = router.urls
