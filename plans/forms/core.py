"""Forms for ERP services, team, fallback procedures and action items.

They validate input only; views hand `cleaned_data` to plans.services, which owns the rules
(dependency cycles, RTO within MTPD, version bumps, completion timestamps)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from plans.models import ActionItem, EmergencyPlan, ERPService, FallbackProcedure, ResponseRole, TeamMember


def attach_service_error(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a ValidationError raised by a service on the form: on its field when the form has one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        full = obj.get_full_name()
        return f"{full} ({obj.username})" if full else obj.username


def _active_users():
    return get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


# --- ERP services -------------------------------------------------------------------------------


class ServiceForm(forms.ModelForm):
    business_owner = UserChoiceField(queryset=_active_users(), required=False, label=_("Business owner"))

    class Meta:
        model = ERPService
        fields = [
            "name",
            "code",
            "kind",
            "criticality",
            "description",
            "rto_minutes",
            "rpo_minutes",
            "mtpd_minutes",
            "owner_department",
            "business_owner",
            "depends_on",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "rto_minutes": forms.NumberInput(attrs={"min": 0}),
            "rpo_minutes": forms.NumberInput(attrs={"min": 0}),
            "mtpd_minutes": forms.NumberInput(attrs={"min": 0}),
        }
        help_texts = {
            "depends_on": _("The services this one needs in order to run (hold Ctrl or ⌘ to pick several)."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = ERPService.objects.order_by("kind", "name")
        if self.instance.pk:
            # A service cannot depend on itself; the service layer also refuses it.
            choices = choices.exclude(pk=self.instance.pk)
        field = self.fields["depends_on"]
        field.queryset = choices
        # Grouped by kind, infrastructure first, and tall enough to see every service at once.
        groups = {kind: [] for kind in (ERPService.Kind.INFRASTRUCTURE, ERPService.Kind.BUSINESS)}
        for service in choices:
            groups.setdefault(service.kind, []).append((service.pk, service.name))
        field.choices = [(ERPService.Kind(kind).label, options) for kind, options in groups.items() if options]
        field.widget.attrs["size"] = min(sum(len(o) + 1 for o in groups.values() if o), 16) or 4
        self.fields["business_owner"].queryset = _active_users()


# --- Response team ------------------------------------------------------------------------------


class RoleForm(forms.ModelForm):
    class Meta:
        model = ResponseRole
        fields = ["name", "key", "order", "description", "responsibilities"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "responsibilities": forms.Textarea(attrs={"rows": 5}),
            "order": forms.NumberInput(attrs={"min": 0}),
        }
        help_texts = {
            "key": _("Short identifier, e.g. incident-commander."),
            "order": _("Roles are listed by this number, smallest first."),
            "responsibilities": _("One responsibility per line."),
        }


class MemberForm(forms.ModelForm):
    user = UserChoiceField(queryset=_active_users(), required=False, label=_("User account"))

    class Meta:
        model = TeamMember
        fields = ["name", "rank", "user", "email", "phone", "chat_handle"]
        widgets = {"rank": forms.NumberInput(attrs={"min": 1})}

    def __init__(self, *args, role: ResponseRole, **kwargs):
        super().__init__(*args, **kwargs)
        self.role = role
        self.fields["user"].queryset = _active_users()
        self.fields["user"].help_text = _("Optional: link the person's login, so they see their own duties.")

    def clean_rank(self):
        # The database refuses two members with the same rank in a role; say which rank is taken
        # and by whom, next to the field, instead of a generic error.
        rank = self.cleaned_data["rank"]
        holder = TeamMember.objects.filter(role=self.role, rank=rank).exclude(pk=self.instance.pk).first()
        if holder is not None:
            raise ValidationError(
                _("%(name)s already holds rank %(rank)d in this role.") % {"name": holder.name, "rank": rank}
            )
        return rank


# --- Fallback procedures ------------------------------------------------------------------------


class FallbackForm(forms.ModelForm):
    class Meta:
        model = FallbackProcedure
        fields = ["service", "title", "audience", "when_to_use", "steps", "paper_records", "reentry", "forms_location"]
        widgets = {
            "when_to_use": forms.Textarea(attrs={"rows": 3}),
            "steps": forms.Textarea(attrs={"rows": 10}),
            "paper_records": forms.Textarea(attrs={"rows": 4}),
            "reentry": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = ERPService.objects.order_by("name")


# --- Action items -------------------------------------------------------------------------------


class ActionItemForm(forms.ModelForm):
    owner = UserChoiceField(queryset=_active_users(), label=_("Owner"))

    class Meta:
        model = ActionItem
        fields = ["title", "description", "owner", "due_date", "plan", "status"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4}), "due_date": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _active_users()
        self.fields["plan"].queryset = EmergencyPlan.objects.order_by("title")
        if not self.instance.pk:
            # A new item starts open; its status changes later, on edit.
            del self.fields["status"]


class ActionFilterForm(forms.Form):
    """The action list's filters; invalid values are ignored rather than refused."""

    q = forms.CharField(required=False, label=_("Search"))
    status = forms.ChoiceField(required=False, label=_("Status"), choices=[("", _("Any"))] + ActionItem.Status.choices)
    owner = UserChoiceField(queryset=_active_users(), required=False, label=_("Owner"), empty_label=_("Anyone"))
    overdue = forms.BooleanField(required=False, label=_("Overdue only"))
    mine = forms.BooleanField(required=False, label=_("Mine only"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _active_users()
