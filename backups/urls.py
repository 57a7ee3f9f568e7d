from django.urls import path

from . import views

app_name = "backups"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("<int:pk>/", views.policy_detail, name="policy-detail"),
    path("<int:pk>/verify/", views.verify_now, name="verify-now"),
]
