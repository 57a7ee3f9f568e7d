"""Routes of the risk-register API, mounted under /api/ (basename = URL name prefix)."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("risks", api.RiskViewSet, basename="api-risk")

urlpatterns = router.urls
