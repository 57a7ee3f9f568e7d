"""Quiz scoring: single and multiple choice, pass mark, retries, and answers that do not fit —
bad input and tampered answers give an error naming the question, are never counted, never a 500."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import UserFactory
from training import services
from training.models import Attempt, Completion

from .factories import CourseFactory, quiz, right_answers, wrong_answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    return CourseFactory(pass_mark=60)


@pytest.fixture
def questions(course):
    # Q1 single (2nd right), Q2 multiple (1st and 3rd right), Q3 single (1st right)
    return quiz(
        course, [("single", [False, True, False]), ("multiple", [True, False, True]), ("single", [True, False])]
    )


def submit(course, answers, user=None):
    return services.attempt_submit(course=course, user=user or UserFactory(), answers=answers)


def test_all_right_scores_100_and_completes(course, questions):
    user = UserFactory()
    attempt = submit(course, right_answers(questions), user)
    assert (attempt.score, attempt.passed) == (100, True)
    assert Completion.objects.get(user=user, course=course).attempt == attempt


def test_a_multiple_choice_question_counts_only_with_every_right_answer_and_no_wrong_one(course, questions):
    q1, q2, q3 = questions
    answers = right_answers(questions)
    right_ids = [c.pk for c in q2.choices.all() if c.is_correct]
    answers[str(q2.pk)] = right_ids[:1]  # half of the right answers
    assert submit(course, answers).score == 66
    answers[str(q2.pk)] = [c.pk for c in q2.choices.all()]  # every answer ticked
    assert submit(course, answers).score == 66


def test_failing_records_the_attempt_without_completing_and_a_retry_can_pass(course, questions):
    user = UserFactory()
    answers = right_answers(questions)
    answers[str(questions[0].pk)] = wrong_answer(questions[0])
    answers[str(questions[2].pk)] = wrong_answer(questions[2])
    failed = submit(course, answers, user)
    assert (failed.score, failed.passed) == (33, False)
    assert failed.answers[str(questions[0].pk)] == {"chosen": wrong_answer(questions[0]), "correct": False}
    assert not Completion.objects.filter(user=user).exists()

    passed = submit(course, right_answers(questions), user)
    assert passed.passed
    assert Attempt.objects.filter(user=user).count() == 2
    assert Completion.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(
    "tamper, field",
    [
        (lambda a, qs: a.pop(str(qs[0].pk)), "q{0}"),  # a question left out
        (
            lambda a, qs: a.update({str(qs[0].pk): [c.pk for c in qs[1].choices.all()][:1]}),
            "q{0}",
        ),  # another question's choice
        (lambda a, qs: a.update({str(qs[0].pk): [999999]}), "q{0}"),  # an unknown choice id
        (lambda a, qs: a.update({str(qs[0].pk): ["x"]}), "q{0}"),  # not an id
        (lambda a, qs: a.update({str(qs[0].pk): [True]}), "q{0}"),  # a boolean is not an id
        (lambda a, qs: a.update({str(qs[0].pk): [c.pk for c in qs[0].choices.all()]}), "q{0}"),  # two on single choice
        (lambda a, qs: a.update({"424242": [1]}), "answers"),  # an unknown question
        (lambda a, qs: a.update({str(qs[0].pk): []}), "q{0}"),  # an empty answer
    ],
)
def test_tampered_answers_are_refused_naming_the_question_and_nothing_is_recorded(course, questions, tamper, field):
    answers = right_answers(questions)
    tamper(answers, questions)
    with pytest.raises(ValidationError) as caught:
        submit(course, answers)
    assert field.format(questions[0].pk) in caught.value.message_dict
    assert Attempt.objects.count() == 0


@pytest.mark.parametrize("answers", [[1, 2], "all", 7])
def test_answers_that_are_not_a_mapping_are_refused(course, questions, answers):
    with pytest.raises(ValidationError) as caught:
        submit(course, answers)
    assert "answers" in caught.value.message_dict


def test_a_course_without_a_quiz_is_completed_by_confirming_it(course):
    attempt = submit(course, {})
    assert (attempt.score, attempt.passed) == (100, True)


def test_an_inactive_course_cannot_be_taken(questions, course):
    course.is_active = False
    course.save()
    with pytest.raises(ValidationError):
        submit(course, right_answers(questions))
