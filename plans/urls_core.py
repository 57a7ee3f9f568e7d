"""Routes of ERP services, the response team, fallback procedures and action items."""

from django.urls import path

from .views import core as views

urlpatterns = [
    path("services/", views.service_list, name="service-list"),
    path("services/new/", views.service_create, name="service-create"),
    path("services/<int:pk>/", views.service_detail, name="service-detail"),
    path("services/<int:pk>/edit/", views.service_edit, name="service-edit"),
    path("services/<int:pk>/delete/", views.service_delete, name="service-delete"),
    path("team/", views.team, name="team"),
    path("team/roles/new/", views.role_create, name="role-create"),
    path("team/roles/<int:pk>/", views.role_detail, name="role-detail"),
    path("team/roles/<int:pk>/edit/", views.role_edit, name="role-edit"),
    path("team/roles/<int:pk>/delete/", views.role_delete, name="role-delete"),
    path("team/roles/<int:role_pk>/members/new/", views.member_create, name="member-create"),
    path("team/members/<int:pk>/edit/", views.member_edit, name="member-edit"),
    path("team/members/<int:pk>/delete/", views.member_delete, name="member-delete"),
    path("fallbacks/", views.fallback_list, name="fallback-list"),
    path("fallbacks/new/", views.fallback_create, name="fallback-create"),
    path("fallbacks/<int:pk>/", views.fallback_detail, name="fallback-detail"),
    path("fallbacks/<int:pk>/edit/", views.fallback_edit, name="fallback-edit"),
    path("fallbacks/<int:pk>/delete/", views.fallback_delete, name="fallback-delete"),
    path("actions/", views.action_list, name="action-list"),
    path("actions/new/", views.action_create, name="action-create"),
    path("actions/<int:pk>/", views.action_detail, name="action-detail"),
    path("actions/<int:pk>/edit/", views.action_edit, name="action-edit"),
]
