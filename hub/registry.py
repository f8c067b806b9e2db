"""The flows the hub carries.

Each flow package's AppConfig is a FlowApp naming its flows by dotted path. They are imported
on first use (the URLconf, a task, the sweeper), never when a module is imported, so no module
imports a flow to reach the hub's machinery and the hub imports no flow at all. Adding a flow
means adding its package to INSTALLED_APPS.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django.apps import AppConfig, apps
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from django.db.models import Model

    from hub.flow import Flow


@dataclass(frozen=True)
class Records:
    """Records of a flow package the dashboard counts by state over the last days."""

    title: str
    model: str  # "app_label.ModelName"
    state: str  # the field holding the state (with choices)
    time: str  # the field that dates a record


class FlowApp(AppConfig):
    """The AppConfig of a flow package: everything the hub needs to know of it, declared in one place.

    Also found by module name in the package: `conf.py` (its settings, read by hub/settings.py),
    `simulator.py` (the partner stand-ins' views), `demo.py` (`make run`'s demo traffic), and
    `templates/emails/` (its emails). Its partner operations are hub.partners.Operation objects
    declared beside the code that calls them.
    """

    # Dotted paths of the package's Flow classes (none for a scheduled job such as the score files).
    flows: ClassVar[tuple[str, ...]] = ()
    # Its records on the dashboard.
    records: ClassVar[tuple[Records, ...]] = ()
    # Permissions of its models the support role has beyond viewing (codenames, e.g. "change_scorefile").
    support_permissions: ClassVar[tuple[str, ...]] = ()

    def metrics(self) -> Iterable[Any]:
        """Prometheus metric families of its own (prometheus_client Metric objects), for /metrics."""
        return ()

    def sweep(self) -> dict[str, int]:
        """Checks the sweeper runs every pass for the package as a whole (its flows have their own):
        how many things each check settled, by name."""
        return {}


def flow_model(model: type[Model]) -> bool:
    """Whether `model` is a flow package's own record (not a proxy)."""
    return isinstance(model._meta.app_config, FlowApp) and not model._meta.proxy


def flow_apps() -> list[FlowApp]:
    return [config for config in apps.get_app_configs() if isinstance(config, FlowApp)]


class _Flows(Mapping):
    """Flow name → flow instance, read from the installed FlowApps on first use."""

    def __init__(self) -> None:
        self._loaded: dict[str, Flow] | None = None
        self._lock = threading.Lock()

    def _flows(self) -> dict[str, Flow]:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    loaded: dict[str, Flow] = {}
                    for config in flow_apps():
                        for path in config.flows:
                            flow = import_string(path)()
                            if flow.name in loaded:
                                raise LookupError(f"two flows are named {flow.name!r}: {path} and another")
                            loaded[flow.name] = flow
                    self._loaded = loaded
        return self._loaded

    def __getitem__(self, name: str) -> Flow:
        return self._flows()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._flows())

    def __len__(self) -> int:
        return len(self._flows())


FLOWS: Mapping[str, Flow] = _Flows()


def flow_for(name: str) -> Flow:
    return FLOWS[name]


def flow_packages() -> list[str]:
    """Every flow package, for the parts found by module name (simulator.py, demo.py)."""
    return [config.name for config in flow_apps()]
