from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("drill-scenarios", api.ScenarioViewSet, basename="api-drill-scenario")
router.register("drills", api.DrillViewSet, basename="api-drill")

urlpatterns = router.urls
