"""Every state change of backups/: run reports (API), directory scans, verifications and the tick.

Keyword-only functions. A failed verification raises an alert into incidents (source "backups",
fingerprint "policy-<id>-<kind>"); the next passing one of the same kind resolves it.

Split by concern (DESIGN.md "Inside an app"). Import from here: `from backups import services`.
"""

from ._common import ALERT_SOURCE
from .policies import (
    CHUNK_SIZE,
    location_create,
    location_delete,
    location_update,
    policy_create,
    policy_delete,
    policy_update,
    sha256_file,
)
from .runs import mark_stale_runs, run_report_fail, run_report_finish, run_report_start, scan_location
from .tick import claim_due_locations, claim_due_policies, models_q_due, request_verification
from .verification import (
    SIZE_TREND_WINDOW,
    Kind,
    Result,
    copies_status,
    record_verification,
    restore_due,
    restore_progress_start,
    restore_progress_update,
    restore_test,
    scratch_database_name,
    verify_checksum,
    verify_copies,
    verify_freshness,
    verify_policy,
    verify_size,
)

__all__ = [
    "ALERT_SOURCE", "CHUNK_SIZE", "SIZE_TREND_WINDOW", "Kind", "Result", "claim_due_locations", "claim_due_policies",
    "copies_status", "location_create", "location_delete", "location_update", "mark_stale_runs", "models_q_due",
    "policy_create", "policy_delete", "policy_update", "record_verification", "request_verification", "restore_due",
    "restore_progress_start", "restore_progress_update", "restore_test", "run_report_fail", "run_report_finish",
    "run_report_start", "scan_location", "scratch_database_name", "sha256_file", "verify_checksum", "verify_copies",
    "verify_freshness", "verify_policy", "verify_size",
]  # fmt: skip
