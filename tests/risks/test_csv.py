"""CSV export of the risk register: Excel-friendly UTF-8, the register's filters, one row per risk."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from risks.models import Risk
from tests.factories import PlanFactory, RiskFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("risks:risk-export")


@pytest.fixture
def owner(db):
    return UserFactory(username="zhang", first_name="伟", last_name="张", role="manager")


def _rows(response) -> list[dict]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff"), "the byte order mark lets Excel detect UTF-8"
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))


def test_it_exports_a_header_and_one_row_per_risk(manager_client, owner):
    network = ServiceFactory(name="Network")
    database = ServiceFactory(name="ERP database")
    risk = RiskFactory(
        title="Core switch failure",
        owner=owner,
        services=[network, database],
        likelihood=4,
        impact=5,
        residual_likelihood=2,
        residual_impact=3,
        controls="Redundant pair",
        last_reviewed_on=datetime.date(2024, 1, 1),
    )
    risk.plans.set([PlanFactory(title="ERP outage")])
    RiskFactory(owner=owner)

    response = manager_client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="risks-')
    rows = _rows(response)
    assert len(rows) == 2
    row = next(r for r in rows if r["Title"] == "Core switch failure")
    assert row["ID"] == str(risk.pk)
    assert row["Category"] == "Hardware failure"
    assert row["Services"] in ("Network; ERP database", "ERP database; Network")
    assert (row["Likelihood"], row["Impact"], row["Inherent score"], row["Inherent level"]) == (
        "4",
        "5",
        "20",
        "Critical",
    )
    assert (row["Residual score"], row["Level"]) == ("6", "Medium")
    assert row["Answering plans"] == "ERP outage"
    assert row["Controls"] == "Redundant pair"
    assert row["Last reviewed"] == "2024-01-01"
    assert row["Review overdue"] == "yes"


def test_chinese_text_round_trips(manager_client, owner):
    RiskFactory(
        title="供应商物流系统中断",
        controls="备用物流商；手工发货单。",
        owner=owner,
        services=[ServiceFactory(name="仓库管理")],
    )

    row = _rows(manager_client.get(URL))[0]

    assert row["Title"] == "供应商物流系统中断"
    assert row["Controls"] == "备用物流商；手工发货单。"
    assert row["Services"] == "仓库管理"
    assert row["Owner"] == "伟 张"


def test_it_exports_only_the_filtered_risks(manager_client, owner):
    RiskFactory(title="phishing", category=Risk.Category.CYBER, owner=owner, likelihood=4, impact=4)
    RiskFactory(title="ddos", category=Risk.Category.CYBER, owner=owner, likelihood=2, impact=3)
    RiskFactory(title="disk", category=Risk.Category.HARDWARE, owner=owner, likelihood=4, impact=4)

    by_category = _rows(manager_client.get(URL, {"category": "cyber_threat"}))
    by_cell = _rows(manager_client.get(URL, {"likelihood": 4, "impact": 4, "q": "phish"}))

    assert {r["Title"] for r in by_category} == {"phishing", "ddos"}
    assert [r["Title"] for r in by_cell] == ["phishing"]


def test_an_empty_selection_still_has_the_header(manager_client):
    body = manager_client.get(URL, {"category": "natural_disaster"}).content.decode("utf-8")

    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert len(rows) == 1
    assert rows[0][:2] == ["ID", "Title"]


def test_multiline_text_stays_in_one_cell(manager_client, owner):
    RiskFactory(title="tape", treatment_plan="Buy a new drive.\nTest a restore, monthly.", owner=owner)

    row = _rows(manager_client.get(URL))[0]

    assert row["Treatment plan"] == "Buy a new drive.\nTest a restore, monthly."


def test_a_spreadsheet_formula_is_neutralised(manager_client, owner):
    RiskFactory(title='=HYPERLINK("http://evil")', controls="@SUM(A1)", owner=owner)

    row = _rows(manager_client.get(URL))[0]

    assert row["Title"] == '\'=HYPERLINK("http://evil")'
    assert row["Controls"] == "'@SUM(A1)"


def test_it_refuses_a_business_user(business_client):
    assert business_client.get(URL).status_code == 403


def test_the_export_query_count_stays_constant_as_risks_grow(manager_client, owner, django_assert_max_num_queries):
    def make(n):
        for _ in range(n):
            RiskFactory(owner=owner, services=[ServiceFactory()]).plans.set([PlanFactory()])

    make(2)
    with CaptureQueriesContext(connection) as few:
        manager_client.get(URL)
    make(15)
    with CaptureQueriesContext(connection) as many:
        manager_client.get(URL)

    assert len(many.captured_queries) == len(few.captured_queries)
    # session, user, user and group permissions (2), risks with owners, their services, their plans
    with django_assert_max_num_queries(7):
        manager_client.get(URL)
