"""The message part of a reservation (contract: "Flow 5"); devices are checked by devices.py."""

from rest_framework import serializers

from hub.timefmt import OffsetDateTimeField


class ReservationHeader(serializers.Serializer):
    messageId = serializers.CharField(max_length=100)
    drmsInstanceId = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    eventId = serializers.CharField(max_length=120)
    eventType = serializers.ChoiceField(choices=["ECONOMIC", "EMERGENCY"])
    programCode = serializers.CharField(max_length=100, required=False, allow_null=True, allow_blank=True)
    eventStartDateTime = OffsetDateTimeField()
    eventEndDateTime = OffsetDateTimeField()

    def validate(self, attrs):
        if attrs["eventEndDateTime"] <= attrs["eventStartDateTime"]:
            raise serializers.ValidationError({"eventEndDateTime": ["The event must end after it starts."]})
        return attrs
