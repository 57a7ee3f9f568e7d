from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("", views.my_training, name="my-training"),
    path("courses/<int:pk>/", views.course_take, name="course-take"),
    path("attempts/<int:pk>/", views.attempt_detail, name="attempt-detail"),
    path("files/<int:pk>/", views.attachment, name="attachment"),
    path("acknowledge/plan/<int:pk>/", views.plan_acknowledge, name="plan-acknowledge"),
    path("acknowledge/fallback/<int:pk>/", views.fallback_acknowledge, name="fallback-acknowledge"),
    path("coverage/", views.coverage, name="coverage"),
    path("coverage.csv", views.coverage_export, name="coverage-export"),
    path("manage/", views.course_list, name="course-list"),
    path("manage/new/", views.course_edit, name="course-create"),
    path("manage/<int:pk>/", views.course_manage, name="course-manage"),
    path("manage/<int:pk>/edit/", views.course_edit, name="course-edit"),
    path("manage/<int:pk>/delete/", views.course_delete, name="course-delete"),
    path("manage/<int:course_pk>/questions/new/", views.question_edit, name="question-create"),
    path("manage/<int:course_pk>/questions/<int:pk>/", views.question_edit, name="question-edit"),
    path(
        "manage/<int:course_pk>/questions/<int:pk>/delete/",
        views.course_part_delete,
        {"part": "question"},
        name="question-delete",
    ),
    path(
        "manage/<int:course_pk>/assignments/<int:pk>/delete/",
        views.course_part_delete,
        {"part": "assignment"},
        name="assignment-delete",
    ),
    path(
        "manage/<int:course_pk>/files/<int:pk>/delete/",
        views.course_part_delete,
        {"part": "attachment"},
        name="attachment-delete",
    ),
]
