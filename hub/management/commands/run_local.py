"""`make run`: the hub, a django-q2 cluster and the built-in stand-ins, with demo traffic.

Ctrl-C stops everything this command started.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from importlib import import_module
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand

from flows.registry import flow_packages


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


class Command(BaseCommand):
    help = "Run the hub locally: web server, worker cluster, built-in stand-ins and demo traffic."

    def add_arguments(self, parser):
        parser.add_argument("--no-demo", action="store_true", help="start without sending demo traffic")

    def handle(self, no_demo=False, **options):
        base = settings.HUB_BASE_URL
        address = urlsplit(base).netloc
        username, password, created = ensure_admin()
        partners = {system: ensure_partner(system) for system in ("DERMS", "DACS")}
        call_command("collectstatic", "--noinput", verbosity=0)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        children = [
            subprocess.Popen([sys.executable, "manage.py", "runserver", address, "--noreload"], env=env),
            subprocess.Popen([sys.executable, "manage.py", "qcluster"], env=env),
        ]

        def stop(*_):
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
            self.stdout.write("stopped")
            sys.exit(0)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.wait_until_up(base)
        if not no_demo:
            for package in flow_packages():
                try:
                    demo = import_module(f"{package}.demo")
                except ModuleNotFoundError:
                    continue
                for line in demo.send(base, partners):
                    self.stdout.write(f"demo: {line}")
        self.stdout.write(self.style.SUCCESS(f"\nConsole:  {base}/admin/"))
        if created:
            self.stdout.write(f"Login:    {username} / {password}   (shown once; kept in {_login_file()})")
        else:
            self.stdout.write(f"Login:    {username} / {password}")
        self.stdout.write(f"Partners: DERMS {partners['DERMS'][0]}, DACS {partners['DACS'][0]} (passwords in var/)")
        self.stdout.write("Ctrl-C stops the hub, the worker cluster and the stand-ins.")
        while all(child.poll() is None for child in children):
            time.sleep(1)
        stop()

    def wait_until_up(self, base: str) -> None:
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit(f"the hub did not start at {base}")
