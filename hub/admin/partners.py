"""The partners page: where the hub calls each partner and how it authenticates, never with what secret."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from hub import partners
from hub.admin.detail import pretty_body

CREDENTIAL_KEYS = {"basic": ("username", "password"), "oauth2": ("token_url", "client_id", "client_secret")}


def partner_rows() -> list[dict]:
    rows = []
    for name, conf in sorted(settings.PARTNERS.items()):
        needed = CREDENTIAL_KEYS[conf["auth"]]
        rows.append(
            {
                "name": name,
                "base_url": conf["base_url"],
                "auth": conf["auth"],
                "credentials": "configured" if all(conf.get(k) for k in needed) else "not configured",
                "test_path": getattr(settings, f"{name}_TEST_PATH", ""),
            }
        )
    return rows


def partners_view(site, request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("hub.view_outboundcall"):
        raise PermissionDenied
    can_test = request.user.has_perm("hub.test_connection")
    answer = None
    if request.method == "POST":
        if not can_test:
            raise PermissionDenied
        name = request.POST.get("partner", "")
        if name not in settings.PARTNERS:
            raise Http404("unknown partner")
        result = partners.call(
            partners.Operation(name, "connection_test", f"{name}_TEST_PATH", method="GET"),
            read_timeout=settings.PARTNER_CONNECT_TIMEOUT_S,
        )
        if result.body is None or isinstance(result.body, str):
            body = result.body or ""
        else:
            body = pretty_body(json.dumps(result.body))
        answer = {
            "partner": name,
            "outcome": result.outcome,
            "status": result.status,
            "error": result.error,
            "body": body[:4000],
            "duration_ms": result.call.duration_ms if result.call else None,
            "call": result.call,
        }
    context = {
        **site.each_context(request),
        "title": "Partners",
        "partners": partner_rows(),
        "can_test": can_test,
        "answer": answer,
    }
    return TemplateResponse(request, "admin/hub/partners.html", context)
