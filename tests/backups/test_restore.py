"""Real restore tests: a PostgreSQL dump restored into a scratch database, and archives.

PostgreSQL tests need the client tools and a server (PG_SCRATCH_URL, default
postgresql://postgres@127.0.0.1:5432/postgres). They skip when either is missing, except in CI
(CI=true), where they fail. The scratch server is never the app's own test database.
"""

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import uuid
import zipfile
from pathlib import Path

import pytest

from backups import restore, services
from backups.models import Verification
from incidents.models import Alert
from tests.needs import unavailable

from .factories import BackupPolicyFactory, BackupRunFactory

SCRATCH_URL = os.environ.get("PG_SCRATCH_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

SOURCE_SQL = """
CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, status text NOT NULL);
CREATE TABLE order_lines (id serial PRIMARY KEY, order_id int NOT NULL REFERENCES orders(id), qty int NOT NULL);
CREATE TABLE ledger (id serial PRIMARY KEY, account text NOT NULL, amount numeric(12,2) NOT NULL);
INSERT INTO orders (customer, status) VALUES ('ACME', 'open'), ('Globex', 'open'), ('Initech', 'shipped');
INSERT INTO order_lines (order_id, qty) VALUES (1, 5), (1, 2), (2, 1), (3, 7);
INSERT INTO ledger (account, amount) VALUES ('cash', 100.00), ('revenue', -100.00), ('stock', 40.50), ('payables', -40.50);
"""

SANITY = [
    {"name": "open sales orders", "sql": "SELECT count(*) FROM orders WHERE status = 'open'", "expect": ">0"},
    {"name": "trial balance", "sql": "SELECT coalesce(sum(amount), 0) FROM ledger", "expect": "zero"},
    {
        "name": "orphan order lines",
        "sql": "SELECT count(*) FROM order_lines l LEFT JOIN orders o ON o.id = l.order_id WHERE o.id IS NULL",
        "expect": "zero",
    },
]
TABLES = [{"name": "orders", "min_rows": 3}, {"name": "order_lines", "min_rows": 1}, "ledger"]


def _postgres_available() -> str | None:
    for tool in ("pg_dump", "pg_restore", "psql"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    try:
        import psycopg2

        psycopg2.connect(SCRATCH_URL, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"PostgreSQL unreachable: {exc}"
    return None


@pytest.fixture(scope="module")
def pg():
    reason = _postgres_available()
    if reason:
        unavailable(reason)
    return SCRATCH_URL


def _psql(url, *args, **kwargs):
    return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, *args], check=True, **kwargs)


@pytest.fixture(scope="module")
def source_dumps(pg, tmp_path_factory):
    """A small ERP-like source database, dumped in custom and plain formats, then dropped."""
    name = f"erpc_test_source_{uuid.uuid4().hex[:8]}"
    base = pg.rsplit("/", 1)[0]
    _psql(pg, "-c", f"CREATE DATABASE {name}")
    try:
        _psql(f"{base}/{name}", input=SOURCE_SQL, text=True, capture_output=True)
        folder = tmp_path_factory.mktemp("dumps")
        custom, plain = folder / "erp.dump", folder / "erp.sql"
        subprocess.run(["pg_dump", "-Fc", "-f", str(custom), "-d", f"{base}/{name}"], check=True)
        subprocess.run(["pg_dump", "-Fp", "--no-owner", "-f", str(plain), "-d", f"{base}/{name}"], check=True)
    finally:
        _psql(pg, "-c", f"DROP DATABASE IF EXISTS {name}")
    return {"custom": custom, "plain": plain}


def _scratch_databases(url) -> list[str]:
    out = _psql(
        url,
        "-tA",
        "-c",
        "SELECT datname FROM pg_database WHERE datname LIKE 'erpc_restore_%'",
        capture_output=True,
        text=True,
    ).stdout
    return [line for line in out.split() if line]


def _policy(pg, path, **fields):
    policy = BackupPolicyFactory(scratch_target=pg, expected_tables=TABLES, sanity_queries=SANITY, **fields)
    data = Path(path).read_bytes()
    BackupRunFactory(
        location__policy=policy,
        location__path=str(Path(path).parent),
        file_path=str(path),
        size_bytes=len(data),
        checksum_sha256=hashlib.sha256(data).hexdigest(),
    )
    return policy


@pytest.mark.django_db
def test_a_good_custom_format_dump_restores_and_passes(pg, source_dumps):
    policy = _policy(pg, source_dumps["custom"])
    before = _scratch_databases(pg)
    verification = services.restore_test(policy=policy)
    assert verification.result == Verification.Result.PASS, verification.message
    assert verification.details["tables"] == {"orders": 3, "order_lines": 4, "ledger": 4}
    assert all(q["ok"] for q in verification.details["sanity"])
    assert verification.duration_seconds > 0 and verification.details["within_rto"] is True
    assert verification.details["scratch_database"].startswith("erpc_restore_")
    assert _scratch_databases(pg) == before  # the scratch database was dropped


@pytest.mark.django_db
def test_a_good_plain_dump_restores_through_psql(pg, source_dumps):
    policy = _policy(pg, source_dumps["plain"])
    verification = services.restore_test(policy=policy)
    assert verification.result == Verification.Result.PASS, verification.message
    assert verification.details["format"] == "pg_plain"


@pytest.mark.django_db
def test_a_truncated_dump_fails_with_the_restore_error_and_drops_the_scratch_database(pg, source_dumps, tmp_path):
    broken = tmp_path / "broken.dump"
    data = source_dumps["custom"].read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    policy = _policy(pg, broken, service__criticality=1)
    before = _scratch_databases(pg)
    verification = services.restore_test(policy=policy)
    assert verification.result == Verification.Result.FAIL
    assert verification.message.startswith("pg_restore failed")
    assert _scratch_databases(pg) == before
    alert = Alert.objects.get(fingerprint=f"policy-{policy.pk}-restore")
    assert alert.severity == "sev1" and "pg_restore failed" in alert.summary


@pytest.mark.django_db
def test_a_failing_sanity_query_fails_the_restore(pg, source_dumps):
    policy = _policy(pg, source_dumps["custom"])
    policy.sanity_queries = [{"name": "no orders", "sql": "SELECT count(*) FROM orders", "expect": "zero"}]
    policy.expected_tables = ["orders", "invoices"]
    policy.save()
    verification = services.restore_test(policy=policy)
    assert verification.result == Verification.Result.FAIL
    assert "table invoices is missing" in verification.message
    assert "sanity query no orders returned 3, expected zero" in verification.message


@pytest.mark.django_db
def test_a_restore_slower_than_the_rto_fails(pg, source_dumps):
    policy = _policy(pg, source_dumps["custom"], service__rto_minutes=0)
    verification = services.restore_test(policy=policy)
    assert verification.result == Verification.Result.FAIL
    assert "longer than the RTO" in verification.message


@pytest.mark.django_db
def test_an_unreachable_scratch_target_fails_without_showing_its_password(source_dumps):
    policy = _policy("postgresql://u:s3cret@127.0.0.1:1/postgres", source_dumps["custom"])
    verification = services.restore_test(policy=policy)
    assert verification.result == Verification.Result.FAIL
    assert "Cannot reach the scratch target" in verification.message
    assert "s3cret" not in verification.message
    assert policy.scratch_target_display == "postgresql://u:***@127.0.0.1:1/postgres"


def test_the_restore_refuses_a_scratch_name_outside_its_prefix():
    with pytest.raises(restore.RestoreError):
        restore.restore_postgres(
            path="/dev/null",
            fmt="pg_custom",
            scratch_url=SCRATCH_URL,
            scratch_name="erp_production",
            expected_tables=[],
            sanity_queries=[],
        )


# --- Archives ------------------------------------------------------------------------------------


def _tar(path, files):
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))


