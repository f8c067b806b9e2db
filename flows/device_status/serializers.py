"""Input of flow 2 (contract: "Flow 2: Device status check")."""

from rest_framework import serializers

from hub.fields import Text, optional
from hub.timefmt import OffsetDateTimeField


class SendDetails(serializers.Serializer):
    communicationId = Text(max_length=200)


class DeviceInfo(serializers.Serializer):
    division = optional()
    deviceType = optional()
    specification = optional()
    headEndSystem = Text(max_length=100)
    nicId = Text(max_length=200)


class StatusCheckRequest(serializers.Serializer):
    sendDetails = SendDetails()
    deviceInfo = DeviceInfo()
    reason = serializers.ChoiceField(["ENROLLMENT", "TROUBLESHOOTING"], default="TROUBLESHOOTING")


class StatusCheckResponse(serializers.Serializer):
    dacsMessageId = Text(max_length=200)
    responseCode = serializers.ChoiceField(["SUCCESS", "FAILURE"])
    responseTimeISO = OffsetDateTimeField(required=False, allow_null=True)
    nicId = optional(max_length=200)
    message = optional()
