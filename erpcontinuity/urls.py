from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from incidents.views import status as incident_status

from . import views

api_patterns = [
    path("", include("plans.api_urls")),
    path("", include("risks.api_urls")),
    path("", include("incidents.api_urls")),
    path("", include("backups.api_urls")),
    path("", include("monitoring.api_urls")),
    path("", include("drills.api_urls")),
    path("", include("training.api_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("audit/", views.audit_log, name="audit-log"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_change_done.html"),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("plans.urls")),
    path("risks/", include("risks.urls")),
    path("incidents/", include("incidents.urls")),
    path("backups/", include("backups.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("drills/", include("drills.urls")),
    path("training/", include("training.urls")),
    path("status/", incident_status.status_page, name="status"),
    path("api/", include(api_patterns)),
    path("api/auth/token/", views.ObtainTokenView.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
