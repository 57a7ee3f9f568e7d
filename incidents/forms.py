"""Forms of the incident pages. They validate input only; the views hand `cleaned_data` to
incidents.services, which owns the rules (the lifecycle, versions, silences' matchers, channels'
targets) and whose ValidationError is shown on the form."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from erpcontinuity.roles import ADMINISTRATOR, IT_OPERATIONS, MANAGER
from plans.forms.core import DateInput, UserChoiceField, attach_service_error
from plans.models import EmergencyPlan, ERPService, ResponseRole, Severity

from .models import Alert, Incident, NotificationChannel, PostIncidentReview, Silence

__all__ = ["attach_service_error"]

SEVERITY_CHOICES = Severity.choices
# The "open" group of the status filter: every status before resolved.
ACTIVE = "active"


def responders():
    """People who can command an incident or own a follow-up: operations, managers, administrators."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=[ADMINISTRATOR, IT_OPERATIONS, MANAGER]))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _services():
    return ERPService.objects.order_by("kind", "criticality", "name")


class ServicesField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


# --- The incident list ---------------------------------------------------------------------------


class IncidentFilterForm(forms.Form):
    SORTS = [
        ("newest", _("Newest first")),
        ("oldest", _("Oldest first")),
        ("severity", _("Most severe first")),
    ]

    q = forms.CharField(required=False, label=_("Search"))
    status = forms.ChoiceField(
        required=False,
        label=_("Status"),
        choices=[("", _("Any status")), (ACTIVE, _("Open (not yet resolved)")), *Incident.Status.choices],
    )
    severity = forms.ChoiceField(
        required=False,
        label=_("Severity"),
        choices=[("", _("Any severity")), *[(v, v.upper()) for v in Severity.values]],
    )
    service = forms.ModelChoiceField(queryset=ERPService.objects.none(), required=False, label=_("Service"),
                                     empty_label=_("Any service"))  # fmt: skip
    commander = UserChoiceField(queryset=get_user_model().objects.none(), required=False, label=_("Commander"),
                                empty_label=_("Anyone"))  # fmt: skip
    opened_from = forms.DateField(required=False, label=_("Opened from"), widget=DateInput())
    opened_to = forms.DateField(required=False, label=_("Opened to"), widget=DateInput())
    sort = forms.ChoiceField(required=False, label=_("Sort"), choices=SORTS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = _services()
        self.fields["commander"].queryset = responders()

    def selector_filters(self) -> dict:
        """The valid filters, as incidents.selectors.incident_list takes them (bad ones are dropped)."""
        data = getattr(self, "cleaned_data", {})
        filters: dict = {}
        status = data.get("status")
        if status == ACTIVE:
            filters["status"] = list(Incident.OPEN_STATUSES)
        elif status:
            filters["status"] = status
        for name in ("severity", "opened_from", "opened_to", "q"):
            if data.get(name):
                filters[name] = data[name]
        if data.get("service"):
            filters["service"] = data["service"].pk
        if data.get("commander"):
            filters["commander"] = data["commander"].pk
        return filters

    @property
    def sort_value(self) -> str:
        return (getattr(self, "cleaned_data", {}) or {}).get("sort") or "newest"


# --- Opening and editing an incident -------------------------------------------------------------


class IncidentOpenForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200,
                            help_text=_("What is wrong, in a few words people understand: “Orders cannot be saved”."))  # fmt: skip
    severity = forms.ChoiceField(label=_("Severity"), choices=SEVERITY_CHOICES, initial=Severity.SEV3,
                                 widget=forms.RadioSelect)  # fmt: skip
    services = ServicesField(queryset=ERPService.objects.none(), required=False, label=_("Affected services"),
                             widget=forms.CheckboxSelectMultiple)  # fmt: skip
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    business_impact = forms.CharField(label=_("Business impact"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}),
                                      help_text=_("Who cannot do what: “Sales cannot enter orders; 40 people wait.”"))  # fmt: skip
    commander = UserChoiceField(queryset=get_user_model().objects.none(), required=False,
                                label=_("Incident commander"), empty_label=_("Nobody yet"))  # fmt: skip
    detected_at = forms.DateTimeField(label=_("Detected at"), required=False, widget=DateTimeLocalInput(),
                                      help_text=_("When the problem was first noticed. Empty: now."))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = _services()
        self.fields["commander"].queryset = responders()


class IncidentEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    services = ServicesField(queryset=ERPService.objects.none(), required=False, label=_("Affected services"),
                             widget=forms.CheckboxSelectMultiple)  # fmt: skip
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    business_impact = forms.CharField(label=_("Business impact"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    detected_at = forms.DateTimeField(label=_("Detected at"), widget=DateTimeLocalInput())
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = _services()

    @classmethod
    def for_incident(cls, incident: Incident, data=None):
        initial = {
            "title": incident.title,
            "services": list(incident.services.all()),
            "description": incident.description,
            "business_impact": incident.business_impact,
            "detected_at": incident.detected_at,
            "expected_version": incident.version,
        }
        return cls(data, initial=initial)


# --- Actions on the incident page ----------------------------------------------------------------


class VersionedForm(forms.Form):
    """Carries the version of the incident the person saw; the service refuses a stale one."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class TransitionForm(VersionedForm):
    to = forms.ChoiceField(choices=[*Incident.Status.choices, ("reopen", _("Reopen"))])
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip


class ReopenForm(VersionedForm):
    reason = forms.CharField(label=_("Why reopen?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class SeverityForm(VersionedForm):
    severity = forms.ChoiceField(label=_("Severity"), choices=SEVERITY_CHOICES)


class CommanderForm(VersionedForm):
    commander = UserChoiceField(queryset=get_user_model().objects.none(), required=False,
                                label=_("Incident commander"), empty_label=_("Nobody"))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commander"].queryset = responders()


class NoteForm(forms.Form):
    message = forms.CharField(label=_("Note"), max_length=10000,
                              widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("What did you see or do?")}))  # fmt: skip


class PublicUpdateForm(forms.Form):
    message = forms.CharField(
        label=_("Update for business users"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown on the status page. Plain words: what is affected, what to do, when we expect it back."),
    )


class AttachPlanForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=EmergencyPlan.objects.all(), label=_("Plan"))


class ChecklistDoneForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


# --- Post-incident review ------------------------------------------------------------------------


class ReviewForm(forms.ModelForm):
    class Meta:
        model = PostIncidentReview
        fields = ["summary", "root_cause", "went_well", "went_badly", "lessons"]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in fields}


class ReviewActionForm(forms.Form):
    title = forms.CharField(label=_("Action"), max_length=200)
    owner = UserChoiceField(queryset=get_user_model().objects.none(), label=_("Owner"))
    due_date = forms.DateField(label=_("Due date"), widget=DateInput())
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = responders()


# --- Alerts --------------------------------------------------------------------------------------


class AlertFilterForm(forms.Form):
    q = forms.CharField(required=False, label=_("Search"))
    status = forms.ChoiceField(
        required=False, label=_("Status"), choices=[("", _("Any status")), *Alert.Status.choices]
    )
    source = forms.CharField(required=False, label=_("Source"), max_length=64)
    service = forms.ModelChoiceField(queryset=ERPService.objects.none(), required=False, label=_("Service"),
                                     empty_label=_("Any service"))  # fmt: skip
    incident = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = _services()

    def selector_filters(self) -> dict:
        data = getattr(self, "cleaned_data", {})
        filters = {name: data[name] for name in ("status", "source", "incident") if data.get(name)}
        if data.get("service"):
            filters["service"] = data["service"].pk
        return filters


# --- Silences, channels, escalation --------------------------------------------------------------


class SilenceForm(forms.ModelForm):
    class Meta:
        model = Silence
        fields = [
            "kind",
            "service",
            "source",
            "fingerprint_pattern",
            "summary_pattern",
            "starts_at",
            "ends_at",
            "reason",
        ]
        widgets = {
            "starts_at": DateTimeLocalInput(),
            "ends_at": DateTimeLocalInput(),
            "reason": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = _services()
        self.fields["service"].help_text = _("Mute the alerts of this service.")


class ChannelForm(forms.ModelForm):
    clear_secret = forms.BooleanField(required=False, label=_("Remove the stored secret"))

    class Meta:
        model = NotificationChannel
        fields = ["name", "kind", "target", "secret", "min_severity", "audience", "enabled", "include_drills",
                  "rate_limit_per_minute"]  # fmt: skip
        widgets = {
            "target": forms.Textarea(attrs={"rows": 2}),
            # Never echo a stored secret back into the page.
            "secret": forms.PasswordInput(render_value=False),
            "rate_limit_per_minute": forms.NumberInput(attrs={"min": 1}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].widget.attrs["data-channel-kind"] = ""
        if self.instance.pk:
            if self.instance.secret:
                self.fields["secret"].help_text = _("A secret is stored. Leave empty to keep it.")
        else:
            del self.fields["clear_secret"]
            self.fields["rate_limit_per_minute"].help_text = _(
                "Beyond this, messages are batched into a digest. Empty: the kind's default "
                "(20 a minute for DingTalk and WeCom)."
            )

    def service_fields(self) -> dict:
        """cleaned_data as the channel services take it: an empty secret keeps the stored one on
        edit, and an empty rate limit on create lets the service apply the kind's default."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "clear_secret"}
        if self.instance.pk:
            if self.cleaned_data.get("clear_secret"):
                data["secret"] = ""
            elif not data.get("secret"):
                data.pop("secret", None)
        elif data.get("rate_limit_per_minute") is None:
            data.pop("rate_limit_per_minute", None)
        return data


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    services = ServicesField(queryset=ERPService.objects.none(), required=False, label=_("Services"),
                             widget=forms.CheckboxSelectMultiple,
                             help_text=_("Incidents on these services follow this policy."))  # fmt: skip
    is_default = forms.BooleanField(label=_("Default policy"), required=False,
                                    help_text=_("Used when no policy covers a service. Only one policy is the default."))  # fmt: skip
    repeat_minutes = forms.IntegerField(label=_("Repeat the last level every (minutes)"), required=False, min_value=1,
                                        help_text=_("Empty: stop after the last level."))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = _services()


class LevelForm(forms.Form):
    order = forms.IntegerField(label=_("Level"), required=False, min_value=1,
                               help_text=_("Empty: after the last level."))  # fmt: skip
    delay_minutes = forms.IntegerField(label=_("Delay (minutes)"), min_value=0, initial=10,
                                       help_text=_("After the previous level (level 1: after the incident opened)."))  # fmt: skip
    notify_role = forms.ModelChoiceField(queryset=ResponseRole.objects.none(), required=False,
                                         label=_("Notify role"), empty_label="—")  # fmt: skip
    notify_user = UserChoiceField(queryset=get_user_model().objects.none(), required=False,
                                  label=_("Notify person"), empty_label="—")  # fmt: skip
    notify_channel = forms.ModelChoiceField(queryset=NotificationChannel.objects.none(), required=False,
                                            label=_("Notify channel"), empty_label="—")  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notify_role"].queryset = ResponseRole.objects.order_by("order", "name")
        self.fields["notify_user"].queryset = responders()
        self.fields["notify_channel"].queryset = NotificationChannel.objects.order_by("name")


# --- Statistics ----------------------------------------------------------------------------------


class StatsFilterForm(forms.Form):
    since = forms.DateField(required=False, label=_("Opened from"), widget=DateInput())
    until = forms.DateField(required=False, label=_("Opened to"), widget=DateInput())
    include_drills = forms.BooleanField(required=False, label=_("Include drills"))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            raise forms.ValidationError(_("The end date is before the start date."))
        return data
