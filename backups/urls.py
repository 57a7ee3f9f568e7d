from django.urls import path

from . import views

app_name = "backups"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("<int:pk>/", views.policy_detail, name="policy-detail"),
    path("<int:pk>/verify/", views.verify_now, name="verify-now"),
    path("new/", views.policy_create, name="policy-create"),
    path("<int:pk>/edit/", views.policy_edit, name="policy-edit"),
    path("<int:pk>/delete/", views.policy_delete, name="policy-delete"),
    path("<int:pk>/locations/new/", views.location_create, name="location-create"),
    path("locations/<int:pk>/edit/", views.location_edit, name="location-edit"),
    path("locations/<int:pk>/delete/", views.location_delete, name="location-delete"),
]
