"""`make run`: the hub, a django-q2 cluster and the built-in stand-ins, with demo traffic.

Ctrl-C (or SIGTERM) stops everything this command started, and so does any error on the way; if this
command is killed outright, a watchdog stops the rest (hub/process_group.py).
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from importlib import import_module
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from hub.process_group import ProcessGroup
from hub.registry import flow_packages


def _login_file():
    return settings.VAR_DIR / "admin-login.txt"


def ensure_admin() -> tuple[str, str, bool]:
    """The console login: from ADMIN_USERNAME/ADMIN_PASSWORD, or generated once and kept under var/."""
    username = os.environ.get("ADMIN_USERNAME", "admin")
    password = os.environ.get("ADMIN_PASSWORD")
    user = User.objects.filter(username=username).first()
    if password:
        user = user or User(username=username)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        return username, password, False
    if user is None:
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, password=password, email="")
        _login_file().write_text(f"{username} {password}\n")
        _login_file().chmod(0o600)
        return username, password, True
    stored = _login_file().read_text().split() if _login_file().exists() else [username, "(as you set it)"]
    return stored[0], stored[1], False


def ensure_partner(system: str) -> tuple[str, str]:
    username = f"{system.lower()}-demo"
    path = settings.VAR_DIR / f"{username}.password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(16))
        path.chmod(0o600)
    password = path.read_text().strip()
    user, _ = User.objects.get_or_create(username=username)
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=system))
    return username, password


def port_check(*, host: str, port: int) -> None:
    """Refuse to start anything when `host:port` is taken: the web server would fail, and the demo would talk to
    whatever listens there."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    try:
        # As the web server will bind: SO_REUSEADDR, so a port left in TIME_WAIT by a previous run counts as free.
        socket.create_server(address[:2], family=family).close()
    except OSError as exc:
        raise CommandError(
            f"port {port} on {host} is not free ({exc.strerror}); stop what uses it, or choose another port: "
            f"HUB_BASE_URL=http://{host}:{port + 1} make run"
        ) from exc


class Stop(Exception):
    """SIGTERM, handled as Ctrl-C is."""


def _stop_signal(signum, frame):
    raise Stop


class Command(BaseCommand):
    help = "Run the hub locally: web server, worker cluster, built-in stand-ins and demo traffic."

    def add_arguments(self, parser):
        parser.add_argument("--no-demo", action="store_true", help="start without sending demo traffic")

    def handle(self, no_demo=False, **options):
        base = settings.HUB_BASE_URL
        url = urlsplit(base)
        port = url.port or (443 if url.scheme == "https" else 80)
        port_check(host=url.hostname, port=port)
        address = f"[{url.hostname}]:{port}" if ":" in url.hostname else f"{url.hostname}:{port}"
        username, password, created = ensure_admin()
        partners = {system: ensure_partner(system) for system in ("DERMS", "DACS")}
        call_command("collectstatic", "--noinput", verbosity=0)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        group = ProcessGroup()
        # Ctrl-C stops everything even when this process was started with SIGINT ignored (a shell's
        # background job without job control): Python then installs no handler of its own.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _stop_signal)
        try:
            children = {
                "web server": group.start([sys.executable, "manage.py", "runserver", address, "--noreload"], env=env),
                "worker cluster": group.start([sys.executable, "manage.py", "qcluster"], env=env),
            }
            self.wait_until_up(base, children)
            if not no_demo:
                self.demo(base, partners)
            self.stdout.write(self.style.SUCCESS(f"\nConsole:  {base}/admin/"))
            if created:
                self.stdout.write(f"Login:    {username} / {password}   (shown once; kept in {_login_file()})")
            else:
                self.stdout.write(f"Login:    {username} / {password}")
            self.stdout.write(f"Partners: DERMS {partners['DERMS'][0]}, DACS {partners['DACS'][0]} (passwords in var/)")
            self.stdout.write("Ctrl-C stops the hub, the worker cluster and the stand-ins.")
            while True:
                for name, child in children.items():
                    if child.poll() is not None:
                        raise CommandError(f"the {name} exited with code {child.returncode}")
                time.sleep(1)
        except (KeyboardInterrupt, Stop):
            pass
        finally:
            # A second Ctrl-C must not cut the stop short and leave processes behind.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            group.stop()
            self.stdout.write("stopped")

    def demo(self, base: str, partners: dict) -> None:
        for package in flow_packages():
            try:
                demo = import_module(f"{package}.demo")
            except ModuleNotFoundError:
                continue
            for line in demo.send(base, partners):
                self.stdout.write(f"demo: {line}")

    def wait_until_up(self, base: str, children: dict[str, subprocess.Popen]) -> None:
        for _ in range(100):
            for name, child in children.items():
                if child.poll() is not None:
                    raise CommandError(f"the {name} exited with code {child.returncode} before the hub was up")
            try:
                if requests.get(f"{base}/healthz", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise CommandError(f"the hub did not start at {base}")
