"""Routes of the emergency plan pages (included by plans/urls.py under the "plans" namespace)."""

from django.urls import path

from .views import plans as views

urlpatterns = [
    path("plans/", views.plan_list, name="plan-list"),
    path("plans/new/", views.plan_create, name="plan-create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan-edit"),
    path("plans/<int:pk>/delete/", views.plan_delete, name="plan-delete"),
    path("plans/<int:pk>/draft/", views.plan_start_draft, name="plan-start-draft"),
    path("plans/<int:pk>/compare/", views.version_compare, name="version-compare"),
    path("plans/<int:pk>/v/<int:number>/", views.version_detail, name="version-detail"),
    path("plans/<int:pk>/v/<int:number>/edit/", views.version_edit, name="version-edit"),
    path("plans/<int:pk>/v/<int:number>/publish/", views.version_publish, name="version-publish"),
    path("plans/<int:pk>/v/<int:number>/discard/", views.version_discard, name="version-discard"),
    path("plans/<int:pk>/v/<int:number>/steps/new/", views.step_create, name="step-create"),
    path("plans/steps/<int:pk>/edit/", views.step_edit, name="step-edit"),
    path("plans/steps/<int:pk>/delete/", views.step_delete, name="step-delete"),
    path("plans/<int:pk>/v/<int:number>/comms/new/", views.comm_create, name="comm-create"),
    path("plans/comms/<int:pk>/edit/", views.comm_edit, name="comm-edit"),
    path("plans/comms/<int:pk>/delete/", views.comm_delete, name="comm-delete"),
]
