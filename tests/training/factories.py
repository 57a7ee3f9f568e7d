"""Factories for training models (built through the ORM so a test can set up any state)."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from tests.factories import UserFactory
from training.models import Assignment, Choice, Course, Question


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    title = factory.Sequence(lambda n: f"Course {n}")
    kind = Course.Kind.SECURITY
    content = "Read **this**."
    pass_mark = 80
    validity_months = 12


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    course = factory.SubFactory(CourseFactory)
    text = factory.Sequence(lambda n: f"Question {n}?")
    kind = Question.Kind.SINGLE


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory)
    text = factory.Sequence(lambda n: f"Answer {n}")
    is_correct = False


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    course = factory.SubFactory(CourseFactory)
    user = factory.SubFactory(UserFactory)
    due_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=14))


def quiz(course: Course, spec: list[tuple[str, list[bool]]]) -> list[Question]:
    """Questions of `course`: (kind, [is_correct per choice]) each."""
    questions = []
    for kind, flags in spec:
        question = QuestionFactory(course=course, kind=kind)
        for flag in flags:
            ChoiceFactory(question=question, is_correct=flag)
        questions.append(question)
    return questions


def right_answers(questions: list[Question]) -> dict[str, list[int]]:
    return {str(q.pk): [c.pk for c in q.choices.all() if c.is_correct] for q in questions}


def wrong_answer(question: Question) -> list[int]:
    return [next(c.pk for c in question.choices.all() if not c.is_correct)]
