"""The risk-register REST API: computed fields are never taken from the client, bad ratings are a
400 naming the field, business users are refused, and only managers/administrators delete."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from risks.models import Risk
from tests.factories import PlanFactory, RiskFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def risk_payload(owner_user, **overrides):
    return {
        "title": "Database server disk failure",
        "category": "hardware",
        "likelihood": 3,
        "impact": 5,
        "residual_likelihood": 2,
        "residual_impact": 3,
        "owner": owner_user.pk,
        **overrides,
    }


# --- Access -------------------------------------------------------------------------------------


def test_anonymous_requests_are_refused(client):
    risk = RiskFactory()
    assert client.get("/api/risks/").status_code in (401, 403)
    assert client.get(f"/api/risks/{risk.pk}/").status_code in (401, 403)
    assert client.get("/api/risks/heatmap/").status_code in (401, 403)


def test_a_business_user_is_refused_reads_and_writes(business_client, business_user):
    risk = RiskFactory()
    assert business_client.get("/api/risks/").status_code == 403
    assert business_client.get(f"/api/risks/{risk.pk}/").status_code == 403
    assert business_client.get("/api/risks/heatmap/").status_code == 403
    assert post(business_client, "/api/risks/", risk_payload(business_user)).status_code == 403
    assert patch(business_client, f"/api/risks/{risk.pk}/", {"title": "x"}).status_code == 403
    assert post(business_client, f"/api/risks/{risk.pk}/review/").status_code == 403
    assert business_client.delete(f"/api/risks/{risk.pk}/").status_code == 403
    assert Risk.objects.filter(pk=risk.pk).exists()


def test_ops_cannot_delete_a_risk(ops_client):
    risk = RiskFactory()
    assert ops_client.delete(f"/api/risks/{risk.pk}/").status_code == 403
    assert Risk.objects.filter(pk=risk.pk).exists()


@pytest.mark.parametrize("role", ["manager", "administrator"])
def test_managers_and_administrators_delete_risks(role_clients, role):
    risk = RiskFactory()
    assert role_clients[role].delete(f"/api/risks/{risk.pk}/").status_code == 204
    assert not Risk.objects.filter(pk=risk.pk).exists()


def test_an_unknown_risk_is_a_404(manager_client):
    assert manager_client.get("/api/risks/99999/").status_code == 404
    assert patch(manager_client, "/api/risks/99999/", {"title": "x"}).status_code == 404
    assert post(manager_client, "/api/risks/99999/review/").status_code == 404
    assert manager_client.delete("/api/risks/99999/").status_code == 404


# --- Create and update --------------------------------------------------------------------------


def test_ops_proposes_a_risk_and_the_scores_are_computed(ops_client, manager_user):
    service = ServiceFactory()
    plan = PlanFactory(services=[service])
    payload = risk_payload(
        manager_user, services=[service.pk], plans=[plan.pk],
        # Computed fields sent by the client are ignored, not trusted.
        inherent_score=1, residual_score=1, level="low", next_review_date="2000-01-01",
    )  # fmt: skip
    response = post(ops_client, "/api/risks/", payload)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["inherent_score"], data["residual_score"], data["level"]) == (15, 6, "medium")
    assert data["services"] == [service.pk] and data["plans"] == [plan.pk]
    # Medium residual level: reviewed every 180 days (settings.RISK_REVIEW_DAYS).
    assert data["next_review_date"] == (timezone.localdate() + datetime.timedelta(days=180)).isoformat()
    risk = Risk.objects.get()
    assert (risk.inherent_score, risk.level) == (15, "medium")


def test_updating_the_ratings_recomputes_the_level(manager_client):
    risk = RiskFactory(likelihood=3, impact=4, residual_likelihood=2, residual_impact=3)
    response = patch(manager_client, f"/api/risks/{risk.pk}/", {"residual_likelihood": 3, "residual_impact": 4})
    assert response.status_code == 200, response.json()
    assert (response.json()["residual_score"], response.json()["level"]) == (12, "high")
    risk.refresh_from_db()
    assert risk.level == "high"


@pytest.mark.parametrize(
    ("payload", "field", "reason"),
    [
        ({"likelihood": 6}, "likelihood", "less than or equal to 5"),
        ({"impact": 0}, "impact", "greater than or equal to 1"),
        ({"residual_likelihood": "often"}, "residual_likelihood", "valid integer"),
        ({"category": "meteor"}, "category", "not a valid choice"),
        ({"treatment": "ignore"}, "treatment", "not a valid choice"),
        ({"owner": 99999}, "owner", "does not exist"),
        ({"services": [99999]}, "services", "does not exist"),
        ({"plans": [99999]}, "plans", "does not exist"),
        ({"last_reviewed_on": "yesterday"}, "last_reviewed_on", "wrong format"),
        (
            {"residual_likelihood": 5, "residual_impact": 5},
            "residual_impact",
            "cannot be higher than the inherent score",
        ),
    ],
)
def test_bad_risk_input_is_a_400_naming_the_field(ops_client, manager_user, payload, field, reason):
    response = post(ops_client, "/api/risks/", risk_payload(manager_user, **payload))
    assert response.status_code == 400
    assert reason in " ".join(response.json()[field])
    assert not Risk.objects.exists()


def test_missing_risk_fields_are_each_named(ops_client):
    response = post(ops_client, "/api/risks/", {})
    assert response.status_code == 400
    assert set(response.json()) >= {
        "title", "category", "likelihood", "impact", "residual_likelihood", "residual_impact", "owner",
    }  # fmt: skip


def test_patching_a_residual_above_the_inherent_is_a_400_and_changes_nothing(manager_client):
    risk = RiskFactory(likelihood=2, impact=2, residual_likelihood=1, residual_impact=2)
    response = patch(manager_client, f"/api/risks/{risk.pk}/", {"residual_impact": 5})
    assert response.status_code == 400
    assert "inherent score (4)" in response.json()["residual_impact"][0]
    risk.refresh_from_db()
    assert risk.residual_impact == 2


# --- Review -------------------------------------------------------------------------------------


def test_marking_a_risk_reviewed_moves_the_next_review(ops_client):
    old = timezone.localdate() - datetime.timedelta(days=400)
    risk = RiskFactory(last_reviewed_on=old, likelihood=5, impact=5, residual_likelihood=4, residual_impact=4)
    assert risk.review_overdue
    response = post(ops_client, f"/api/risks/{risk.pk}/review/")
    assert response.status_code == 200, response.json()
    today = timezone.localdate()
    assert response.json()["last_reviewed_on"] == today.isoformat()
    # Critical residual level: reviewed every 30 days.
    assert response.json()["next_review_date"] == (today + datetime.timedelta(days=30)).isoformat()
    assert response.json()["review_overdue"] is False


def test_a_review_on_a_given_day(ops_client):
    risk = RiskFactory()
    response = post(ops_client, f"/api/risks/{risk.pk}/review/", {"on": "2030-01-31"})
    assert response.status_code == 200
    assert response.json()["last_reviewed_on"] == "2030-01-31"
    response = post(ops_client, f"/api/risks/{risk.pk}/review/", {"on": "last week"})
    assert response.status_code == 400
    assert "wrong format" in response.json()["on"][0]


# --- Filters and the heat map -------------------------------------------------------------------


def test_risks_filter_by_category_level_treatment_owner_service_and_overdue(manager_client):
    owner = UserFactory()
    erp = ServiceFactory()
    overdue = timezone.localdate() - datetime.timedelta(days=800)
    RiskFactory(title="Disk", category="hardware", owner=owner, services=[erp], last_reviewed_on=overdue)
    RiskFactory(title="Phishing", category="cyber_threat", treatment="transfer", likelihood=5, impact=5,
                residual_likelihood=4, residual_impact=4)  # fmt: skip
    RiskFactory(title="Typo", category="human_error", likelihood=1, impact=2, residual_likelihood=1, residual_impact=1)

    def titles(query):
        response = manager_client.get(f"/api/risks/?{query}")
        assert response.status_code == 200, response.json()
        return sorted(r["title"] for r in response.json()["results"])

    assert titles("category=cyber_threat") == ["Phishing"]
    assert titles("level=critical") == ["Phishing"]
    assert titles("level=low") == ["Typo"]
    assert titles("treatment=transfer") == ["Phishing"]
    assert titles(f"owner={owner.pk}") == ["Disk"]
    assert titles(f"service={erp.pk}") == ["Disk"]
    assert titles("overdue=true") == ["Disk"]
    assert titles("overdue=false") == ["Phishing", "Typo"]
    assert titles("q=phish") == ["Phishing"]


def test_an_invalid_risk_filter_is_a_400_naming_it(manager_client):
    response = manager_client.get("/api/risks/?level=apocalyptic")
    assert response.status_code == 400
    assert "level" in response.json()


def test_the_heat_map_counts_risks_per_cell(ops_client):
    RiskFactory(likelihood=5, impact=4, residual_likelihood=2, residual_impact=3)
    RiskFactory(likelihood=5, impact=4, residual_likelihood=1, residual_impact=1)
    RiskFactory(likelihood=1, impact=1, residual_likelihood=1, residual_impact=1, category="software")

    def cell(data, likelihood, impact):
        row = next(r for r in data["rows"] if r["likelihood"] == likelihood)
        return next(c for c in row["cells"] if c["impact"] == impact)

    response = ops_client.get("/api/risks/heatmap/")
    assert response.status_code == 200
    data = response.json()
    assert data["view"] == "inherent"
    assert [r["likelihood"] for r in data["rows"]] == [5, 4, 3, 2, 1]
    assert all(len(r["cells"]) == 5 for r in data["rows"])
    assert cell(data, 5, 4) == {"likelihood": 5, "impact": 4, "score": 20, "level": "critical", "count": 2}
    assert cell(data, 1, 1)["count"] == 1

    residual = ops_client.get("/api/risks/heatmap/?view=residual").json()
    assert residual["view"] == "residual"
    assert cell(residual, 1, 1)["count"] == 2
    assert cell(residual, 2, 3)["count"] == 1
    assert cell(residual, 5, 4)["count"] == 0

    filtered = ops_client.get("/api/risks/heatmap/?category=software").json()
    assert sum(c["count"] for r in filtered["rows"] for c in r["cells"]) == 1


def test_an_unknown_heat_map_view_is_a_400(ops_client):
    response = ops_client.get("/api/risks/heatmap/?view=sideways")
    assert response.status_code == 400
    assert "view" in response.json()


def test_the_risk_list_query_count_is_constant(manager_client, django_assert_max_num_queries):
    services = [ServiceFactory(), ServiceFactory()]
    plan = PlanFactory(services=services)

    def make(n):
        for _ in range(n):
            RiskFactory(services=services).plans.set([plan])

    make(2)
    with CaptureQueriesContext(connection) as few:
        assert manager_client.get("/api/risks/").status_code == 200
    make(15)
    # session, user, user perms, group perms, COUNT, risks + owner, services prefetch, plans prefetch
    with django_assert_max_num_queries(8):
        assert manager_client.get("/api/risks/").status_code == 200
    assert len(few) == 8


def test_the_heat_map_is_one_query_whatever_the_size(manager_client, django_assert_max_num_queries):
    for _ in range(20):
        RiskFactory()
    # session, user, user perms, group perms, the GROUP BY
    with django_assert_max_num_queries(5):
        assert manager_client.get("/api/risks/heatmap/?view=residual").status_code == 200
