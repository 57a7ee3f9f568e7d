"""factory_boy factories for every model tests need. Models are built through the ORM here (not
the services) so a test can set up any state, including ones the services would refuse."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from plans.models import (
    ActionItem,
    CommunicationRule,
    Department,
    EmergencyPlan,
    ERPService,
    FallbackProcedure,
    PlanStep,
    PlanVersion,
    ResponseRole,
    TeamMember,
)
from risks.models import Risk


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", "pass-Word-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
            self.save()


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Department {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ERPService

    name = factory.Sequence(lambda n: f"Service {n}")
    code = factory.Sequence(lambda n: f"service-{n}")
    kind = ERPService.Kind.BUSINESS
    criticality = 2
    rto_minutes = 240
    rpo_minutes = 60
    mtpd_minutes = 480


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResponseRole
        django_get_or_create = ("key",)

    name = factory.Sequence(lambda n: f"Role {n}")
    key = factory.Sequence(lambda n: f"role-{n}")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMember

    role = factory.SubFactory(RoleFactory)
    name = factory.Faker("name")
    rank = 1
    email = factory.Sequence(lambda n: f"member{n}@example.com")
    phone = "+86 21 5555 0100"


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmergencyPlan
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Plan {n}")
    scenario = EmergencyPlan.Scenario.ERP_DOWN

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


class VersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanVersion

    plan = factory.SubFactory(PlanFactory)
    number = factory.Sequence(lambda n: n + 1)
    status = PlanVersion.Status.DRAFT
    summary = "Restore order taking first."


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanStep

    version = factory.SubFactory(VersionFactory)
    phase = "recover"
    order = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Step {n}")
    role = factory.SubFactory(RoleFactory)
    expected_minutes = 15


class CommunicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommunicationRule

    version = factory.SubFactory(VersionFactory)
    severity = "sev1"
    audience = "All staff"
    channel = "email"
    message_template = "The ERP is down. Follow the fallback procedure."


class FallbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FallbackProcedure

    service = factory.SubFactory(ServiceFactory)
    title = factory.Sequence(lambda n: f"Manual procedure {n}")
    audience = "Sales clerks"
    when_to_use = "When the ERP cannot take orders."
    steps = "Take the order on the paper form.\nFile the form in the red tray."


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    title = factory.Sequence(lambda n: f"Action {n}")
    owner = factory.SubFactory(UserFactory)
    due_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=14))


class RiskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Risk
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Risk {n}")
    category = Risk.Category.HARDWARE
    likelihood = 3
    impact = 4
    residual_likelihood = 2
    residual_impact = 3
    owner = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = model_class(*args, **kwargs)
        obj.compute_scores()
        obj.save()
        return obj

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


# --- Incidents (helper E) -------------------------------------------------------------------------

from django.utils import timezone as _tz  # noqa: E402

from incidents.models import (  # noqa: E402
    Alert,
    EscalationLevel,
    EscalationPolicy,
    Incident,
    NotificationChannel,
    PostIncidentReview,
    Silence,
)


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Incident {n}")
    severity = "sev3"
    status = Incident.Status.OPEN
    detected_at = factory.LazyFunction(_tz.now)
    opened_at = factory.LazyAttribute(lambda o: o.detected_at)

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    source = "monitoring"
    fingerprint = factory.Sequence(lambda n: f"check:{n}")
    severity = "sev3"
    summary = factory.Sequence(lambda n: f"Check {n} failing")


class SilenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Silence

    source = "monitoring"
    starts_at = factory.LazyFunction(lambda: _tz.now() - datetime.timedelta(minutes=5))
    ends_at = factory.LazyFunction(lambda: _tz.now() + datetime.timedelta(hours=1))
    reason = "Planned maintenance"


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationChannel

    name = factory.Sequence(lambda n: f"Channel {n}")
    kind = NotificationChannel.Kind.WEBHOOK
    target = "http://127.0.0.1:9/hook"


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EscalationPolicy
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Policy {n}")

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


class LevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EscalationLevel

    policy = factory.SubFactory(PolicyFactory)
    order = factory.Sequence(lambda n: n + 1)
    delay_minutes = 10


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostIncidentReview

    incident = factory.SubFactory(IncidentFactory, status=Incident.Status.RESOLVED)
    summary = "The database ran out of disk."
