"""/sim/<partner>/…: the built-in stand-ins. Each flow package contributes its
endpoints in `simulator.py` as DACS and DERMS url patterns.

`GET /sim/<partner>/` answers `{"status": "UP"}` (or 503 while `down`): the
path the console's "Test connection" calls when DERMS_TEST_PATH is left empty.
"""

from importlib import import_module

from django.urls import path

from hub.registry import flow_packages
from hub.simulators.core import endpoint, knobs_view, records_view

urlpatterns = []
for package in flow_packages():
    try:
        module = import_module(f"{package}.simulator")
    except ModuleNotFoundError:
        continue
    for partner in ("dacs", "derms"):
        for route, view in getattr(module, partner.upper(), {}).items():
            urlpatterns.append(path(f"{partner}/{route}", view))
for partner in ("dacs", "derms"):
    up = endpoint(partner.upper(), "root", lambda body: "", lambda body, knobs: (200, {"status": "UP"}), method="GET")
    urlpatterns += [
        path(f"{partner}/", up),
        path(f"{partner}/_knobs", knobs_view, {"partner": partner.upper()}),
        path(f"{partner}/_records", records_view, {"partner": partner.upper()}),
    ]
