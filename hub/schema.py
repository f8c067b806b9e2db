"""OpenAPI description of the partner API (drf-spectacular), built from the flow registry.

Every flow's endpoint is described from the flow itself (`request_serializer`,
`request_examples`, `content_types`, `sender`), so a flow added to FLOWS shows
up in `/api/schema/` and `/api/docs/` without touching this module.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.renderers import OpenApiJsonRenderer2, OpenApiYamlRenderer, OpenApiYamlRenderer2
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers

from hub.flow import Flow


class Acknowledgement(serializers.Serializer):
    trackingId = serializers.UUIDField()
    messageId = serializers.CharField()
    flow = serializers.CharField()
    status = serializers.ChoiceField(choices=["ACCEPTED"])
    duplicate = serializers.BooleanField()
    receivedAt = serializers.DateTimeField()


class RejectionBody(serializers.Serializer):
    trackingId = serializers.UUIDField()
    error = serializers.CharField()
    message = serializers.CharField(allow_blank=True)
    details = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class Unauthenticated(serializers.Serializer):
    detail = serializers.CharField()


class NotFound(serializers.Serializer):
    error = serializers.CharField()
    message = serializers.CharField()


class MessageStatus(serializers.Serializer):
    trackingId = serializers.UUIDField()
    messageId = serializers.CharField(allow_blank=True)
    flow = serializers.CharField()
    status = serializers.CharField()
    receivedAt = serializers.DateTimeField()
    finishedAt = serializers.DateTimeField(allow_null=True)
    items = serializers.DictField(child=serializers.IntegerField(), help_text="Item count by item status.")
    ackType = serializers.ChoiceField(choices=["SUCCESS", "ERROR", "FAILURE"], allow_null=True)


def _serializer_classes(base: type[Any]) -> Iterator[type[Any]]:
    for sub in base.__subclasses__():
        yield sub
        yield from _serializer_classes(sub)


class FlowAutoSchema(AutoSchema):
    """Component names stay unique when two flows each have, say, a `LocationInfo` serializer:
    a name that more than one flow uses gets the flow package's name in front."""

    def get_serializer_name(self, serializer, direction) -> str:
        cls = type(serializer)
        name = cls.__name__
        namesakes = {c for c in _serializer_classes(serializers.BaseSerializer) if c.__name__ == name}
        if len(namesakes) > 1 and cls.__module__.startswith("flows."):
            package = cls.__module__.split(".")[1]
            return "".join(part.title() for part in package.split("_")) + name
        return name


class OffsetDateTimeExtension(OpenApiSerializerFieldExtension):
    target_class = "hub.timefmt.OffsetDateTimeField"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "format": "date-time", "description": "ISO 8601 with an offset (Z or ±HH:MM)."}


ACK_EXAMPLE = {
    "trackingId": "6f1c2a4e-8d0b-4c43-9a51-0f0e3f7d2b10",
    "messageId": "DRMS-ENR-0001",
    "flow": "enrollment_requests",
    "status": "ACCEPTED",
    "duplicate": False,
    "receivedAt": "2026-11-26T10:00:00Z",
}
REJECTION_EXAMPLE = {
    "trackingId": "0b8e2f55-3c1d-4a7e-b1f6-2d9c8e7a6b54",
    "error": "validation_failed",
    "message": "enrollmentRequests[3].locationInfo.cisPremiseId: This field is required.",
    "details": {"enrollmentRequests[3].locationInfo.cisPremiseId": ["This field is required."]},
}
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before sending again.",
)


def rejection(description: str, **extra: Any) -> OpenApiResponse:
    return OpenApiResponse(RejectionBody, description=description, **extra)


def flow_responses() -> dict[int, OpenApiResponse]:
    return {
        202: OpenApiResponse(
            Acknowledgement,
            description="Accepted; flows may add fields (e.g. `requestCount`).",
            examples=[OpenApiExample("accepted", ACK_EXAMPLE, response_only=True, status_codes=["202"])],
        ),
        200: OpenApiResponse(Acknowledgement, description="A duplicate: the first acknowledgement, `duplicate: true`."),
        400: rejection(
            "Bad JSON or fields; `details` names every field path.",
            examples=[OpenApiExample("validation failed", REJECTION_EXAMPLE, response_only=True, status_codes=["400"])],
        ),
        401: OpenApiResponse(Unauthenticated, description="No or wrong credentials (not stored)."),
        403: rejection("The other partner system's account."),
        404: rejection("An answer to a message the hub does not know (`unknown_correlation`)."),
        409: rejection("Valid but refused by a business rule."),
        413: rejection("Body over `MAX_BODY_MB`; only its headers and size are stored."),
        415: rejection("Wrong content type."),
        429: rejection("The backlog is over `BACKLOG_LIMIT`; send again after `Retry-After`."),
    }


def request_bodies(flow: Flow) -> dict[str, Any]:
    """Media type → serializer for the flow's request body (a free-form object when it names none)."""
    declared = flow.request_serializer
    if isinstance(declared, dict):
        return declared
    return {media_type: declared or OpenApiTypes.OBJECT for media_type in flow.content_types}


def flow_schema(flow: Flow):
    """The decorator that describes one flow's view class."""
    # A plain value is a JSON body; an OpenApiExample can show another media type (a multipart form).
    examples = [
        value
        if isinstance(value, OpenApiExample)
        else OpenApiExample(name, value, request_only=True, media_type="application/json")
        for name, value in flow.request_examples.items()
    ]
    doc = type(flow).__doc__ or sys.modules[type(flow).__module__].__doc__ or flow.name
    summary, _, description = doc.strip().partition("\n")
    return extend_schema_view(
        post=extend_schema(
            operation_id=flow.name,
            summary=summary,
            description=description.strip()
            or "Stored as received, then judged: 202 with an acknowledgement, or a "
            "rejection naming every faulty field.",
            tags=[flow.sender],
            request=request_bodies(flow),
            responses=flow_responses(),
            examples=examples,
            parameters=[RETRY_AFTER],
        )
    )


message_status_schema = extend_schema(
    operation_id="message_status",
    summary="Status of a message the caller's system sent.",
    tags=["messages"],
    responses={
        200: MessageStatus,
        401: OpenApiResponse(Unauthenticated, description="No or wrong credentials."),
        404: OpenApiResponse(NotFound, description="Unknown, or sent by the other system."),
    },
)


def only_partner_api(endpoints, **kwargs):
    """Preprocessing hook: the schema describes the partner API, not the stand-ins or the docs."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]


# `/api/schema/`: JSON by default (`?format=yaml` for YAML).
SCHEMA_RENDERERS = [OpenApiJsonRenderer2, OpenApiYamlRenderer, OpenApiYamlRenderer2]
