"""The status page for business users: is my ERP service working, and if not, what do I do?"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from incidents import services

from ._common import perm_required


@perm_required("incidents.view_status")
def status_page(request: HttpRequest) -> HttpResponse:
    states = services.service_states()
    # Services in trouble first (down, then degraded), each group most critical first as given.
    rank = {"down": 0, "degraded": 1, "operational": 2}
    troubled = sorted((s for s in states if s["state"] != "operational"), key=lambda s: rank[s["state"]])
    operational = [s for s in states if s["state"] == "operational"]
    return render(
        request,
        "incidents/status.html",
        {
            "troubled": troubled,
            "operational": operational,
            "all_ok": not troubled,
            "checked_at": timezone.now(),
        },
    )