@pytest.mark.django_db
def test_a_tar_archive_with_the_expected_files_passes(tmp_path):
    path = tmp_path / "files.tar.gz"
    _tar(path, {"attachments/a.pdf": b"%PDF", "config/erp.ini": b"[erp]"})
    policy = BackupPolicyFactory(expected_files=["config/erp.ini", "attachments/a.pdf"])
    BackupRunFactory(location__policy=policy, location__path=str(path.parent), file_path=str(path))
    verification = services.restore_test(policy=policy)
    assert verification.result == Verification.Result.PASS, verification.message
    assert verification.details["members"] == 2


@pytest.mark.django_db
def test_a_zip_archive_missing_a_file_fails_and_names_it(tmp_path):
    path = tmp_path / "config.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config/erp.ini", "[erp]")
    policy = BackupPolicyFactory(expected_files=["config/erp.ini", "config/secrets.env"])
    BackupRunFactory(location__policy=policy, location__path=str(path.parent), file_path=str(path))
    verification = services.restore_test(policy=policy)
    assert verification.result == Verification.Result.FAIL
    assert verification.message == "Missing from the archive: config/secrets.env"


@pytest.mark.django_db
def test_a_truncated_tar_archive_fails(tmp_path):
    good = tmp_path / "good.tar"
    with tarfile.open(good, "w") as archive:
        info = tarfile.TarInfo("big.bin")
        payload = os.urandom(200_000)
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    broken = tmp_path / "broken.tar"
    broken.write_bytes(good.read_bytes()[:100_000])
    policy = BackupPolicyFactory()
    BackupRunFactory(location__policy=policy, location__path=str(broken.parent), file_path=str(broken))
    verification = services.restore_test(policy=policy)
    assert verification.result == Verification.Result.FAIL
    assert "cannot be extracted" in verification.message


