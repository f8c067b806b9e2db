"""A program event status update (contract: "Flow 8")."""

from rest_framework import serializers

from flows.event_status.models import EventStatus
from hub.fields import Text, optional
from hub.timefmt import OffsetDateTimeField

EVENT_TYPES = ["ECONOMIC", "EMERGENCY", "RELIABILITY", "DEVICE_TEST"]
SCHEDULED_NEEDS = ("programCode", "eventType", "startDateTime", "endDateTime")


class StatusUpdateMessage(serializers.Serializer):
    messageId = Text(max_length=100)
    drmsInstanceId = optional()
    eventId = Text(max_length=120)
    stageId = Text(max_length=120, required=False, allow_null=True, allow_blank=True, help_text="Default: the eventId.")
    status = serializers.ChoiceField(choices=EventStatus.values)
    statusDateTime = OffsetDateTimeField()
    programCode = Text(
        max_length=120, required=False, allow_null=True, allow_blank=True, help_text="Required for SCHEDULED."
    )
    eventType = serializers.ChoiceField(
        choices=EVENT_TYPES, required=False, allow_null=True, help_text="Required for SCHEDULED."
    )
    startDateTime = OffsetDateTimeField(required=False, allow_null=True, help_text="Required for SCHEDULED.")
    endDateTime = OffsetDateTimeField(
        required=False, allow_null=True, help_text="Required for SCHEDULED; after startDateTime."
    )
    cancelReason = Text(max_length=254, required=False, allow_null=True, allow_blank=True)

    def validate(self, attrs):
        attrs["stageId"] = attrs.get("stageId") or attrs["eventId"]
        if attrs["status"] != EventStatus.SCHEDULED:
            return attrs
        errors = {name: ["This field is required for SCHEDULED."] for name in SCHEDULED_NEEDS if not attrs.get(name)}
        if not errors and attrs["endDateTime"] <= attrs["startDateTime"]:
            errors["endDateTime"] = ["The event must end after it starts."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs
