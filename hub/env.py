"""The environment every setting is read from (django-environ), for hub/settings.py and for the flow
packages' own settings (flows/<name>/conf.py), which hub/settings.py reads for each installed flow."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

import environ
from django.utils.module_loading import import_string

from hub.registry import FlowApp

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
ImproperlyConfigured = environ.ImproperlyConfigured


def flow_packages_installed(installed_apps: list[str]) -> list[str]:
    """The installed flow packages (their AppConfig a FlowApp) that have settings of their own (a conf.py)."""
    packages = []
    for entry in installed_apps:
        config = import_string(entry) if ".apps." in entry else None
        if isinstance(config, type) and issubclass(config, FlowApp):
            packages.append(config.name)
    return [package for package in packages if importlib.util.find_spec(f"{package}.conf") is not None]


# The hub's own settings, as hub/settings.py has read them, for the packages' conf.py that build on them.
hub_settings: dict[str, Any] = {}


def flow_settings(package: str, defined: dict[str, Any]) -> dict[str, Any]:
    """The upper-case names a package's conf.py defines; `defined` holds the settings read before it."""
    hub_settings.clear()
    hub_settings.update((name, value) for name, value in defined.items() if name.isupper())
    module = importlib.import_module(f"{package}.conf")
    return {name: value for name, value in vars(module).items() if name.isupper()}
