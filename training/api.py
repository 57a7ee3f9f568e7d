"""REST API of training: read the active courses (the quiz without its answers), list my
assignments with their status, and submit an attempt. Every logged-in user may use it: it only
ever shows or changes the caller's own training."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .models import Attempt, Choice, Course, Question


class ChoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Choice
        fields = ["id", "text"]  # never is_correct


class QuestionSerializer(serializers.ModelSerializer):
    choices = ChoiceSerializer(many=True, read_only=True)

    class Meta:
        model = Question
        fields = ["id", "text", "kind", "order", "choices"]


class CourseSerializer(serializers.ModelSerializer):
    questions = QuestionSerializer(many=True, read_only=True)
    start_token = serializers.SerializerMethodField(
        help_text=_("Send it back with the attempt to record how long it took (valid for a day).")
    )

    class Meta:
        model = Course
        fields = [
            "id",
            "title",
            "kind",
            "summary",
            "content",
            "plan",
            "fallback",
            "pass_mark",
            "validity_months",
            "questions",
            "start_token",
        ]

    def get_start_token(self, obj) -> str:
        return services.start_token()


class MyAssignmentSerializer(serializers.Serializer):
    course = serializers.IntegerField(source="course.pk")
    course_title = serializers.CharField(source="course.title")
    due_date = serializers.DateField()
    status = serializers.ChoiceField(choices=list(selectors.Status.LABELS))
    completed_at = serializers.DateTimeField(source="completion.completed_at", allow_null=True, default=None)
    expires_at = serializers.DateTimeField(source="completion.expires_at", allow_null=True, default=None)


class AttemptInputSerializer(serializers.Serializer):
    course = serializers.IntegerField()
    answers = serializers.JSONField(
        required=False,
        default=dict,
        help_text=_('Question id → list of chosen choice ids, e.g. {"12": [40], "13": [44, 45]}.'),
    )
    start_token = serializers.CharField(
        required=False, help_text=_("The course's start_token, fetched when the person began.")
    )


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = ["id", "course", "submitted_at", "score", "passed", "answers"]


class CourseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Active courses with their quiz questions and choices (which answers are right is not shown)."""

    permission_classes = [IsAuthenticated]
    serializer_class = CourseSerializer
    queryset = Course.objects.active().prefetch_related("questions__choices")
    filter_backends: list = []


class MyAssignmentsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: MyAssignmentSerializer(many=True)}, summary="My training assignments")
    def get(self, request: Request) -> Response:
        items = sorted(selectors.training_items(users=[request.user]), key=lambda i: i.due_date)
        return Response(MyAssignmentSerializer(items, many=True).data)


class AttemptSubmitView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=AttemptInputSerializer, responses={201: AttemptSerializer}, summary="Submit an attempt at a course"
    )
    def post(self, request: Request) -> Response:
        params = AttemptInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        course = get_object_or_404(Course.objects.active(), pk=params.validated_data["course"])
        token = params.validated_data.get("start_token")
        started_at = services.started_at_from_token(token) if token else None
        attempt = services.attempt_submit(
            course=course, user=request.user, answers=params.validated_data["answers"], started_at=started_at
        )
        return Response(AttemptSerializer(attempt).data, status=status.HTTP_201_CREATED)