@pytest.mark.django_db
def test_a_scratch_database_left_by_a_dead_worker_is_dropped_by_the_next_restore(pg, source_dumps):
    leftover = "erpc_restore_999_20200101000000_abcdef"
    recent = services.scratch_database_name(BackupPolicyFactory())
    _psql(pg, "-c", f"CREATE DATABASE {leftover}")
    _psql(pg, "-c", f"CREATE DATABASE {recent}")
    try:
        verification = services.restore_test(policy=_policy(pg, source_dumps["custom"]))
        assert verification.details["dropped_stale"] == [leftover]
        assert leftover not in _scratch_databases(pg)
        assert recent in _scratch_databases(pg)  # may belong to a restore running right now
    finally:
        _psql(pg, "-c", f"DROP DATABASE IF EXISTS {leftover}")
        _psql(pg, "-c", f"DROP DATABASE IF EXISTS {recent}")


def _archive_policy(path, expected_files=()):
    policy = BackupPolicyFactory(expected_files=list(expected_files))
    BackupRunFactory(location__policy=policy, location__path=str(path.parent), file_path=str(path))
    return policy


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["../escaped.txt", "docs/../../escaped.txt", "/tmp/escaped-abs.txt"])
def test_a_tar_member_escaping_the_directory_fails_and_nothing_is_extracted(tmp_path, name):
    path = tmp_path / "inner" / "evil.tar"
    path.parent.mkdir()
    _tar(path, {"ok.txt": b"fine", name: b"pwned"})
    verification = services.restore_test(policy=_archive_policy(path))
    assert verification.result == Verification.Result.FAIL
    assert verification.message == f"Unsafe member {name}: the archive was not extracted."
    assert not (tmp_path / "escaped.txt").exists() and not Path("/tmp/escaped-abs.txt").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["../escaped.txt", "/escaped-abs.txt"])
def test_a_zip_member_escaping_the_directory_fails(tmp_path, name):
    path = tmp_path / "inner" / "evil.zip"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ok.txt", "fine")
        archive.writestr(zipfile.ZipInfo(name), "pwned")
    verification = services.restore_test(policy=_archive_policy(path))
    assert verification.result == Verification.Result.FAIL
    assert verification.message.startswith(f"Unsafe member {name}")
    assert not (tmp_path / "escaped.txt").exists()


