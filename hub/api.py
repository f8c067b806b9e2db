"""Inbound REST endpoints: one thin view per flow, and the message status view."""

import uuid
from typing import ClassVar

from django.http import JsonResponse
from django.views.defaults import page_not_found
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.flow import Flow
from hub.inbound import receive, user_system
from hub.messages import item_counts
from hub.models import Message
from hub.schema import flow_schema, message_status_schema
from hub.timefmt import iso_z


class FlowView(APIView):
    """POST /api/v1/<flow.path>: everything happens in the shared inbound pipeline."""

    flow: ClassVar[Flow]  # each flow's subclass, made by flow_view, names it

    def post(self, request):
        return receive(request, self.flow)

    def http_method_not_allowed(self, request, *args, **kwargs):
        # Any other method of an authenticated partner is stored, then answered 405 by the pipeline.
        return receive(request, self.flow)


def flow_view(flow: Flow):
    view = type(f"{type(flow).__name__}View", (FlowView,), {"flow": flow})
    return flow_schema(flow)(view).as_view()


class MessageStatusView(APIView):
    """GET /api/v1/messages/{trackingId}: readable only by the system that sent it."""

    @message_status_schema
    def get(self, request, tracking_id):
        try:
            tracking_id = uuid.UUID(tracking_id)
        except ValueError:
            tracking_id = None  # not an id the hub could have issued: the same 404 as an unknown one
        message = (
            (
                Message.objects.filter(tracking_id=tracking_id, sender=user_system(request.user))
                .exclude(sender="")
                .defer("raw_body")
                .first()
            )
            if tracking_id
            else None
        )
        if message is None:
            return Response({"error": "not_found", "message": "No such message."}, status=404)
        return Response(
            {
                "trackingId": str(message.tracking_id),
                "messageId": message.message_key,
                "flow": message.flow,
                "status": message.status,
                "receivedAt": iso_z(message.received_at),
                "finishedAt": iso_z(message.finished_at),
                "items": item_counts(message),
                "ackType": message.ack_type or None,
            }
        )


def not_found(request, exception=None):
    """404 for a path no route matches: JSON under /api/ (partners parse it), Django's page elsewhere."""
    if not request.path.startswith("/api/"):
        return page_not_found(request, exception)
    return JsonResponse(
        {"error": "not_found", "message": f"No such endpoint: {request.method} {request.path[:300]}"}, status=404
    )
