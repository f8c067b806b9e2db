"""The admin's modules are discovered with the URLconf, not when a process starts."""

from django.contrib import admin

from hub.apps import check_admin_discovered
from hub.models import Message
from tests.processes import local_env, manage


def test_a_process_that_serves_no_page_does_not_import_the_admin(tmp_path):
    env = local_env(tmp_path)
    code = (
        "import sys; from django.contrib import admin; from hub.models import Message\n"
        "print('before', 'hub.admin' in sys.modules, admin.site.is_registered(Message))\n"
        "import hub.urls\n"
        "print('after', 'hub.admin' in sys.modules, admin.site.is_registered(Message))\n"
    )
    out = manage(env, "shell", "-c", code, timeout=120).stdout.split("\n")
    assert "before False False" in out and "after True True" in out


def test_manage_check_still_checks_every_model_admin(tmp_path):
    env = local_env(tmp_path)
    assert "no issues" in manage(env, "check", timeout=120).stdout


def test_the_admin_check_reports_a_broken_model_admin():
    site = admin.AdminSite(name="broken")
    site.register(Message, type("BrokenAdmin", (admin.ModelAdmin,), {"list_display": ("no_such_field",)}))
    errors = check_admin_discovered(None)
    assert [e.id for e in errors if getattr(e.obj, "__name__", "") == "BrokenAdmin"] == ["admin.E108"]
