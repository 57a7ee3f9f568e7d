"""Demo data for risks/: the risk register of Huaxin Precision Manufacturing.

Loaded by `python manage.py load_demo` after plans/demo.py (it refers to its users, services and
plans). Idempotent: a risk is looked up by its title and only created when missing, through
risks/services.py so scores, level and the next review date are computed by the same rules as in
the app. `last_reviewed_on` is relative to the day of loading; a few are long ago, so their review
shows as overdue.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from plans.models import EmergencyPlan, ERPService

from . import services
from .models import Risk

C = Risk.Category
T = Risk.Treatment
ERP_DOWN = "ERP outage (application or database down)"
DATA_LOSS = "Data loss or corruption"
RANSOMWARE = "Ransomware attack"
NETWORK = "Network / WAN outage"
CORE = ["erp-db", "erp-app"]

# title, category, services (codes), (L, I), (residual L, I), owner, treatment, plans,
# days since the last review (None: never reviewed), description, controls, treatment plan.
# fmt: off
RISKS = [
    ("RAID controller failure on the database server", C.HARDWARE, ["erp-db"], (3, 4), (2, 3), "ops", T.MITIGATE,
     [ERP_DOWN], 40,
     "The database host has one RAID controller; its battery-backed cache failed once in 2022.",
     "Streaming replica on a second host; spare controller in the IT store room; vendor 4-hour on-site support.",
     "Replace both database hosts with the new cluster next budget year."),
    ("Power outage at the Suzhou plant", C.HARDWARE, [*CORE, "network"], (3, 4), (2, 2), "ops", T.MITIGATE,
     [ERP_DOWN, NETWORK], 75,
     "Grid outages happen in summer peaks; the server room depends on the plant supply.",
     "UPS for 30 minutes on all server racks; diesel generator tested monthly; automatic shutdown scripts.",
     "Add the generator test result to the monthly facilities report."),
    ("Core switch failure", C.HARDWARE, ["network"], (2, 4), (1, 4), "sun.hao", T.MITIGATE, [NETWORK], 60,
     "Both server VLANs and the WAN router hang off the two core switches.",
     "Stacked pair of core switches; preconfigured spare; configuration backed up nightly.",
     ""),
    ("Ageing application server hardware", C.HARDWARE, ["erp-app"], (3, 3), (2, 2), "ops", T.MITIGATE, [ERP_DOWN],
     120,
     "Two of the three application servers are out of vendor warranty.",
     "Third server can carry the load alone; spare disks and power supplies on site.",
     "Replace with virtual machines on the new cluster in Q3."),
    ("Failed ERP upgrade leaves the system unusable", C.SOFTWARE, [*CORE, "sales", "inventory", "finance"], (3, 5),
     (3, 4), "manager", T.MITIGATE, [ERP_DOWN], 30,
     "Major version upgrades change the database schema and custom reports; the last one overran by a day.",
     "Upgrade rehearsed on a copy of production; full backup and snapshot before; written rollback plan; "
     "upgrade on a long weekend.",
     "Keep the rehearsal copy until two weeks after go-live."),
    ("Bad operating system or database patch", C.SOFTWARE, CORE, (3, 4), (2, 3), "zhao.lei", T.MITIGATE, [ERP_DOWN],
     55,
     "A patch can break the ERP client libraries or change database behaviour.",
     "Patches applied to the test system one week before production; snapshot before patching.",
     ""),
    ("Database corruption", C.SOFTWARE, ["erp-db"], (2, 5), (1, 4), "zhao.lei", T.MITIGATE, [DATA_LOSS], 50,
     "Silent page corruption from a storage fault or a database bug, found late.",
     "Data checksums enabled; nightly backup verification restores and checks the main tables.",
     ""),
    ("Expired TLS certificate blocks logins and EDI", C.SOFTWARE, ["identity", "sales"], (4, 3), (2, 2), "ops",
     T.MITIGATE, [], 380,
     "Certificates of the SSO portal and the EDI gateway are renewed by hand once a year.",
     "Calendar reminder 30 days before expiry; monitoring check on the expiry date.",
     "Move to automatic renewal (ACME) for the SSO portal."),
    ("Accidental mass delete or update of master data", C.HUMAN, ["sales", "inventory", "procurement"], (3, 4),
     (2, 3), "manager", T.MITIGATE, [DATA_LOSS], 25,
     "Key users can run mass changes on customers, parts and prices.",
     "Mass-change function limited to 6 key users; point-in-time recovery; change log in the ERP.",
     "Require a second person to approve mass changes over 100 records."),
    ("Wrong configuration change in production", C.HUMAN, ["finance", "sales"], (3, 3), (2, 3), "huang.li",
     T.MITIGATE, [DATA_LOSS], 90,
     "Tax codes, posting rules and price conditions are changed directly in production.",
     "Changes requested by ticket; tested in the test client first.",
     ""),
    ("Only one DBA knows the restore procedure", C.HUMAN, ["erp-db"], (4, 4), (3, 3), "manager", T.MITIGATE,
     [DATA_LOSS, ERP_DOWN], 200,
     "Zhao Lei is the only in-house person who has done a full restore; the partner DBA needs 4 hours to arrive.",
     "Support contract with the Shanghai partner; restore procedure written down.",
     "Ops to run the quarterly restore test with Zhao Lei watching, not doing."),
    ("Fire in the server room", C.NATURAL, [*CORE, "network", "identity"], (1, 5), (1, 4), "manager", T.MITIGATE,
     [ERP_DOWN], 150,
     "All production servers are in one room in the office building.",
     "Gas extinguishing system; smoke detection linked to the guard house; weekly copy off-site.",
     "Evaluate a warm standby at the hosting provider."),
    ("Flooding of the ground-floor server room after typhoon rain", C.NATURAL, [*CORE, "network"], (2, 5), (2, 3),
     "manager", T.TRANSFER, [ERP_DOWN], 100,
     "The server room is on the ground floor; the plant area flooded in 2015.",
     "Racks raised 30 cm; water sensors; property insurance covers equipment and business interruption.",
     ""),
    ("Earthquake damages the plant and the server room", C.NATURAL, [*CORE, "network", "identity"], (1, 5), (1, 4),
     "manager", T.ACCEPT, [ERP_DOWN], 420,
     "The Suzhou area has low seismic activity, but the damage would be total.",
     "Off-site backup copies; insurance.",
     ""),
    ("Ransomware encrypts ERP servers and backups", C.CYBER, [*CORE, "identity", "sales", "finance"], (4, 5),
     (3, 5), "peter.wu", T.MITIGATE, [RANSOMWARE], 45,
     "Attacks on manufacturers in the region doubled last year; our backup server is joined to the domain.",
     "EDR on all servers and PCs; offline monthly backup; MFA for VPN.",
     "Separate the backup server from the domain; object lock on the off-site copy."),
    ("Phishing leads to stolen ERP credentials", C.CYBER, ["identity", "finance", "procurement"], (4, 4), (2, 3),
     "peter.wu", T.MITIGATE, [RANSOMWARE], 35,
     "Fake supplier invoices and login pages target finance and purchasing staff.",
     "MFA on the SSO portal; phishing training twice a year; mail filter.",
     ""),
    ("Exploited vulnerability in the VPN gateway", C.CYBER, ["network", "identity"], (3, 5), (2, 5), "sun.hao",
     T.MITIGATE, [RANSOMWARE], None,
     "Internet-facing VPN appliances are a common way in.",
     "Vendor advisories followed; patched within 7 days; MFA.",
     "Subscribe to the national CERT advisories."),
    ("Denial-of-service attack on the internet lines", C.CYBER, ["network", "sales"], (2, 3), (1, 3), "sun.hao",
     T.TRANSFER, [NETWORK], 80,
     "An attack on our internet lines would cut EDI and the Kunshan warehouse.",
     "Carrier DDoS protection included in the contract; second carrier.",
     ""),
    ("Hosting provider outage", C.THIRD_PARTY, ["erp-db"], (2, 3), (2, 2), "ops", T.ACCEPT, [DATA_LOSS], 140,
     "The off-site backup copies and the DR storage are at one Shanghai hosting provider.",
     "Local copies kept 14 days; provider SLA 99.9 %.",
     ""),
    ("ERP vendor ends support for our version", C.THIRD_PARTY, CORE, (4, 3), (2, 3), "manager", T.AVOID, [], 60,
     "Our ERP release leaves mainstream support at the end of next year; no more security patches after that.",
     "Upgrade project approved in the budget.",
     "Upgrade before the end of support (see the upgrade risk)."),
    ("WAN carrier outage between the plant and the Kunshan warehouse", C.THIRD_PARTY, ["network", "inventory"],
     (3, 3), (2, 2), "sun.hao", T.MITIGATE, [NETWORK], None,
     "A single MPLS carrier connects the two sites.",
     "4G backup router at Kunshan; SD-WAN over the internet as a second path.",
     ""),
]
# fmt: on


def load(stdout) -> None:
    """Load the demo risk register. Needs the users, services and plans of plans/demo.py."""
    today = timezone.localdate()
    users = {u.username: u for u in User.objects.all()}
    service_by_code = {s.code: s for s in ERPService.objects.all()}
    plan_by_title = {p.title: p for p in EmergencyPlan.objects.all()}
    created = kept = 0
    with transaction.atomic():
        for (
            title, category, service_codes, (lik, imp), (res_lik, res_imp), owner, treatment, plan_titles,
            reviewed_days_ago, description, controls, treatment_plan,
        ) in RISKS:  # fmt: skip
            if Risk.objects.filter(title=title).exists():
                kept += 1
                continue
            services.risk_create(
                title=title,
                category=category,
                likelihood=lik,
                impact=imp,
                residual_likelihood=res_lik,
                residual_impact=res_imp,
                owner=users[owner],
                treatment=treatment,
                description=description,
                controls=controls,
                treatment_plan=treatment_plan,
                last_reviewed_on=(
                    today - datetime.timedelta(days=reviewed_days_ago) if reviewed_days_ago is not None else None
                ),
                services=[service_by_code[code] for code in service_codes],
                plans=[plan_by_title[t] for t in plan_titles],
            )
            created += 1
    stdout.write(f"risks: {created} new, {kept} kept")
