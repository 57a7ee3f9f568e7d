"""The iCalendar feed (parsed back with the icalendar library) and the PDF report (text read back
with pypdf), in English and Chinese."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar
from pypdf import PdfReader

from drills import services
from drills.models import Drill

from .factories import make_drill
from .test_pages import _reported_drill

pytestmark = pytest.mark.django_db


def _events(body: bytes) -> list:
    return [c for c in Calendar.from_ical(body).walk() if c.name == "VEVENT"]


def test_the_feed_is_a_calendar_of_the_drills_the_token_owner_may_see(client, business_client, business_user):
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=5)
    mine = make_drill(participants=[business_user], scheduled_start=start, title="Failover drill", location="Room 2")
    make_drill(title="Not my drill")
    token = services.feed_token_for(user=business_user)
    response = client.get(reverse("drills:feed", args=[token.token]))  # no login: calendar clients cannot
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    events = _events(response.content)
    assert len(events) == 1
    event = events[0]
    assert str(event["summary"]) == "Drill: Failover drill"
    assert event.decoded("dtstart") == start
    assert event.decoded("dtend") == start + datetime.timedelta(minutes=mine.duration_minutes)
    assert str(event["location"]) == "Room 2" and str(event["uid"]) == f"drill-{mine.pk}@erpcontinuity"
    assert str(event["url"]).endswith(mine.get_absolute_url())


def test_a_cancelled_drill_stays_in_the_feed_marked_cancelled(client, manager_user):
    drill = make_drill()
    services.drill_transition(drill=drill, to=Drill.Status.CANCELLED, reason="Audit week")
    token = services.feed_token_for(user=manager_user)
    [event] = _events(client.get(reverse("drills:feed", args=[token.token])).content)
    assert str(event["status"]) == "CANCELLED"


def test_a_revoked_or_unknown_token_gives_404(client, business_client, business_user):
    old = services.feed_token_for(user=business_user).token
    assert services.feed_token_for(user=business_user).token == old  # stable until revoked
    response = business_client.post(reverse("drills:feed-settings"))
    assert response.status_code == 302
    assert client.get(reverse("drills:feed", args=[old])).status_code == 404
    new = services.feed_token_for(user=business_user).token
    assert new != old and client.get(reverse("drills:feed", args=[new])).status_code == 200
    assert client.get(reverse("drills:feed", args=["guess"])).status_code == 404


def test_the_subscribe_page_shows_the_personal_address(business_client, business_user):
    page = business_client.get(reverse("drills:feed-settings")).content.decode()
    assert services.feed_token_for(user=business_user).token in page


def _pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_report_contains_the_figures(manager_client, ops_user):
    drill = _reported_drill(ops_user)
    row = drill.service_results.get()
    row.disruption_started_at = drill.started_at
    row.restored_at = drill.started_at + datetime.timedelta(minutes=75)
    row.data_loss_minutes = 12
    row.save()
    text = _pdf_text(manager_client.get(reverse("drills:drill-report-pdf", args=[drill.pk])))
    assert drill.title in text
    assert "1 h 15 min" in text  # achieved recovery time
    assert "1 h" in text and "12 min" in text and "15 min" in text  # target RTO, data lost, target RPO
    assert "missed" in text and "F0" in text  # RTO missed; a finding
    assert "Hypothesis" in text


def test_the_pdf_report_renders_chinese_text(manager_client, ops_user):
    drill = _reported_drill(ops_user)
    Drill.objects.filter(pk=drill.pk).update(title="数据库故障切换演练")
    response = manager_client.get(reverse("drills:drill-report-pdf", args=[drill.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "数据库故障切换演练" in _pdf_text(response)


def test_someone_elses_report_is_not_found_for_a_business_user(business_client, ops_user):
    drill = _reported_drill(ops_user)
    assert business_client.get(reverse("drills:drill-report-pdf", args=[drill.pk])).status_code == 404
