#!/usr/bin/env python3
"""The `make run` launcher: one command from a fresh clone to a running ERP Continuity.

Standard library only, so any Python 3.11 runs it before the virtual environment exists.

    python3 scripts/run.py                      # set up, then run web + worker + beat
    python3 scripts/run.py venv requirements-dev.txt   # only create .venv and install (used by make test)

Set-up steps, each skipped when already done:
  1. .venv created with python3.11 (or the Python running this script), requirements installed;
     a stamp file in .venv remembers the hash of the requirements, so an unchanged file is not
     installed again.
  2. .env written from .env.example on the first run, with DEBUG=1 and a fresh SECRET_KEY.
  3. migrate, then load_demo (idempotent).
Then it starts the web server, a Celery worker and Celery beat, prefixes their output with
[web]/[worker]/[beat], prints the URL and the demo logins once the web answers, and stops all
three on Ctrl-C (SIGINT) or SIGTERM. If one of them dies, it stops the others and exits non-zero.

Environment: PORT (default 8000). DATABASE_URL / CELERY_BROKER_URL set → PostgreSQL / Redis.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
ENV_FILE = ROOT / ".env"
ENV_EXAMPLE = ROOT / ".env.example"
STOP_TIMEOUT = 20  # seconds the children get to stop after SIGTERM before SIGKILL

DEMO_LOGINS = [
    ("administrator", "admin"),
    ("IT operations", "ops"),
    ("manager", "manager"),
    ("business user", "business"),
]
DEMO_PASSWORD = "demo-password"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


# --- Set-up ------------------------------------------------------------------------------------


def _requirements_hash(requirements: Path) -> str:
    """Hash of a requirements file and the files it includes with -r, so editing either re-installs."""
    digest = hashlib.sha256()
    pending, seen = [requirements], set()
    while pending:
        path = pending.pop(0).resolve()
        if path in seen:
            continue
        seen.add(path)
        text = path.read_text()
        digest.update(path.name.encode() + b"\0" + text.encode())
        for line in text.splitlines():
            match = re.match(r"^\s*(?:-r|--requirement)\s+(\S+)", line)
            if match:
                pending.append(path.parent / match.group(1))
    return digest.hexdigest()


def ensure_venv(requirements: str = "requirements.txt") -> None:
    if not VENV_PYTHON.exists():
        python = shutil.which("python3.11") or sys.executable
        say(f"Creating the virtual environment .venv with {python}")
        subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    req = ROOT / requirements
    stamp = VENV / f".installed-{req.name}.sha256"
    wanted = _requirements_hash(req)
    if stamp.exists() and stamp.read_text().strip() == wanted:
        return
    say(f"Installing {req.name} (first time, or the file changed; this takes a minute)")
    subprocess.run([str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "-r", str(req)], check=True, cwd=ROOT)
    stamp.write_text(wanted + "\n")


def ensure_env_file() -> None:
    """Write .env from .env.example once: DEBUG on for a developer, a secret key of its own."""
    if ENV_FILE.exists():
        return
    text = ENV_EXAMPLE.read_text()
    key = secrets.token_urlsafe(50)
    text = re.sub(r"^#?\s*DEBUG=.*$", "DEBUG=1", text, count=1, flags=re.MULTILINE)
    text = re.sub(r"^#?\s*SECRET_KEY=.*$", f"SECRET_KEY={key}", text, count=1, flags=re.MULTILINE)
    ENV_FILE.write_text(text)
    ENV_FILE.chmod(0o600)
    say("Wrote .env (DEBUG=1, a new SECRET_KEY); edit it to change the settings")


def _setting(name: str, default: str = "") -> str:
    """A variable as settings.py will see it: the real environment first, then .env."""
    if name in os.environ:
        return os.environ[name]
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text().splitlines():
            match = re.match(rf"^\s*{name}\s*=\s*(.*)$", line)
            if match:
                return match.group(1).strip().strip("'\"")
    return default


def ensure_folders() -> None:
    (ROOT / "var").mkdir(exist_ok=True)
    broker = _setting("CELERY_BROKER_URL", "filesystem://")
    if broker.startswith("filesystem://"):
        folder = Path(_setting("CELERY_BROKER_DIR") or ROOT / "var" / "broker")
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)


def manage(*args: str) -> None:
    subprocess.run([str(VENV_PYTHON), "manage.py", *args], check=True, cwd=ROOT)


def describe_mode() -> None:
    database = _setting("DATABASE_URL")
    broker = _setting("CELERY_BROKER_URL", "filesystem://")
    say(
        "Database: "
        + (re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", database) if database else "SQLite (db.sqlite3)")
        + " — broker: "
        + ("filesystem (var/broker, no server)" if broker.startswith("filesystem://") else broker.split("@")[-1])
    )


# --- Running the three processes ----------------------------------------------------------------


class Supervisor:
    def __init__(self, port: str) -> None:
        self.port = port
        self.children: dict[str, subprocess.Popen] = {}
        self.print_lock = threading.Lock()
        self.stopping = threading.Event()
        self.force = threading.Event()

    def commands(self) -> dict[str, list[str]]:
        celery = str(VENV / "bin" / "celery")
        return {
            "web": [str(VENV_PYTHON), "manage.py", "runserver", f"0.0.0.0:{self.port}", "--noreload"],
            "worker": [celery, "-A", "erpcontinuity", "worker", "-l", "info", "--concurrency", "2"],
            "beat": [celery, "-A", "erpcontinuity", "beat", "-l", "info"],
        }

    def emit(self, line: str) -> None:
        with self.print_lock:
            sys.stdout.write(line)
            sys.stdout.flush()

    def _pump(self, name: str, stream) -> None:
        prefix = f"[{name}]".ljust(9)
        for raw in iter(stream.readline, b""):
            self.emit(f"{prefix}{raw.decode(errors='replace').rstrip()}\n")
        stream.close()

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for name, command in self.commands().items():
            # Each child leads its own process group: Ctrl-C reaches only this launcher, which then
            # stops every child (and the worker's pool processes) in order, and nothing is left behind.
            child = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            self.children[name] = child
            threading.Thread(target=self._pump, args=(name, child.stdout), daemon=True).start()

    def _signal_group(self, child: subprocess.Popen, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)

    def stop(self) -> None:
        running = [c for c in self.children.values() if c.poll() is None]
        # SIGTERM to each leader only: the Celery worker then shuts its pool down itself (warm
        # shutdown: running tasks finish; on the filesystem transport this takes a few seconds).
        # The whole group is killed if it does not stop in time, or at a second Ctrl-C.
        for child in running:
            child.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(c.poll() is None for c in running):
            if self.force.is_set() or time.monotonic() > deadline:
                for child in running:
                    self._signal_group(child, signal.SIGKILL)
                break
            time.sleep(0.2)
        for child in running:
            child.wait()
        # The worker's pool processes share its group: make sure none outlived it.
        for child in self.children.values():
            self._signal_group(child, signal.SIGKILL)

    def announce_when_up(self) -> None:
        url = f"http://127.0.0.1:{self.port}/"
        deadline = time.monotonic() + 90
        while not self.stopping.is_set() and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        else:
            return
        lines = [
            "",
            f"  ERP Continuity is running: {url}",
            f"  Demo logins (password: {DEMO_PASSWORD}):",
            *[f"    {role:<15} {username}" for role, username in DEMO_LOGINS],
            "  Press Ctrl-C to stop the web server, the worker and beat.",
            "",
        ]
        self.emit("\n".join(lines) + "\n")

    def run(self) -> int:
        def on_signal(signum, frame):
            if self.stopping.is_set():
                self.force.set()  # a second Ctrl-C: do not wait for the warm shutdown
            self.stopping.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        self.start()
        threading.Thread(target=self.announce_when_up, daemon=True).start()
        exit_code = 0
        while not self.stopping.is_set():
            dead = {name: c.returncode for name, c in self.children.items() if c.poll() is not None}
            if dead:
                name, code = next(iter(dead.items()))
                self.emit(f"==> {name} exited with code {code}; stopping the others\n")
                exit_code = code or 1
                break
            self.stopping.wait(0.3)
        else:
            self.emit(
                f"==> Stopping web, worker and beat (the worker finishes its tasks, up to {STOP_TIMEOUT} s;"
                " Ctrl-C again to kill at once)\n"
            )
        self.stopping.set()
        self.stop()
        self.emit("==> Stopped\n")
        return exit_code


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    if argv[:1] == ["venv"]:
        ensure_venv(argv[1] if len(argv) > 1 else "requirements.txt")
        return 0
    try:
        ensure_venv("requirements.txt")
        ensure_env_file()
        ensure_folders()
        describe_mode()
        say("Migrating the database")
        manage("migrate", "--noinput", "-v", "0")
        say("Loading the demo data")
        manage("load_demo")
    except subprocess.CalledProcessError as error:
        print(f"==> Set-up failed: {' '.join(map(str, error.cmd))} exited with {error.returncode}", file=sys.stderr)
        return error.returncode or 1
    except KeyboardInterrupt:
        return 130
    return Supervisor(os.environ.get("PORT") or "8000").run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
