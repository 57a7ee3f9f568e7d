from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from plans.forms.plans import UserChoiceField, attach_errors  # noqa: F401 - re-exported for views
from plans.models import ERPService, PlanVersion, ResponseRole
from risks.models import Risk

from . import services
from .models import Drill, Finding, Scenario, StepRecord


def _people():
    return get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")


class ScenarioForm(forms.ModelForm):
    injects = forms.CharField(
        label=_("Injects"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "One per line: the minute after the start, then what is announced or done, e.g. “20 The replica is 2 hours behind”."
        ),
    )

    class Meta:
        model = Scenario
        fields = ["title", "kind", "description", "hypothesis", "abort_condition"]
        widgets = {f: forms.Textarea(attrs={"rows": 3}) for f in ("description", "hypothesis", "abort_condition")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["injects"] = "\n".join(f"{i.minute} {i.text}" for i in self.instance.injects.all())

    def clean_injects(self):
        try:
            return services.parse_injects(self.cleaned_data["injects"])
        except ValidationError as e:
            raise ValidationError(e.message_dict["injects"]) from e


class VersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.plan.title} v{obj.number} ({obj.get_status_display()})"


class DrillForm(forms.ModelForm):
    plan_version = VersionChoiceField(
        label=_("Plan version"),
        queryset=PlanVersion.objects.published().select_related("plan").order_by("plan__title", "-number"),
    )
    facilitator = UserChoiceField(label=_("Facilitator"), queryset=_people())
    participant_roles = forms.ModelMultipleChoiceField(
        label=_("Participants (response roles)"),
        queryset=ResponseRole.objects.all(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checkbox-list"}),
    )
    services = forms.ModelMultipleChoiceField(
        label=_("Services involved"),
        queryset=ERPService.objects.all(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checkbox-list"}),
    )
    scheduled_start = forms.DateTimeField(
        label=_("Scheduled start"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    class Meta:
        model = Drill
        fields = ["title", "scenario", "plan_version", "kind", "scheduled_start", "duration_minutes", "location",
                  "facilitator", "participant_roles", "services"]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["services"] = list(self.instance.services.values_list("pk", flat=True))


class CompleteForm(forms.Form):
    hypothesis_held = forms.TypedChoiceField(
        label=_("Did the hypothesis hold?"),
        choices=[("yes", _("Yes, it held")), ("no", _("No, it did not"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    passed = forms.TypedChoiceField(
        label=_("Result"),
        choices=[("", _("Work it out from the figures")), ("yes", _("Passed")), ("no", _("Failed"))],
        coerce=lambda v: v == "yes",
        empty_value=None,
        required=False,
    )
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why is the drill cancelled?"), widget=forms.Textarea(attrs={"rows": 2}))


class StepFinishForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=StepRecord.Outcome.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class InjectLogForm(forms.Form):
    inject = forms.IntegerField(required=False, widget=forms.HiddenInput)
    text = forms.CharField(label=_("What happened"), required=False, max_length=500)


class RestoredForm(forms.Form):
    data_loss_minutes = forms.IntegerField(label=_("Data lost (minutes)"), min_value=0, max_value=100000)


class FindingForm(forms.ModelForm):
    class Meta:
        model = Finding
        fields = ["kind", "severity", "title", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class ActionForm(forms.Form):
    title = forms.CharField(label=_("Action"), max_length=200, required=False)
    owner = UserChoiceField(label=_("Owner"), queryset=_people())
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))


class RiskChangeForm(forms.Form):
    risk = forms.ModelChoiceField(label=_("Risk"), queryset=Risk.objects.order_by("title"))
    residual_likelihood = forms.IntegerField(label=_("Residual likelihood (1–5)"), min_value=1, max_value=5)
    residual_impact = forms.IntegerField(label=_("Residual impact (1–5)"), min_value=1, max_value=5)
