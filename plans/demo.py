"""Demo data for plans/: Huaxin Precision Manufacturing, a mid-size maker of machined parts in Suzhou.

Loaded by `python manage.py load_demo`. Idempotent: every object is looked up by its natural key
(username, department name, service code, role key, plan title, fallback title per service, action
item title) and only created when missing, through plans/services.py so the rules hold. Objects
that already exist are left as they are, so a second run creates nothing and never overwrites what
someone changed in the demo.

Dates are relative to the day of loading, so the demo always shows a few things due or overdue.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from erpcontinuity.roles import ADMINISTRATOR, BUSINESS_USER, IT_OPERATIONS, MANAGER

from . import services
from .models import (
    ActionItem,
    Department,
    EmergencyPlan,
    ERPService,
    FallbackProcedure,
    Profile,
    ResponseRole,
    TeamMember,
)

DEMO_PASSWORD = "demo-password"
EMAIL_DOMAIN = "huaxin-pm.example"

DEPARTMENTS = [
    ("Sales", "Order intake, quotations and customer service for OEM customers."),
    ("Procurement", "Purchasing of steel bar, castings, tooling and services."),
    ("Warehouse", "Raw material stores, finished goods warehouse and shipping dock."),
    ("Production", "CNC machining, heat treatment, assembly and production planning."),
    ("Finance", "General ledger, receivables, payables, costing and month-end close."),
    ("HR", "Personnel, payroll, internal communication and training."),
    ("IT", "ERP, infrastructure, network, security and the service desk."),
]

# username, first name, last name, role group, department, phone, chat handle, extra flags
# The first four are the demo logins printed by `make run`.
# fmt: off
USERS = [
    ("admin", "Chen", "Jie", ADMINISTRATOR, "IT", "+86 512 6255 0101", "@chen.jie", {"is_staff": True, "is_superuser": True}),
    ("ops", "Zhang", "Min", IT_OPERATIONS, "IT", "+86 138 1234 0102", "@zhang.min", {}),
    ("manager", "Wang", "Fang", MANAGER, "IT", "+86 139 1234 0103", "@wang.fang", {}),
    ("business", "Liu", "Yang", BUSINESS_USER, "Sales", "+86 512 6255 0211", "@liu.yang", {}),
    ("zhao.lei", "Zhao", "Lei", IT_OPERATIONS, "IT", "+86 137 1234 0105", "@zhao.lei", {}),
    ("sun.hao", "Sun", "Hao", IT_OPERATIONS, "IT", "+86 136 1234 0106", "@sun.hao", {}),
    ("peter.wu", "Peter", "Wu", IT_OPERATIONS, "IT", "+86 135 1234 0107", "@peter.wu", {}),
    ("emily.zhou", "Emily", "Zhou", BUSINESS_USER, "HR", "+86 512 6255 0301", "@emily.zhou", {}),
    ("xu.jing", "Xu", "Jing", BUSINESS_USER, "HR", "+86 512 6255 0302", "@xu.jing", {}),
    ("huang.li", "Huang", "Li", MANAGER, "Finance", "+86 512 6255 0401", "@huang.li", {}),
    ("david.lin", "David", "Lin", MANAGER, "Sales", "+86 139 8888 0201", "@david.lin", {}),
    ("ma.qiang", "Ma", "Qiang", BUSINESS_USER, "Warehouse", "+86 512 6255 0501", "@ma.qiang", {}),
    ("guo.ying", "Guo", "Ying", BUSINESS_USER, "Procurement", "+86 512 6255 0601", "@guo.ying", {}),
    ("he.jun", "He", "Jun", BUSINESS_USER, "Production", "+86 512 6255 0701", "@he.jun", {}),
]
# fmt: on

# Infrastructure first: business services depend on it, and a service can only depend on one
# that already exists. code, name, kind, criticality, RTO, RPO, MTPD (minutes), department, owner,
# depends on (codes), description.
H, D = 60, 1440
# fmt: off
SERVICES = [
    ("network", "Network & WAN", "infrastructure", 1, 1 * H, 1 * D, 4 * H, "IT", "sun.hao", [],
     "Plant LAN (two core switches), Wi-Fi for handheld scanners, and the MPLS/SD-WAN link between the "
     "Suzhou plant and the Kunshan finished goods warehouse. Two internet lines from different carriers."),
    ("identity", "Identity / SSO", "infrastructure", 1, 2 * H, 1 * D, 8 * H, "IT", "peter.wu", ["network"],
     "Active Directory (two domain controllers) and the single sign-on portal used to log in to the "
     "ERP, e-mail and the VPN. MFA for remote access."),
    ("erp-db", "ERP database (PostgreSQL cluster)", "infrastructure", 1, 2 * H, 15, 4 * H, "IT", "zhao.lei",
     ["network"],
     "PostgreSQL 15 primary and streaming replica in the plant server room; WAL archived every 5 minutes "
     "to the backup server; nightly base backup copied to the Shanghai hosting provider."),
    ("erp-app", "ERP application servers", "infrastructure", 1, 1 * H, 4 * H, 4 * H, "IT", "ops",
     ["erp-db", "network", "identity"],
     "Three application servers behind a load balancer, plus the batch server (MRP run, EDI, "
     "bank interface). Stateless: configuration is kept in version control."),
    ("sales", "Sales / order-to-cash", "business", 1, 4 * H, 15, 8 * H, "Sales", "david.lin",
     ["erp-app", "network", "identity"],
     "Quotations, customer orders, EDI orders from OEM customers, delivery notes, invoicing and cash "
     "receipts. About 180 order lines a day."),
    ("inventory", "Inventory & warehouse", "business", 1, 4 * H, 15, 12 * H, "Warehouse", "ma.qiang",
     ["erp-app", "network", "identity"],
     "Goods receipt, put-away, picking with handheld scanners, stock transfers to Kunshan, cycle counts "
     "and shipping."),
    ("production", "Production planning (MRP)", "business", 2, 8 * H, 1 * H, 1 * D, "Production", "he.jun",
     ["erp-app", "network", "identity"],
     "Nightly MRP run, work orders, routings and shop-floor confirmations for 40 CNC machines."),
    ("procurement", "Procurement (purchase-to-pay)", "business", 2, 8 * H, 1 * H, 1 * D, "Procurement", "guo.ying",
     ["erp-app", "network", "identity"],
     "Purchase requisitions, purchase orders, supplier confirmations and invoice matching."),
    ("finance", "Finance / general ledger", "business", 2, 1 * D, 1 * H, 3 * D, "Finance", "huang.li",
     ["erp-app", "network", "identity"],
     "General ledger, accounts payable and receivable, bank reconciliation, VAT invoices and month-end close."),
    ("payroll", "Payroll", "business", 3, 2 * D, 1 * D, 5 * D, "HR", "xu.jing",
     ["erp-app", "network", "identity"],
     "Monthly payroll for 620 employees, social insurance and housing fund contributions; paid on the 10th."),
]
# fmt: on

# key, name, order, description, responsibilities, members in rank order (the first is the primary,
# the others are deputies): a username, or (name, email, phone, chat) for someone without a login.
# fmt: off
ROLES = [
    ("incident-commander", "Incident commander", 1,
     "Leads the response from declaration to stand-down.",
     "Declares the severity, activates the plan, decides on failover and restore, approves external "
     "communication, stands the team down.",
     ["manager", "admin", "david.lin"]),
    ("it-operations", "IT operations", 2,
     "Runs the servers and the ERP application day and night.",
     "Confirms outages, restarts and fails over application servers, stops batch jobs and interfaces, "
     "keeps the incident timeline.",
     ["ops", "admin", ("Tang Bo (night shift)", f"tang.bo@{EMAIL_DOMAIN}", "+86 138 1234 0190", "@tang.bo")]),
    ("dba", "Database administrator", 3,
     "Owns the ERP database, its backups and restores.",
     "Protects the database, takes snapshots, fails over to the replica, runs point-in-time restores "
     "and checks data integrity.",
     ["zhao.lei", ("Kevin Qian (DBA, Shanghai support partner)", "kevin.qian@dbsupport.example", "+86 21 6088 3321", "")]),
    ("network-engineer", "Network engineer", 4,
     "Owns the LAN, the WAN links and the firewalls.",
     "Diagnoses link failures, switches to the backup line, isolates network segments during an attack.",
     ["sun.hao", "ops"]),
    ("business-owner", "Business owner", 5,
     "Speaks for the business processes that stop when the ERP stops.",
     "Decides when to switch to fallback procedures, organises the re-entry of paper records, confirms "
     "the ERP works again for the business.",
     ["huang.li", "david.lin", "ma.qiang"]),
    ("communications", "Communications", 6,
     "Keeps staff, management and customers informed.",
     "Sends the messages of the communication matrix on time, answers the phones, updates the status page.",
     ["emily.zhou", "xu.jing"]),
    ("security-officer", "Security officer", 7,
     "Leads the technical response to attacks.",
     "Isolates compromised systems, preserves evidence, resets credentials, decides when systems are clean, "
     "reports to the authorities and the insurer.",
     ["peter.wu", "admin"]),
]
# fmt: on


def _user(username: str) -> User:
    return User.objects.get(username=username)


class _Counter:
    def __init__(self) -> None:
        self.created: dict[str, int] = {}
        self.existing: dict[str, int] = {}

    def add(self, label: str, created: bool) -> None:
        bucket = self.created if created else self.existing
        bucket[label] = bucket.get(label, 0) + 1

    def report(self, stdout, app: str) -> None:
        labels = list(dict.fromkeys([*self.created, *self.existing]))
        parts = [f"{label}: {self.created.get(label, 0)} new, {self.existing.get(label, 0)} kept" for label in labels]
        stdout.write(f"{app}: " + "; ".join(parts))


# --- People -------------------------------------------------------------------------------------


def _load_departments(count: _Counter) -> None:
    for name, description in DEPARTMENTS:
        exists = Department.objects.filter(name=name).exists()
        if not exists:
            services.department_create(name=name, description=description)
        count.add("departments", not exists)


def _load_users(count: _Counter) -> None:
    groups = {g.name: g for g in Group.objects.filter(name__in=[u[3] for u in USERS])}
    departments = {d.name: d for d in Department.objects.all()}
    # One hash for all demo accounts: hashing is deliberately slow (~0.5 s each) and these are demo
    # passwords anyway.
    password_hash = make_password(DEMO_PASSWORD)
    for username, first, last, role, department, phone, chat, flags in USERS:
        user = User.objects.filter(username=username).first()
        created = user is None
        if created:
            # Only a new account gets the demo password: a rerun must not undo a password change.
            user = User.objects.create(
                username=username,
                password=password_hash,
                first_name=first,
                last_name=last,
                email=f"{username}@{EMAIL_DOMAIN}",
                **flags,
            )
            user.groups.add(groups[role])
            Profile.objects.create(user=user, department=departments[department], phone=phone, chat_handle=chat)
        count.add("users", created)


# --- Services and the team ----------------------------------------------------------------------


def _load_services(count: _Counter) -> None:
    departments = {d.name: d for d in Department.objects.all()}
    for code, name, kind, crit, rto, rpo, mtpd, department, owner, deps, description in SERVICES:
        exists = ERPService.objects.filter(code=code).exists()
        if not exists:
            services.service_create(
                code=code,
                name=name,
                kind=kind,
                criticality=crit,
                rto_minutes=rto,
                rpo_minutes=rpo,
                mtpd_minutes=mtpd,
                owner_department=departments[department],
                business_owner=_user(owner),
                description=description,
                depends_on=list(ERPService.objects.filter(code__in=deps)),
            )
        count.add("services", not exists)


def _load_team(count: _Counter) -> None:
    for key, name, order, description, responsibilities, members in ROLES:
        role = ResponseRole.objects.filter(key=key).first()
        count.add("response roles", role is None)
        if role is None:
            role = services.role_create(
                key=key, name=name, order=order, description=description, responsibilities=responsibilities
            )
        for rank, member in enumerate(members, start=1):
            exists = TeamMember.objects.filter(role=role, rank=rank).exists()
            count.add("team members", not exists)
            if exists:
                continue
            if isinstance(member, str):
                user = User.objects.select_related("profile").get(username=member)
                contact = {
                    "user": user,
                    "name": user.get_full_name(),
                    "email": user.email,
                    "phone": user.profile.phone,
                    "chat_handle": user.profile.chat_handle,
                }
            else:
                name, email, phone, chat = member
                contact = {"name": name, "email": email, "phone": phone, "chat_handle": chat}
            services.member_create(role=role, rank=rank, **contact)


# --- Emergency plans ----------------------------------------------------------------------------

ALL_BUSINESS = ["sales", "inventory", "production", "procurement", "finance", "payroll"]


def _comms(what: str, customers: str) -> list[tuple[str, str, str, str, str]]:
    """The communication matrix of a plan: SEV1..SEV3 × management / all staff / customers / IT."""
    return [
        (
            "sev1",
            "Management (general manager, department heads)",
            "phone",
            "within 15 minutes, then every hour",
            f"SEV1: {what}. Started {{started_at}}. Affected: {{services}}. Fallback procedures are in force. "
            "Incident commander: {commander}. Next update at {next_update}.",
        ),
        (
            "sev1",
            "All staff",
            "sms",
            "within 30 minutes, then every 2 hours",
            f"{what}. Do not retry or re-enter anything in the ERP. Switch to the paper fallback procedure for your "
            "work (binders are in each department). Next update at {next_update}.",
        ),
        (
            "sev1",
            "Customers",
            "email",
            "within 2 hours if deliveries are affected",
            f"{customers} We are taking orders by phone and e-mail and will confirm delivery dates by {{next_update}}. "
            "Your contact: your usual sales representative.",
        ),
        (
            "sev1",
            "IT team and support partners",
            "chat",
            "immediately; bridge call stays open",
            f"SEV1 declared: {what}. Join the bridge call now. Commander: {{commander}}. Do not change anything "
            "without announcing it in the channel.",
        ),
        (
            "sev2",
            "Management (department heads concerned)",
            "email",
            "within 30 minutes, then every 2 hours",
            f"SEV2: {what} for {{services}}. Business impact: {{impact}}. Expected recovery: {{eta}}.",
        ),
        (
            "sev2",
            "All staff of the departments concerned",
            "chat",
            "within 1 hour",
            "{services} is unavailable. Use the fallback procedure for your work; keep the paper records for "
            "re-entry. Next update at {next_update}.",
        ),
        (
            "sev2",
            "IT team",
            "chat",
            "immediately",
            f"SEV2: {what}. Owner: {{commander}}. Updates in this channel every 30 minutes.",
        ),
        (
            "sev3",
            "IT team",
            "chat",
            "within 1 hour",
            f"SEV3: {what}, workaround in place. Ticket {{ticket}}. Fix planned for {{eta}}.",
        ),
        (
            "sev3",
            "Key users of the service",
            "email",
            "within 4 hours",
            "{services} is slower or partly unavailable. Workaround: {workaround}. No action needed otherwise.",
        ),
    ]


# Each step: phase, role key, minutes, title, instructions.
PLANS = [
    {
        "title": "ERP outage (application or database down)",
        "scenario": EmergencyPlan.Scenario.ERP_DOWN,
        "services": [*ALL_BUSINESS, "erp-app", "erp-db"],
        "owner": "manager",
        "review_in_days": 150,
        "summary": "Bring the ERP back within its RTO when the application servers or the database stop, "
        "while the business works on paper. Order taking and warehouse shipping come first.",
        "activation_criteria": "- Users cannot log in to the ERP or every transaction fails, for more than 15 minutes.\n"
        "- Or the database is unreachable or read-only.\n"
        "- Or monitoring shows two or more application servers down.\n"
        "The IT operations on duty may activate it; the incident commander confirms within 30 minutes.",
        "backup_strategy": "Continuous WAL archiving every 5 minutes to the backup server (RPO 15 min), nightly "
        "base backup at 01:00 kept 14 days on site, weekly copy kept 8 weeks at the Shanghai hosting provider, "
        "monthly copy on an offline disk in the Finance safe. A restore of last night's backup is tested every quarter.",
        "standby_systems": "- Streaming replica of the database on a second host (promote with `patronictl failover`).\n"
        "- Third application server can carry the load alone at reduced speed.\n"
        "- Paper fallback procedures for every business service (binders in each department).",
        "steps": [
            (
                "detect",
                "it-operations",
                10,
                "Confirm the outage",
                "Check the monitoring dashboard and try to log in from two different sites (office PC and a phone on "
                "4G through the VPN). Note the time the first alert fired.",
            ),
            (
                "detect",
                "it-operations",
                5,
                "Open an incident and call the incident commander",
                "Open the incident in ERP Continuity, attach the alerts, call the incident commander (primary, then "
                "deputies in order).",
            ),
            (
                "assess",
                "it-operations",
                15,
                "Find where it fails: application or database",
                "Check the load balancer, the three application servers, and `pg_isready` on the database primary "
                "and replica. Read the last 200 lines of each log.",
            ),
            (
                "assess",
                "incident-commander",
                10,
                "Estimate recovery time against the RTO",
                "Compare the expected repair time with the RTO of Sales (4 h) and Inventory (4 h). If it will take "
                "longer than 1 hour, go to the escalation steps now rather than later.",
            ),
            (
                "escalate",
                "incident-commander",
                10,
                "Declare the severity and activate this plan",
                "SEV1 when all users are affected, SEV2 when one process stopped. Open the bridge call and name "
                "who does what.",
            ),
            (
                "escalate",
                "communications",
                15,
                "Tell staff to switch to the fallback procedures",
                "Send the SEV1 messages of the communication matrix. Ask department heads to confirm their teams "
                "started the paper procedure.",
            ),
            (
                "contain",
                "it-operations",
                15,
                "Stop batch jobs and interfaces",
                "Pause the EDI order import, the bank interface and the MES confirmation feed so nothing is half "
                "posted. Hold the nightly MRP run.",
            ),
            (
                "contain",
                "dba",
                20,
                "Protect the database before any repair",
                "No writes until the cause is known. Take a storage snapshot or a `pg_basebackup` of the current "
                "state and copy the database logs.",
            ),
            (
                "recover",
                "it-operations",
                30,
                "Restart or rebuild the application servers",
                "Restart the ERP service on each server one at a time; if a server does not come back, take it out "
                "of the load balancer and continue on the others.",
            ),
            (
                "recover",
                "dba",
                45,
                "Fail over to the standby database if the primary is lost",
                "Promote the streaming replica, point the application servers at it, check replication lag was "
                "under 15 minutes at the time of the failure.",
            ),
            (
                "recover",
                "business-owner",
                30,
                "Verify with key users",
                "Each department enters one test transaction: a sales order, a goods receipt, a work-order "
                "confirmation, a journal entry. Confirm yesterday's last transactions are there.",
            ),
            (
                "recover",
                "business-owner",
                240,
                "Re-enter the paper records and reconcile",
                "Departments re-enter their fallback forms in number order, ticking each one off. Finance checks "
                "the totals against the paper summary.",
            ),
            (
                "review",
                "incident-commander",
                15,
                "Stand down",
                "Announce the end of the incident, restart the interfaces and batch jobs, close the bridge call.",
            ),
            (
                "review",
                "incident-commander",
                60,
                "Hold the post-incident review",
                "Within 5 working days: timeline, what worked, what did not, action items with owners and dates.",
            ),
        ],
        "communications": _comms(
            "the ERP is down", "Our order system is temporarily unavailable; your deliveries are our priority."
        ),
        # A second version in progress, so versioning shows: the failover step gets more precise.
        "draft": {
            "step_title": "Fail over to the standby database if the primary is lost",
            "instructions": "Promote the streaming replica with `patronictl failover --candidate erp-db-2`, "
            "point the application servers at the cluster address, and check replication lag was under 15 "
            "minutes at the time of the failure. Record the lag in the incident timeline.\n"
            "If the replica is damaged too, restore last night's base backup plus WAL (see the data loss plan).",
            "expected_minutes": 30,
            "change_note": "Failover now uses Patroni (introduced in May) and names the replica; duration "
            "shortened to 30 minutes after the last drill.",
        },
    },
    {
        "title": "Data loss or corruption",
        "scenario": EmergencyPlan.Scenario.DATA_LOSS,
        "services": ["erp-db", "sales", "inventory", "production", "procurement", "finance"],
        "owner": "manager",
        "review_in_days": 20,
        "summary": "Recover correct data when records are deleted, overwritten or corrupted — by a person, a "
        "faulty interface or a database fault — with the least loss of good work.",
        "activation_criteria": "- Users report records missing or wrong in bulk (stock, orders, postings).\n"
        "- A database integrity check or backup verification reports corruption.\n"
        "- An interface or script wrote wrong data to more than a handful of records.",
        "backup_strategy": "Point-in-time recovery from the nightly base backup plus archived WAL (any moment in "
        "the last 14 days, to the minute). Older data from the weekly off-site copies. Restores go into a "
        "scratch instance first, never straight over production.",
        "standby_systems": "- Scratch restore server (erp-restore-01) with enough disk for a full copy.\n"
        "- Read-only reporting copy refreshed nightly, useful to compare with production.",
        "steps": [
            (
                "detect",
                "it-operations",
                10,
                "Record the report and what is wrong",
                "Who noticed, which records, which screens, since when. Ask for examples with document numbers.",
            ),
            (
                "assess",
                "dba",
                30,
                "Find the affected tables and the first bad change",
                "Use the audit tables and the database logs to find when the data went wrong and which job or user "
                "did it.",
            ),
            (
                "assess",
                "incident-commander",
                20,
                "Choose: repair in place or restore",
                "A few records: repair from the scratch restore. Widespread or corrupted pages: point-in-time restore "
                "of the whole database, accepting the loss since that time.",
            ),
            (
                "escalate",
                "communications",
                15,
                "Inform the business owners and freeze affected work",
                "Tell the departments concerned to stop posting in the affected module and keep paper records.",
            ),
            (
                "contain",
                "it-operations",
                15,
                "Stop what writes the bad data",
                "Disable the interface, job or account that made the change. Put the module in read-only mode if "
                "needed.",
            ),
            (
                "contain",
                "dba",
                30,
                "Preserve the current state",
                "Take a backup of the database as it is now, so nothing is lost if the repair goes wrong.",
            ),
            (
                "recover",
                "dba",
                90,
                "Restore to a scratch instance at the last good point",
                "Point-in-time restore on erp-restore-01 to one minute before the first bad change.",
            ),
            (
                "recover",
                "dba",
                60,
                "Put the correct data back",
                "Copy the correct rows from the scratch instance, or, if the whole database is affected, switch "
                "production to the restored copy.",
            ),
            (
                "recover",
                "business-owner",
                60,
                "Check the data with the business",
                "Stock totals, open orders and ledger balances compared with the reporting copy and paper records.",
            ),
            (
                "recover",
                "business-owner",
                120,
                "Re-enter work done since the recovery point",
                "From paper records, e-mails and EDI files, re-enter the transactions after the restore point.",
            ),
            (
                "review",
                "incident-commander",
                60,
                "Review the cause and tighten the controls",
                "Why could this happen (permissions, missing validation, untested script)? Action items.",
            ),
        ],
        "communications": _comms(
            "ERP data is wrong or missing and is being restored",
            "Some order information in our system is being corrected; please confirm recent orders with us.",
        ),
    },
    {
        "title": "Ransomware attack",
        "scenario": EmergencyPlan.Scenario.RANSOMWARE,
        "services": [*ALL_BUSINESS, "erp-app", "erp-db", "identity", "network"],
        "owner": "peter.wu",
        "review_in_days": 90,
        "summary": "Contain an attack that encrypts servers or PCs, protect the backups, rebuild clean systems and "
        "restore the ERP from a copy the attacker could not reach.",
        "activation_criteria": "- Files renamed with a strange extension or a ransom note on any server or PC.\n"
        "- The antivirus / EDR reports ransomware behaviour.\n"
        "- Mass file changes or backups deleted unexpectedly.\n"
        "Anyone may raise it; the security officer activates the plan.",
        "backup_strategy": "Immutable copy: the weekly backup goes to object storage with a 30-day object lock at the "
        "Shanghai provider; the monthly copy on an offline disk. Backup server credentials are separate from the "
        "domain. Restore only from copies verified clean.",
        "standby_systems": "- Clean server images (golden images) stored offline, rebuilt quarterly.\n"
        "- Spare laptops with a clean image for the response team.\n"
        "- Paper fallback procedures for every business service.",
        "steps": [
            (
                "detect",
                "security-officer",
                10,
                "Confirm the signs of ransomware",
                "Look at the ransom note, affected hosts and EDR alerts. Photograph the screens; do not switch "
                "machines off (memory evidence).",
            ),
            (
                "assess",
                "security-officer",
                30,
                "Find out how far it spread",
                "Which servers, which shares, which accounts. Check the backup server and the domain controllers first.",
            ),
            (
                "escalate",
                "incident-commander",
                30,
                "Activate the crisis team",
                "Inform the general manager, the cyber insurer hotline and legal counsel. Decide on a police report.",
            ),
            (
                "escalate",
                "communications",
                15,
                "Tell staff to disconnect",
                "Message by SMS (e-mail may be compromised): unplug network cables, do not log in, do not pay.",
            ),
            (
                "contain",
                "network-engineer",
                15,
                "Isolate the network",
                "Cut the internet lines and the WAN link, block traffic between server and client VLANs on the core "
                "switches.",
            ),
            (
                "contain",
                "security-officer",
                30,
                "Disable compromised accounts and reset privileged passwords",
                "Domain admin, service and backup accounts first; reset the KRBTGT password twice.",
            ),
            (
                "contain",
                "dba",
                30,
                "Secure the backups",
                "Check that the immutable and offline copies are untouched. Do not connect the offline disk yet.",
            ),
            (
                "recover",
                "it-operations",
                480,
                "Rebuild servers from clean images",
                "Domain controllers, then database host, then application servers, in an isolated network.",
            ),
            (
                "recover",
                "dba",
                240,
                "Restore the ERP database from a clean copy",
                "Restore the newest backup verified clean; run integrity checks before opening it to users.",
            ),
            (
                "recover",
                "security-officer",
                60,
                "Confirm the systems are clean before reconnecting",
                "EDR scan of every rebuilt host, new credentials everywhere, indicators of compromise blocked.",
            ),
            (
                "recover",
                "business-owner",
                480,
                "Verify the data and re-enter paper records",
                "Departments check their key figures and re-enter the fallback forms since the restore point.",
            ),
            (
                "review",
                "incident-commander",
                120,
                "Lessons learned and reports",
                "Report to the authorities and the insurer as required; action items for the gaps found.",
            ),
        ],
        "communications": _comms(
            "a cyber attack has stopped the ERP and IT systems",
            "A technical incident affects our systems. Customer data is being checked; we will inform you directly.",
        ),
    },
    {
        "title": "Network / WAN outage",
        "scenario": EmergencyPlan.Scenario.NETWORK,
        "services": ["network", "sales", "inventory", "production"],
        "owner": "ops",
        "review_in_days": -10,  # overdue, so the dashboard shows one
        "summary": "Keep the plant and the Kunshan warehouse working when the LAN, the WAN link or the internet "
        "lines fail.",
        "activation_criteria": "- The Kunshan warehouse or the office cannot reach the ERP for more than 10 minutes.\n"
        "- Both internet lines down, or a core switch down.",
        "backup_strategy": "Switch and firewall configurations are backed up nightly to the backup server and kept in "
        "version control; a spare core switch is preconfigured.",
        "standby_systems": "- Second internet line from another carrier, 4G router at the Kunshan warehouse.\n"
        "- Preconfigured spare core switch in the IT store room.",
        "steps": [
            (
                "detect",
                "it-operations",
                10,
                "Confirm which sites and links are down",
                "Ping the site routers, check the carrier portals, call the Kunshan warehouse lead.",
            ),
            (
                "assess",
                "network-engineer",
                20,
                "Locate the fault",
                "Own equipment (switch, firewall, power) or carrier line? Open a ticket with the carrier at once.",
            ),
            (
                "escalate",
                "incident-commander",
                10,
                "Declare severity and inform the affected sites",
                "SEV2 for one site, SEV1 if the plant LAN is down.",
            ),
            (
                "contain",
                "network-engineer",
                15,
                "Switch to the backup line",
                "Move the VPN to the second carrier or the 4G router; set QoS so the ERP and scanners come first.",
            ),
            (
                "recover",
                "network-engineer",
                60,
                "Replace or repair the failed equipment",
                "Swap in the spare switch with the saved configuration, or follow up the carrier ticket hourly.",
            ),
            (
                "recover",
                "business-owner",
                30,
                "Check the sites work normally",
                "Scanners in the warehouse, EDI orders, printing of delivery notes.",
            ),
            (
                "recover",
                "business-owner",
                60,
                "Re-enter offline records",
                "Stock cards and delivery notes written during the outage are entered in the ERP.",
            ),
            (
                "review",
                "incident-commander",
                45,
                "Review with the carrier",
                "Ask for the carrier's incident report; check the SLA; action items.",
            ),
        ],
        "communications": _comms(
            "the network link to the ERP is down", "Some shipments may leave a few hours later than planned today."
        ),
    },
]


def _load_plan(spec: dict, count: _Counter) -> None:
    if EmergencyPlan.objects.filter(title=spec["title"]).exists():
        count.add("plans", False)
        return
    count.add("plans", True)
    manager = _user("manager")
    author = _user("ops")
    plan = services.plan_create(
        title=spec["title"],
        scenario=spec["scenario"],
        services=list(ERPService.objects.filter(code__in=spec["services"])),
        owner=_user(spec["owner"]),
        review_date=timezone.localdate() + datetime.timedelta(days=spec["review_in_days"]),
        summary=spec["summary"],
        user=author,
    )
    version = plan.versions.get(number=1)
    services.version_update(
        version=version,
        activation_criteria=spec["activation_criteria"],
        backup_strategy=spec["backup_strategy"],
        standby_systems=spec["standby_systems"],
        change_note="First version, written after the BIA workshop.",
    )
    roles = {r.key: r for r in ResponseRole.objects.all()}
    for order, (phase, role_key, minutes, title, instructions) in enumerate(spec["steps"], start=1):
        services.step_create(
            version=version,
            phase=phase,
            order=order,
            title=title,
            instructions=instructions,
            role=roles[role_key],
            expected_minutes=minutes,
        )
    for severity, audience, channel, timing, template in spec["communications"]:
        services.communication_create(
            version=version,
            severity=severity,
            audience=audience,
            channel=channel,
            timing=timing,
            message_template=template,
        )
    services.version_publish(version=version, user=manager)

    draft_spec = spec.get("draft")
    if draft_spec:
        draft = services.plan_start_draft(plan=plan, user=author)
        services.version_update(version=draft, change_note=draft_spec["change_note"])
        step = draft.steps.get(title=draft_spec["step_title"])
        services.step_update(
            step=step, instructions=draft_spec["instructions"], expected_minutes=draft_spec["expected_minutes"]
        )


# --- Fallback procedures (one per business service) -----------------------------------------------

FALLBACKS = [
    {
        "service": "sales",
        "title": "Taking customer orders on paper",
        "audience": "Sales clerks and customer service",
        "when_to_use": "The ERP cannot create or change sales orders, or the sales team lead tells you the ERP is down.",
        "steps": 'Take the red binder "Sales fallback" from the shelf next to the printer.\n'
        "Use one numbered order form (pad SO-F) per customer order. Never tear out or skip a number.\n"
        "Write the customer number, the part numbers and quantities, the requested date and the price from the "
        "printed price list (page 3 of the binder).\n"
        'Do not promise a delivery date: say "we will confirm within one working day".\n'
        "For EDI orders from OEM customers, print the order e-mail from the EDI mailbox and staple it to a form.\n"
        "Put each finished form in the red tray. The team lead copies the form numbers to the daily log sheet.\n"
        "Urgent shipments: phone the warehouse lead and give the form number; the warehouse ships on a paper "
        "delivery note.",
        "paper_records": "Numbered order form (customer, parts, quantities, price, requested date, taken by, time). "
        "Daily log sheet of form numbers used. Copies of paper delivery notes.",
        "reentry": "When the ERP is back, enter the forms in number order. Write the ERP order number on each form "
        "and tick it on the log sheet. EDI orders are re-imported by IT; check none is entered twice. The team "
        "lead checks that every form number on the log has an ERP number, then the forms are filed for 3 months.",
        "forms_location": "Sales office, shelf next to the printer: red binder and pads SO-F 0001–0500",
    },
    {
        "service": "inventory",
        "title": "Receiving, picking and shipping without the ERP",
        "audience": "Warehouse staff (Suzhou and Kunshan)",
        "when_to_use": 'The scanners show "no connection" or the ERP is down for more than 15 minutes.',
        "steps": "Goods receipt: check the delivery against the supplier's delivery note, fill a manual goods receipt "
        "note (pad GRN-F), put the goods in the quarantine bay, not in stock.\n"
        "Picking: use the printed pick lists from this morning if there are any; otherwise pick from the sales "
        "order forms passed by Sales.\n"
        "Every movement in or out is written on the offline stock card of the bin (yellow card in the bin holder): "
        "date, quantity in/out, document number, your initials.\n"
        "Shipping: write a paper delivery note (pad DN-F) in two copies; one goes with the truck, one in the blue tray.\n"
        "Do not move stock between Suzhou and Kunshan during the outage unless the warehouse lead says so.",
        "paper_records": "Manual goods receipt notes (GRN-F), paper delivery notes (DN-F), offline stock card "
        "entries, list of bins touched.",
        "reentry": "Enter goods receipts first, then deliveries, in number order. The warehouse lead compares the "
        "stock cards of all touched bins with the ERP stock and books differences as a stock correction with "
        'reason "ERP outage". Goods in quarantine are put away once the receipt is booked.',
        "forms_location": "Warehouse office: grey cabinet, drawer 2 (pads GRN-F, DN-F, spare stock cards)",
    },
    {
        "service": "production",
        "title": "Running production from the last plan",
        "audience": "Production planners and shift leaders",
        "when_to_use": "The MRP run failed or the ERP is down at the start of a shift.",
        "steps": "Keep running the work orders already released; the printed shift plan from the last successful "
        "MRP run is in the planning office.\n"
        "Do not start new work orders without the production planner's signature on the printed plan.\n"
        "Record finished quantities and scrap per work order on the shift report (form PR-F) instead of "
        "confirming at the terminal.\n"
        "Material that runs short: the planner phones Procurement and writes a paper requisition.",
        "paper_records": "Shift reports (work order, operation, quantity good, scrap, machine, times).",
        "reentry": "Shift leaders confirm the operations from the shift reports, oldest first. Then the planner "
        "starts a manual MRP run and checks the order proposals before releasing them.",
        "forms_location": "Planning office, wall rack: printed shift plans and PR-F pads",
    },
    {
        "service": "procurement",
        "title": "Urgent purchasing without the ERP",
        "audience": "Buyers",
        "when_to_use": "The ERP cannot create purchase orders and material is needed before it is back.",
        "steps": "Only urgent needs: material that stops production within 2 days.\n"
        "Fill a manual purchase order (pad PO-F, numbered) and have it signed by the procurement lead.\n"
        "Send it to the supplier by e-mail as a scan; ask the supplier to quote the PO-F number on the delivery note.\n"
        "Keep a list of manual POs with supplier, part, quantity, price and expected date.",
        "paper_records": "Manual purchase orders (PO-F) and the list of manual POs.",
        "reentry": "Create each manual PO in the ERP with the PO-F number in the reference field, so goods receipts "
        "and invoices can be matched. Tell Finance which supplier invoices refer to PO-F numbers.",
        "forms_location": "Procurement office, cabinet behind the lead's desk",
    },
    {
        "service": "finance",
        "title": "Delayed invoicing and payments during an outage",
        "audience": "Accountants and the accounts payable / receivable clerks",
        "when_to_use": "The general ledger or invoicing is unavailable for more than half a day.",
        "steps": "Do not write invoices by hand: invoicing is delayed until the ERP is back, unless the finance "
        "lead decides otherwise for a specific customer.\n"
        'Keep incoming supplier invoices in the "not posted" tray, stamped with the date received.\n'
        "Urgent payments (salaries, tax, critical suppliers) are made in the bank portal by two people and listed "
        "on the manual payment log.\n"
        "Check the bank statement daily; note customer receipts on the cash receipts sheet.",
        "paper_records": "Manual payment log, cash receipts sheet, stack of unposted supplier invoices.",
        "reentry": "Post supplier invoices in date order, then the manual payments and receipts from the logs, then "
        "create the delayed customer invoices with the original delivery date. Reconcile the bank account before "
        "closing the period.",
        "forms_location": 'Finance office safe (manual payment log) and the "not posted" tray',
    },
    {
        "service": "payroll",
        "title": "Paying salaries when payroll cannot run",
        "audience": "HR payroll team and the finance lead",
        "when_to_use": "The payroll run cannot be completed by the 8th of the month.",
        "steps": "Pay everyone last month's net salary: export last month's bank payment file from the payroll "
        "archive (kept on the encrypted USB stick in the HR safe and on the file server).\n"
        "Adjust it by hand only for leavers and new joiners (list from HR).\n"
        "The finance lead and the HR lead both approve the file in the bank portal.\n"
        "Tell employees by notice and chat that this month's differences (overtime, bonuses) are paid next month.",
        "paper_records": "List of adjustments made by hand, signed approval of both leads.",
        "reentry": "Run the payroll for the month in the ERP, compare with what was paid and pay the difference "
        "with the next month's salary. Social insurance and tax are declared from the ERP figures.",
        "forms_location": "HR safe: payroll archive USB stick and the adjustment form",
    },
]


def _load_fallbacks(count: _Counter) -> None:
    for spec in FALLBACKS:
        service = ERPService.objects.get(code=spec["service"])
        exists = FallbackProcedure.objects.filter(service=service, title=spec["title"]).exists()
        if not exists:
            services.fallback_create(**{**spec, "service": service})
        count.add("fallback procedures", not exists)


# --- Action items -------------------------------------------------------------------------------

# title, owner, due in days (negative: overdue), status, plan title, description
ACTIONS = [
    (
        "Print new numbered order pads for the Kunshan sales desk",
        "david.lin",
        -12,
        ActionItem.Status.OPEN,
        "ERP outage (application or database down)",
        "The last drill found only 40 forms left in pad SO-F at Kunshan. Order 1,000 numbered forms.",
    ),
    (
        "Test a point-in-time restore of the ERP database on erp-restore-01",
        "zhao.lei",
        21,
        ActionItem.Status.IN_PROGRESS,
        "Data loss or corruption",
        "Quarterly test: restore to a chosen minute, time it, compare row counts of the key tables.",
    ),
    (
        "Enable object lock on the off-site backup bucket",
        "admin",
        45,
        ActionItem.Status.OPEN,
        "Ransomware attack",
        "30-day object lock on the weekly backup copy so a stolen admin password cannot delete it.",
    ),
    (
        "Preconfigure the spare core switch with the current configuration",
        "sun.hao",
        30,
        ActionItem.Status.OPEN,
        "Network / WAN outage",
        "The spare still has last year's VLAN layout.",
    ),
    (
        "Train a second person on the manual payroll procedure",
        "xu.jing",
        -40,
        ActionItem.Status.DONE,
        None,
        "Done with Huang Li in the finance office.",
    ),
]


def _load_actions(count: _Counter) -> None:
    today = timezone.localdate()
    for title, owner, due_in, status, plan_title, description in ACTIONS:
        exists = ActionItem.objects.filter(title=title).exists()
        count.add("action items", not exists)
        if exists:
            continue
        item = services.action_item_create(
            title=title,
            description=description,
            owner=_user(owner),
            due_date=today + datetime.timedelta(days=due_in),
            plan=EmergencyPlan.objects.filter(title=plan_title).first() if plan_title else None,
        )
        if status != ActionItem.Status.OPEN:
            services.action_item_update(item=item, status=status)


def load(stdout) -> None:
    """Load the demo data of plans/ (and the people everything else refers to)."""
    count = _Counter()
    with transaction.atomic():
        _load_departments(count)
        _load_users(count)
        _load_services(count)
        _load_team(count)
        for spec in PLANS:
            _load_plan(spec, count)
        _load_fallbacks(count)
        _load_actions(count)
    count.report(stdout, "plans")
