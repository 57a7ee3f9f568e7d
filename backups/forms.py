"""Browser forms for backup policies and locations. They parse input; the rules (3-2-1 numbers,
sanity query shapes, directory and pattern) live in the models' clean() that the services run,
so the admin, the API and these forms refuse the same things. The form adds what only makes
sense in a browser: the directory must exist on this server, and the scratch password is never
sent back to the page."""

from __future__ import annotations

import json
import os

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import BackupLocation, BackupPolicy


class PrettyJSONField(forms.JSONField):
    """A JSON textarea that shows stored lists indented, one entry per line."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


def _json_area(label, help_text):
    return PrettyJSONField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 5, "class": "backups-json", "spellcheck": "false"}),
        error_messages={"invalid": _("This is not valid JSON: check the quotes, commas and brackets.")},
    )


class PolicyForm(forms.ModelForm):
    sanity_queries = _json_area(_("Sanity queries"), BackupPolicy._meta.get_field("sanity_queries").help_text)
    expected_tables = _json_area(_("Expected tables"), BackupPolicy._meta.get_field("expected_tables").help_text)
    expected_files = _json_area(
        _("Expected files in archives"), _('Paths inside a tar or zip archive, or {"path": ..., "min_bytes": N}.')
    )

    class Meta:
        model = BackupPolicy
        fields = [
            "service",
            "name",
            "what",
            "expected_frequency_minutes",
            "grace_minutes",
            "retention_days",
            "min_copies",
            "min_media_kinds",
            "min_offsite",
            "require_offline_or_immutable",
            "verify_every_minutes",
            "restore_test_every_days",
            "scratch_target",
            "expected_tables",
            "sanity_queries",
            "expected_files",
            "min_size_bytes",
            "shrink_alert_ratio",
            "enabled",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored_scratch = self.instance.scratch_target if self.instance.pk else ""
        # Never send the scratch password back to the browser: show it masked, and keep the
        # stored URL when the masked text comes back unchanged.
        self.initial["scratch_target"] = self.instance.scratch_target_display if self.instance.pk else ""
        for name in ("sanity_queries", "expected_tables", "expected_files"):
            self.initial.setdefault(name, [])

    def clean_scratch_target(self) -> str:
        value = (self.cleaned_data.get("scratch_target") or "").strip()
        if self.stored_scratch and value == self.instance.scratch_target_display:
            return self.stored_scratch
        return value

    def clean(self):
        data = super().clean()
        for name in ("sanity_queries", "expected_tables", "expected_files"):
            if name in data and data[name] is None:
                data[name] = []
        return data


class LocationForm(forms.ModelForm):
    class Meta:
        model = BackupLocation
        fields = [
            "name",
            "kind",
            "media_type",
            "offsite",
            "immutable_or_offline",
            "path",
            "file_pattern",
            "scan_every_minutes",
        ]

    def clean_path(self) -> str:
        raw = (self.cleaned_data.get("path") or "").strip()
        path = raw.rstrip("/") or raw
        kind = self.cleaned_data.get("kind")
        if path and kind in BackupLocation.DIRECTORY_KINDS and path.startswith("/") and not os.path.isdir(path):
            raise forms.ValidationError(
                _("The directory %(path)s does not exist on this server.") % {"path": path}, code="missing"
            )
        return path

    def clean_file_pattern(self) -> str:
        return (self.cleaned_data.get("file_pattern") or "").strip()
