"""Input of flow 11 (contract: "Flow 11: Customer unavailability")."""

from rest_framework import serializers

from hub.fields import Text
from hub.timefmt import OffsetDateTimeField

ACTIONS = ("ADD", "UPDATE", "CANCEL")
DATED = ("ADD", "UPDATE")


class UnavailabilityMessage(serializers.Serializer):
    messageId = Text(max_length=200)
    unavailabilityId = Text(max_length=30)
    action = serializers.ChoiceField(ACTIONS)
    nicId = Text(max_length=200)
    headEndSystem = Text(max_length=100)
    cisPersonId = Text(max_length=100, required=False, allow_null=True, allow_blank=True)
    startDateTime = OffsetDateTimeField(required=False, allow_null=True)
    endDateTime = OffsetDateTimeField(required=False, allow_null=True)
    reason = Text(max_length=254, required=False, allow_null=True, allow_blank=True)

    def validate(self, attrs):
        start, end = attrs.get("startDateTime"), attrs.get("endDateTime")
        if attrs["action"] in DATED:
            missing = {
                name: [f"This field is required for {attrs['action']}."]
                for name, value in (("startDateTime", start), ("endDateTime", end))
                if value is None
            }
            if missing:
                raise serializers.ValidationError(missing)
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"endDateTime": ["Must be after startDateTime."]})
        return attrs
