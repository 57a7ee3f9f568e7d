from . import urls_core, urls_plans

app_name = "plans"

# Two route modules (services/team/fallbacks/actions, and emergency plans) so each area stays small.
urlpatterns = [*urls_core.urlpatterns, *urls_plans.urlpatterns]
