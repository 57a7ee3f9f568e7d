"""The risk form: validates input only; views hand the cleaned data to risks.services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from plans.models import EmergencyPlan, ERPService

from .models import Risk

LIKELIHOOD_LABELS = {
    1: _("Rare"),
    2: _("Unlikely"),
    3: _("Possible"),
    4: _("Likely"),
    5: _("Almost certain"),
}
IMPACT_LABELS = {
    1: _("Negligible"),
    2: _("Minor"),
    3: _("Moderate"),
    4: _("Major"),
    5: _("Severe"),
}


def _choices(labels: dict) -> list[tuple]:
    # format_lazy: the form classes are built at import, the labels must follow each request's language.
    return [("", "---------")] + [(n, format_lazy("{} – {}", n, label)) for n, label in labels.items()]


def likelihood_label(value: int) -> str:
    return f"{value} – {LIKELIHOOD_LABELS[value]}" if value in LIKELIHOOD_LABELS else str(value)


def impact_label(value: int) -> str:
    return f"{value} – {IMPACT_LABELS[value]}" if value in IMPACT_LABELS else str(value)


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        full_name = obj.get_full_name()
        return f"{full_name} ({obj.username})" if full_name else obj.username


class RiskForm(forms.ModelForm):
    likelihood = forms.TypedChoiceField(
        label=_("Likelihood"),
        choices=_choices(LIKELIHOOD_LABELS),
        coerce=int,
        help_text=_("How likely is it to happen, before any controls?"),
    )
    impact = forms.TypedChoiceField(
        label=_("Impact"),
        choices=_choices(IMPACT_LABELS),
        coerce=int,
        help_text=_("How bad would it be for the business, before any controls?"),
    )
    residual_likelihood = forms.TypedChoiceField(
        label=_("Residual likelihood"),
        choices=_choices(LIKELIHOOD_LABELS),
        coerce=int,
        help_text=_("Likelihood with the controls in place."),
    )
    residual_impact = forms.TypedChoiceField(
        label=_("Residual impact"),
        choices=_choices(IMPACT_LABELS),
        coerce=int,
        help_text=_("Impact with the controls in place. The residual score may not exceed the inherent score."),
    )
    owner = OwnerChoiceField(label=_("Owner"), queryset=get_user_model().objects.none())
    services = forms.ModelMultipleChoiceField(
        label=_("Services threatened"),
        required=False,
        queryset=ERPService.objects.order_by("criticality", "name"),
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
    )
    plans = forms.ModelMultipleChoiceField(
        label=_("Answering plans"),
        required=False,
        queryset=EmergencyPlan.objects.order_by("title"),
        help_text=_("The emergency plans that respond when this risk happens."),
    )

    class Meta:
        model = Risk
        fields = [
            "title",
            "category",
            "description",
            "services",
            "likelihood",
            "impact",
            "residual_likelihood",
            "residual_impact",
            "owner",
            "treatment",
            "treatment_plan",
            "controls",
            "plans",
            "last_reviewed_on",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "treatment_plan": forms.Textarea(attrs={"rows": 3}),
            "controls": forms.Textarea(attrs={"rows": 3}),
            "last_reviewed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {
            "last_reviewed_on": _("The next review date follows from this date and the residual level."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True)
        if self.instance.pk and self.instance.owner_id:
            # Keep the current owner selectable even after their account was deactivated.
            users = get_user_model().objects.filter(Q(is_active=True) | Q(pk=self.instance.owner_id))
        self.fields["owner"].queryset = users.order_by("first_name", "last_name", "username")
