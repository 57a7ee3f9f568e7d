from django.urls import path

from . import views

app_name = "risks"

urlpatterns = [
    path("", views.risk_list, name="risk-list"),
    path("heatmap/", views.heatmap, name="heatmap"),
    path("export.csv", views.risk_export, name="risk-export"),
    path("new/", views.risk_create, name="risk-create"),
    path("<int:pk>/", views.risk_detail, name="risk-detail"),
    path("<int:pk>/edit/", views.risk_edit, name="risk-edit"),
    path("<int:pk>/delete/", views.risk_delete, name="risk-delete"),
    path("<int:pk>/review/", views.risk_review, name="risk-review"),
]
