from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from hub.api import MessageStatusView, flow_view, not_found
from hub.health import healthz, readyz
from hub.metrics import metrics_view
from hub.registry import FLOWS
from hub.schema import SCHEMA_RENDERERS

admin.autodiscover()  # here, not at start-up: see hub.apps.HubAdminConfig

api_v1 = [path(f"{flow.path}", flow_view(flow), name=f"api-{flow.name}") for flow in FLOWS.values()]
api_v1.append(path("messages/<path:tracking_id>", MessageStatusView.as_view(), name="api-message"))

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(renderer_classes=SCHEMA_RENDERERS), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
handler404 = not_found
handler403 = "hub.admin_site.permission_denied"
if settings.SIMULATORS_ENABLED:
    urlpatterns.append(path("sim/", include("hub.simulators.urls")))