@pytest.mark.django_db
def test_a_tar_symlink_pointing_outside_fails(tmp_path):
    path = tmp_path / "links.tar"
    with tarfile.open(path, "w") as archive:
        link = tarfile.TarInfo("passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    verification = services.restore_test(policy=_archive_policy(path))
    assert verification.result == Verification.Result.FAIL
    assert verification.message == "Unsafe member passwd: the archive was not extracted."


@pytest.mark.django_db
def test_an_expected_file_smaller_than_its_minimum_fails_and_sizes_are_recorded(tmp_path):
    path = tmp_path / "docs.tar.gz"
    _tar(path, {"attachments/index.json": b"{}", "config/erp.ini": b"[erp]\nhost=db\n"})
    expected = [{"path": "attachments/index.json", "min_bytes": 100}, "config/erp.ini"]
    verification = services.restore_test(policy=_archive_policy(path, expected))
    assert verification.result == Verification.Result.FAIL
    assert verification.message == ("Missing from the archive: attachments/index.json (2 bytes, expected at least 100)")
    assert verification.details["files"] == {"attachments/index.json": 2, "config/erp.ini": 14}
    assert verification.details["extracted_bytes"] == 16


@pytest.mark.django_db
def test_a_real_tar_made_by_the_tar_tool_passes(tmp_path):
    source = tmp_path / "src"
    (source / "attachments").mkdir(parents=True)
    (source / "attachments" / "index.json").write_bytes(b'{"files": 1}' * 50)
    path = tmp_path / "out" / "docs.tar.gz"
    path.parent.mkdir()
    subprocess.run(["tar", "-czf", str(path), "-C", str(source), "attachments"], check=True)
    policy = _archive_policy(path, [{"path": "attachments/index.json", "min_bytes": 100}])
    verification = services.restore_test(policy=policy)
    assert verification.result == Verification.Result.PASS, verification.message
    assert verification.details["files"] == {"attachments/index.json": 600}


# --- Progress ------------------------------------------------------------------------------------


def test_the_restore_reports_each_table_as_pg_restore_restores_it(pg, source_dumps):
    calls = []
    ok, message, details = restore.restore_postgres(
        path=str(source_dumps["custom"]),
        fmt="pg_custom",
        scratch_url=pg,
        scratch_name=f"{restore.SCRATCH_PREFIX}0_{'0' * 14}_{uuid.uuid4().hex[:6]}",
        expected_tables=[],
        sanity_queries=[],
        progress=lambda **kw: calls.append(kw),
    )
    assert ok, message
    assert calls[0] == {"phase": "restoring", "done": 0, "total": 3}
    tables = [c["current"] for c in calls if "current" in c]
    assert sorted(tables) == ["public.ledger", "public.order_lines", "public.orders"]
    assert [c["done"] for c in calls if "current" in c] == [1, 2, 3]
    assert calls[-1] == {"phase": "checking", "done": 3, "total": 3}


@pytest.mark.django_db
def test_a_finished_restore_test_leaves_its_progress_done(pg, source_dumps):
    from backups.models import RestoreProgress

    policy = _policy(pg, source_dumps["custom"])
    verification = services.restore_test(policy=policy)
    progress = RestoreProgress.objects.get(policy=policy)
    assert verification.result == Verification.Result.PASS
    assert progress.phase == "done" and progress.finished_at is not None
    assert progress.tables_total == 3 and progress.run == verification.run


@pytest.mark.django_db
def test_a_failed_archive_restore_also_finishes_its_progress(tmp_path):
    from backups.models import RestoreProgress

    path = tmp_path / "empty.tar"
    path.write_bytes(b"")
    policy = _archive_policy(path)
    services.restore_test(policy=policy)
    assert RestoreProgress.objects.get(policy=policy).finished_at is not None


@pytest.mark.django_db
def test_the_next_good_dump_resolves_the_restore_alert_of_a_truncated_one(pg, source_dumps, tmp_path):
    broken = tmp_path / "erp-1.dump"
    data = source_dumps["custom"].read_bytes()
    broken.write_bytes(data[: len(data) // 3])
    policy = _policy(pg, broken)
    services.restore_test(policy=policy)
    alert = Alert.objects.get(fingerprint=f"policy-{policy.pk}-restore")
    assert alert.status == Alert.Status.FIRING
    good = tmp_path / "erp-2.dump"
    good.write_bytes(data)
    BackupRunFactory(location=policy.locations.get(), file_path=str(good), size_bytes=len(data))
    assert services.restore_test(policy=policy).result == Verification.Result.PASS
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED
