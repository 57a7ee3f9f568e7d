"""Reads for the backup pages: the overview rows (3-2-1 compliance, age vs RPO, last restore vs
RTO, each green/amber/red) in a constant number of queries, and a policy's history."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import BackupPolicy, BackupRun, Verification

GREEN, AMBER, RED = "ok", "warn", "bad"
_RANK = {GREEN: 0, AMBER: 1, RED: 2}


def worst(*states: str) -> str:
    return max(states, key=lambda s: _RANK[s]) if states else GREEN


@dataclass
class PolicyRow:
    policy: BackupPolicy
    newest_at: datetime.datetime | None
    age_seconds: float | None
    limit_seconds: int
    freshness: str
    copies: dict
    copies_state: str
    restore: Verification | None
    restore_state: str
    failing: list[str] = field(default_factory=list)
    # The age of the newest backup proven usable (checksum or restore passed), as measured by the
    # last freshness check: what would really be lost if the ERP failed then.
    measured_rpo_seconds: float | None = None

    @property
    def measured_rpo_minutes(self) -> int | None:
        return None if self.measured_rpo_seconds is None else int(self.measured_rpo_seconds // 60)

    @property
    def measured_rpo_state(self) -> str:
        if self.measured_rpo_seconds is None:
            return AMBER
        return GREEN if self.measured_rpo_seconds <= self.policy.service.rpo_minutes * 60 else RED

    @property
    def age_minutes(self) -> int | None:
        return None if self.age_seconds is None else int(self.age_seconds // 60)

    @property
    def limit_minutes(self) -> int:
        return self.limit_seconds // 60

    @property
    def state(self) -> str:
        return worst(self.freshness, self.copies_state, self.restore_state, RED if self.failing else GREEN)


def _good_runs():
    return BackupRun.objects.filter(status=BackupRun.Status.SUCCEEDED)


def policy_list(*, q: str = "", service: int | None = None):
    completed = Coalesce(F("finished_at"), F("file_mtime"), F("started_at"))
    newest = _good_runs().filter(policy=OuterRef("pk")).annotate(done=completed).order_by("-done", "-id")
    qs = BackupPolicy.objects.select_related("service").annotate(
        newest_at=Subquery(newest.values("done")[:1]),
        newest_set=Subquery(newest.values("backup_set")[:1]),
    )
    for kind in Verification.Kind.values:
        last = Verification.objects.filter(policy=OuterRef("pk"), kind=kind).order_by("-started_at", "-id")
        qs = qs.annotate(**{f"last_{kind}_id": Subquery(last.values("id")[:1])})
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(service__name__icontains=q)
    if service:
        qs = qs.filter(service_id=service)
    return qs


def copies_from(policy: BackupPolicy, runs: list[BackupRun]) -> dict:
    """3-2-1-1 status of one backup set from its copies (runs with their locations)."""
    locations = list({r.location_id: r.location for r in runs}.values())
    media = sorted({loc.media_type.strip().lower() for loc in locations})
    offsite = sum(1 for loc in locations if loc.offsite)
    offline = sum(1 for loc in locations if loc.immutable_or_offline)
    missing = []
    if not runs:
        missing.append(_("no successful backup"))
    if len(locations) < policy.min_copies:
        missing.append(_("%(n)s of %(min)s copies") % {"n": len(locations), "min": policy.min_copies})
    if len(media) < policy.min_media_kinds:
        missing.append(_("%(n)s of %(min)s kinds of media") % {"n": len(media), "min": policy.min_media_kinds})
    if offsite < policy.min_offsite:
        missing.append(_("%(n)s of %(min)s off-site copies") % {"n": offsite, "min": policy.min_offsite})
    if policy.require_offline_or_immutable and not offline:
        missing.append(_("no offline or immutable copy"))
    return {
        "copies": len(locations),
        "locations": [loc.name for loc in locations],
        "media": media,
        "offsite": offsite,
        "offline_or_immutable": offline,
        "missing": missing,
    }


def overview_rows(policies, *, now=None) -> list[PolicyRow]:
    """One row per policy of the (page of the) list; 3 queries whatever the number of policies."""
    now = now or timezone.now()
    policies = list(policies)
    sets = {p.pk: p.newest_set for p in policies if p.newest_set is not None}
    copies: dict[int, list[BackupRun]] = {pk: [] for pk in sets}
    if sets:
        for run in (
            _good_runs().filter(policy_id__in=sets, backup_set__in=set(sets.values())).select_related("location")
        ):
            if sets.get(run.policy_id) == run.backup_set:
                copies[run.policy_id].append(run)
    ids = [getattr(p, f"last_{k}_id") for p in policies for k in Verification.Kind.values]
    last = {v.pk: v for v in Verification.objects.filter(pk__in=[i for i in ids if i])}
    rows = []
    for policy in policies:
        limit = min(policy.service.rpo_minutes, policy.expected_frequency_minutes + policy.grace_minutes) * 60
        age = (now - policy.newest_at).total_seconds() if policy.newest_at else None
        if age is None or age > 2 * limit:
            freshness = RED
        elif age > limit:
            freshness = AMBER
        else:
            freshness = GREEN
        status = copies_from(policy, copies.get(policy.pk, []))
        restore = last.get(policy.last_restore_id)
        rto = policy.service.rto_minutes * 60
        if restore is None:
            restore_state = AMBER
        elif restore.result != Verification.Result.PASS or restore.duration_seconds > rto:
            restore_state = RED
        elif restore.started_at + datetime.timedelta(days=policy.restore_test_every_days) < now:
            restore_state = AMBER
        else:
            restore_state = GREEN
        last_freshness = last.get(policy.last_freshness_id)
        failing = [
            Verification.Kind(k).label
            for k in Verification.Kind.values
            if (v := last.get(getattr(policy, f"last_{k}_id"))) and v.result != Verification.Result.PASS
        ]
        rows.append(
            PolicyRow(
                policy=policy,
                newest_at=policy.newest_at,
                age_seconds=age,
                limit_seconds=limit,
                freshness=freshness,
                copies=status,
                copies_state=RED if status["missing"] else GREEN,
                restore=restore,
                restore_state=restore_state,
                failing=failing,
                measured_rpo_seconds=last_freshness.measured_rpo_seconds if last_freshness else None,
            )
        )
    return rows


def compliance_summary() -> dict[str, int]:
    """Counts of policies per state, for the dashboard."""
    counts = {GREEN: 0, AMBER: 0, RED: 0}
    for row in overview_rows(policy_list().filter(enabled=True)):
        counts[row.state] += 1
    return counts


def policy_runs(policy: BackupPolicy, limit: int = 50):
    return policy.runs.select_related("location").order_by("-started_at", "-id")[:limit]


def policy_verifications(policy: BackupPolicy, limit: int = 50):
    return policy.verifications.select_related("run").order_by("-started_at", "-id")[:limit]
