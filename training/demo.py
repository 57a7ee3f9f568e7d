"""Demo data for training/: four courses (ERP basics, two emergency procedures, security awareness)
with quizzes, assigned to departments and response roles, and a history of attempts so the
coverage page and "My training" look lived in: the business user `business` (Sales) has one course
to do, one overdue and one expiring soon; `ops` has an expired completion and a course due.

Loaded by `python manage.py load_demo` after plans.demo. Idempotent: a course is looked up by
title, and its assignments and past attempts are only created together with it, through
training.services. Dates are relative to the day of loading.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from plans.models import Department, EmergencyPlan, FallbackProcedure, ResponseRole

from . import services
from .models import Course

# (question, kind, [(answer, correct), ...])
COURSES = [
    {
        "title": "ERP basics: sales orders and stock enquiries",
        "kind": Course.Kind.ERP_BASICS,
        "summary": "Enter a sales order, check available stock and find an order again.",
        "content": (
            "## Entering a sales order\n\n"
            "1. Open **Sales → Orders → New**.\n"
            "2. Pick the customer by number, never by name: several customers share a name.\n"
            "3. Add each part number with quantity and requested date, then **Check availability**.\n\n"
            "## Stock enquiries\n\n"
            "- *Available* stock is on hand minus what other orders already reserved.\n"
            "- Ask the warehouse before promising anything shown as *in inspection*.\n"
        ),
        "validity_months": 24,
        "questions": [
            (
                "How do you pick the customer on a new order?",
                "single",
                [("By customer number", True), ("By name", False), ("By the last order", False)],
            ),
            (
                "Which stock can you promise to a customer?",
                "single",
                [("Available stock", True), ("On-hand stock", False), ("Stock in inspection", False)],
            ),
        ],
        "assign": [("department", "Sales", 10), ("department", "Warehouse", 20)],
    },
    {
        "title": "Responding to an ERP outage",
        "kind": Course.Kind.EMERGENCY,
        "plan": "ERP outage (application or database down)",
        "summary": "Your part in the ERP outage plan, from detection to stand-down.",
        "content": (
            "## When the ERP is down\n\n"
            "1. **Confirm** the outage: more than one user, more than one screen.\n"
            "2. **Declare** it to the incident commander, who sets the severity.\n"
            "3. **Stop** batch jobs and interfaces so no half-written data piles up.\n"
            "4. Follow the **recovery steps of the plan** for your role, and log what you do in the incident timeline.\n\n"
            "> Never restore a database backup without the incident commander's decision.\n"
        ),
        "validity_months": 12,
        "questions": [
            (
                "Who decides on restoring the database from backup?",
                "single",
                [("The incident commander", True), ("The DBA alone", False), ("The first person who notices", False)],
            ),
            (
                "What do you do first when users report the ERP is down?",
                "single",
                [("Confirm the outage", True), ("Restart every server", False), ("Restore last night's backup", False)],
            ),
            (
                "Which of these belong in the incident timeline?",
                "multiple",
                [
                    ("Each action taken, with its time", True),
                    ("Decisions and who made them", True),
                    ("Personal opinions about colleagues", False),
                ],
            ),
        ],
        "assign": [("role", "it-operations", 14), ("role", "incident-commander", 14), ("role", "dba", 14)],
    },
    {
        "title": "Taking orders on paper",
        "kind": Course.Kind.EMERGENCY,
        "fallback": ("sales", "Taking customer orders on paper"),
        "summary": "The sales fallback procedure: numbered paper forms and re-entry afterwards.",
        "content": (
            'When the ERP cannot take orders, use the **red binder "Sales fallback"** and the numbered forms (pad SO-F).\n\n'
            "- One form per order; never skip or tear out a number.\n"
            "- Read the order back to the customer.\n"
            "- When the ERP is back, enter the forms **in number order** and write the ERP order number on each.\n"
        ),
        "validity_months": 12,
        "questions": [
            (
                "What do you use to take an order while the ERP is down?",
                "single",
                [
                    ("A numbered paper form from pad SO-F", True),
                    ("A note in your phone", False),
                    ("An email to yourself", False),
                ],
            ),
            (
                "When the ERP is back, what do you do with the forms?",
                "multiple",
                [
                    ("Enter them in number order", True),
                    ("Write the ERP order number on each", True),
                    ("Throw them away", False),
                ],
            ),
        ],
        "assign": [("department", "Sales", -5)],
    },
    {
        "title": "Phishing and password security",
        "kind": Course.Kind.SECURITY,
        "summary": "Recognise a phishing email and keep your ERP account safe.",
        "content": (
            "## Signs of phishing\n\n"
            "- Urgency: *your account will be closed today*.\n"
            "- A sender address that is almost right.\n"
            "- Links that ask for your ERP password.\n\n"
            "**Report** suspicious emails to the IT service desk; never forward them to colleagues.\n"
        ),
        "validity_months": 12,
        "questions": [
            (
                "An email asks you to confirm your ERP password by tomorrow. What do you do?",
                "single",
                [
                    ("Report it to the IT service desk", True),
                    ("Reply with the password", False),
                    ("Forward it to colleagues to warn them", False),
                ],
            ),
            (
                "Which are signs of phishing?",
                "multiple",
                [
                    ("Urgent threats", True),
                    ("A sender address that is almost right", True),
                    ("Your manager's usual signature", False),
                ],
            ),
        ],
        "assign": [("department", "Sales", 30), ("department", "IT", 30), ("department", "HR", 30)],
    },
]

# (username, course title, days ago): passed attempts. A 12-month course passed 400 days ago has
# expired; one passed 350 days ago is expiring within 30 days.
PASSES = [
    ("manager", "Responding to an ERP outage", 60),
    ("manager", "Phishing and password security", 90),
    ("ops", "Phishing and password security", 400),
    ("business", "Phishing and password security", 350),
    ("david.lin", "Taking orders on paper", 40),
    ("emily.zhou", "Phishing and password security", 20),
    ("ma.qiang", "ERP basics: sales orders and stock enquiries", 15),
]
# (username, course title, days ago): a failed attempt, to show retries.
FAILS = [("business", "Taking orders on paper", 6)]


def _target(kind: str, key: str) -> dict | None:
    if kind == "department":
        obj = Department.objects.filter(name=key).first()
    else:
        obj = ResponseRole.objects.filter(key=key).first()
    return {kind: obj} if obj else None


def _answers(course: Course, right: bool) -> dict:
    answers = {}
    for question in course.questions.prefetch_related("choices"):
        choices = list(question.choices.all())
        picked = [c.pk for c in choices if c.is_correct] if right else [next(c.pk for c in choices if not c.is_correct)]
        answers[str(question.pk)] = picked
    return answers


def _create_course(spec: dict, author: User | None) -> Course | None:
    plan = fallback = None
    if spec.get("plan"):
        plan = EmergencyPlan.objects.filter(title=spec["plan"]).first()
        if plan is None:
            return None
    if spec.get("fallback"):
        code, title = spec["fallback"]
        fallback = FallbackProcedure.objects.filter(service__code=code, title=title).first()
        if fallback is None:
            return None
    course = services.course_create(
        created_by=author,
        title=spec["title"],
        kind=spec["kind"],
        summary=spec["summary"],
        content=spec["content"],
        plan=plan,
        fallback=fallback,
        validity_months=spec["validity_months"],
        pass_mark=80,
    )
    for order, (text, kind, choices) in enumerate(spec["questions"], start=1):
        services.question_save(course=course, text=text, kind=kind, order=order, choices=choices)
    today = timezone.localdate()
    for kind, key, days in spec["assign"]:
        target = _target(kind, key)
        if target:
            services.assignment_create(
                course=course, due_date=today + datetime.timedelta(days=days), assigned_by=author, **target
            )
    return course


@transaction.atomic
def load(stdout) -> None:
    author = User.objects.filter(username="manager").first()
    created = {}
    for spec in COURSES:
        if Course.objects.filter(title=spec["title"]).exists():
            continue
        course = _create_course(spec, author)
        if course:
            created[course.title] = course
    now = timezone.now()
    attempts = 0
    for runs, right in ((FAILS, False), (PASSES, True)):
        for username, title, days in runs:
            user = User.objects.filter(username=username).first()
            course = created.get(title)
            if user is None or course is None:
                continue
            when = now - datetime.timedelta(days=days)
            services.attempt_submit(
                course=course,
                user=user,
                answers=_answers(course, right),
                started_at=when - datetime.timedelta(minutes=6),
                now=when,
            )
            attempts += 1
    # The incident commander has read the ERP outage plan in force; the others have not yet.
    plan = EmergencyPlan.objects.filter(title=COURSES[1]["plan"]).first()
    if plan and author and plan.versions.published().exists():
        services.plan_acknowledge(user=author, plan=plan)
    stdout.write(f"training: {len(created)} courses, {attempts} attempts")
