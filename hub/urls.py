from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from flows.registry import FLOWS
from hub.api import MessageStatusView, flow_view, healthz

api_v1 = [path(f"{flow.path}", flow_view(flow), name=f"api-{flow.name}") for flow in FLOWS.values()]
api_v1.append(path("messages/<uuid:tracking_id>", MessageStatusView.as_view(), name="api-message"))

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("healthz", healthz, name="healthz"),
]
if settings.SIMULATORS_ENABLED:
    urlpatterns.append(path("sim/", include("hub.simulators.urls")))
