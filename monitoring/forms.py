"""The check form: the common fields of a check plus one group of fields per kind, turned into the
check's `settings`. The form validates input types only; the services (Check.clean) own the rules,
and their errors ("settings.url") are shown on the matching field ("http_url").

The SQL database URL holds a password: it is never rendered back into the page. On edit an empty
field keeps the stored URL."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from plans.forms.core import attach_service_error
from plans.models import ERPService

from .models import HTTP_METHODS, Check, Event

COMMON_FIELDS = [
    "service", "name", "kind", "interval_seconds", "timeout_seconds", "comparison", "warning_threshold",
    "critical_threshold", "breaches_to_fire", "recoveries_to_clear", "use_baseline", "baseline_sigma",
]  # fmt: skip

# kind → [(form field, settings key)]
KIND_FIELDS: dict[str, list[tuple[str, str]]] = {
    Check.Kind.HTTP: [
        ("http_url", "url"), ("http_method", "method"), ("http_expected_status", "expected_status"),
        ("http_body_contains", "body_contains"),
    ],
    Check.Kind.TCP: [("tcp_host", "host"), ("tcp_port", "port")],
    Check.Kind.SQL: [("sql_database_url", "database_url"), ("sql_query", "query")],
    Check.Kind.PROMETHEUS: [("prom_server_url", "server_url"), ("prom_expression", "expression")],
    Check.Kind.LOG_PATTERN: [("log_pattern", "pattern"), ("log_path", "path"), ("log_window_minutes", "window_minutes")],
    Check.Kind.EVENT_RULE: [
        ("rule_event", "event"), ("rule_rule", "rule"), ("rule_group_by", "group_by"),
        ("rule_window_minutes", "window_minutes"), ("rule_work_start", "work_start"), ("rule_work_end", "work_end"),
        ("rule_work_days", "work_days"),
    ],
    Check.Kind.HEARTBEAT: [("hb_every_minutes", "every_minutes"), ("hb_grace_minutes", "grace_minutes")],
}  # fmt: skip
SECRET_FIELD = "sql_database_url"
WEEKDAYS = [
    (1, _("Monday")), (2, _("Tuesday")), (3, _("Wednesday")), (4, _("Thursday")), (5, _("Friday")),
    (6, _("Saturday")), (7, _("Sunday")),
]  # fmt: skip


class CheckForm(forms.ModelForm):
    http_url = forms.CharField(label=_("URL"), required=False, help_text=_("http:// or https://"))
    http_method = forms.ChoiceField(label=_("Method"), choices=[(m, m) for m in HTTP_METHODS], initial="GET")
    http_expected_status = forms.IntegerField(label=_("Expected status"), initial=200, required=False)
    http_body_contains = forms.CharField(label=_("Response contains (optional)"), required=False)
    tcp_host = forms.CharField(label=_("Host"), required=False)
    tcp_port = forms.IntegerField(label=_("Port"), required=False)
    sql_database_url = forms.CharField(
        label=_("Database URL"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("postgres://user:password@host:5432/db or sqlite:///path. Never shown again after saving."),
    )
    sql_query = forms.CharField(
        label=_("Read-only query"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One SELECT; its first column is the value (else the response time in ms)."),
    )  # fmt: skip
    prom_server_url = forms.CharField(label=_("Prometheus URL"), required=False, help_text="http://prometheus:9090")
    prom_expression = forms.CharField(label=_("PromQL expression"), required=False)
    log_pattern = forms.CharField(label=_("Regular expression"), required=False, help_text=r"ORA-\d{5}|deadlock")
    log_path = forms.CharField(
        label=_("Log file (optional)"), required=False,
        help_text=_("An absolute path the worker can read; empty to count lines pushed through the API."),
    )  # fmt: skip
    log_window_minutes = forms.IntegerField(label=_("Window (minutes)"), required=False, initial=5)
    rule_event = forms.ChoiceField(
        label=_("Events"), required=False, choices=[c for c in Event.Kind.choices if c[0] != Event.Kind.LOG]
    )
    rule_rule = forms.ChoiceField(
        label=_("Rule"),
        required=False,
        choices=[("count", _("Count per window above a threshold")), ("outside_hours", _("Any outside working hours"))],
    )
    rule_group_by = forms.ChoiceField(
        label=_("Count per"),
        required=False,
        choices=[("", _("all together")), ("user", _("user")), ("source", _("source"))],
    )
    rule_window_minutes = forms.IntegerField(label=_("Window (minutes)"), required=False, initial=15)
    rule_work_start = forms.CharField(label=_("Working hours start"), required=False, initial="08:00")
    rule_work_end = forms.CharField(label=_("Working hours end"), required=False, initial="18:00")
    rule_work_days = forms.TypedMultipleChoiceField(
        label=_("Working days"), required=False, coerce=int, choices=WEEKDAYS, initial=[1, 2, 3, 4, 5],
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    hb_every_minutes = forms.IntegerField(label=_("A push expected every (minutes)"), required=False)
    hb_grace_minutes = forms.IntegerField(label=_("Grace (minutes)"), required=False)

    class Meta:
        model = Check
        fields = COMMON_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = ERPService.objects.order_by("name")
        self.fields["kind"].widget.attrs["data-check-kind"] = ""
        self.fields["kind"].choices = Check.Kind.choices  # no empty choice
        self.fields["comparison"].label = _("Bad when the value is")
        self.fields["warning_threshold"].help_text = _(
            "HTTP, TCP: response time in ms; SQL: the query's number (else ms); log and rules: count per window."
        )
        if not self.instance.pk:
            self.initial.setdefault("kind", Check.Kind.HTTP)
        check = self.instance
        if check.pk:
            self.fields["kind"].disabled = True  # the settings belong to the kind
            for field, key in KIND_FIELDS.get(check.kind, []):
                if field != SECRET_FIELD and key in (check.settings or {}):
                    self.initial[field] = check.settings[key]
            if check.kind == Check.Kind.SQL:
                self.fields[SECRET_FIELD].help_text = _("Leave empty to keep the stored URL (%(url)s).") % {
                    "url": check.masked_settings.get("database_url", "")
                }

    def _post_clean(self):
        """No model validation here: check_create/check_update run it on the whole check (with its
        settings) and their errors go through add_service_error."""

    def kind_groups(self):
        """[(kind, label, bound fields)] for the template: one fieldset per kind."""
        return [(kind, Check.Kind(kind).label, [self[f] for f, _k in fields]) for kind, fields in KIND_FIELDS.items()]

    def common_fields(self):
        return [self[f] for f in COMMON_FIELDS]

    def settings(self) -> dict:
        """The settings of the chosen kind from the cleaned fields; empty optional fields left out."""
        kind = self.cleaned_data.get("kind") or self.instance.kind
        settings = {}
        for field, key in KIND_FIELDS.get(kind, []):
            value = self.cleaned_data.get(field)
            if value in (None, "", []):
                continue
            settings[key] = value.strip() if isinstance(value, str) else value
        if kind == Check.Kind.SQL and not settings.get("database_url") and self.instance.pk:
            stored = (self.instance.settings or {}).get("database_url")
            if stored:
                settings["database_url"] = stored
        if kind == Check.Kind.EVENT_RULE and settings.get("rule") != "outside_hours":
            for key in ("work_start", "work_end", "work_days"):
                settings.pop(key, None)
        return settings

    def service_fields(self) -> dict:
        data = {f: self.cleaned_data[f] for f in COMMON_FIELDS if f in self.cleaned_data}
        if self.instance.pk:
            data.pop("kind", None)
        data["settings"] = self.settings()
        return data

    def add_service_error(self, exc: ValidationError) -> None:
        """Errors of the services on the matching field: settings.url → http_url."""
        if not hasattr(exc, "error_dict"):
            attach_service_error(self, exc)
            return
        kind = self.cleaned_data.get("kind") or self.instance.kind
        by_key = {f"settings.{key}": field for field, key in KIND_FIELDS.get(kind, [])}
        for key, errors in exc.error_dict.items():
            field = by_key.get(key, key)
            self.add_error(field if field in self.fields else None, errors)
