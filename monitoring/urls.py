from django.urls import path

from . import views

app_name = "monitoring"

urlpatterns = [
    path("", views.check_list, name="check-list"),
    path("checks/new/", views.check_create, name="check-create"),
    path("checks/<int:pk>/", views.check_detail, name="check-detail"),
    path("checks/<int:pk>/edit/", views.check_edit, name="check-edit"),
    path("checks/<int:pk>/delete/", views.check_delete, name="check-delete"),
    path("checks/<int:pk>/pause/", views.check_pause, name="check-pause"),
    path("checks/<int:pk>/run/", views.check_run, name="check-run"),
]
