"""The message part of a reservation (contract: "Flow 5"); devices are checked by devices.py."""

from rest_framework import serializers

from flows.device_reservations.devices import RECORD_ID_MAX, RECORD_ID_MIN
from hub.fields import Text, optional
from hub.timefmt import OffsetDateTimeField


class ReservationHeader(serializers.Serializer):
    messageId = Text(max_length=100)
    drmsInstanceId = optional()
    eventId = Text(max_length=120)
    eventType = serializers.ChoiceField(choices=["ECONOMIC", "EMERGENCY"])
    programCode = Text(max_length=100, required=False, allow_null=True, allow_blank=True)
    eventStartDateTime = OffsetDateTimeField()
    eventEndDateTime = OffsetDateTimeField()

    def validate(self, attrs):
        if attrs["eventEndDateTime"] <= attrs["eventStartDateTime"]:
            raise serializers.ValidationError({"eventEndDateTime": ["The event must end after it starts."]})
        return attrs


class ReservationDevice(serializers.Serializer):
    """One device of `deviceList` (documentation: rows are checked by devices.py, not by this class)."""

    recordId = serializers.IntegerField(min_value=RECORD_ID_MIN, max_value=RECORD_ID_MAX)
    nicId = Text(max_length=200)
    headEndSystemId = Text(max_length=100)
    reservationStartDateTime = OffsetDateTimeField(required=False, allow_null=True)
    reservationEndDateTime = OffsetDateTimeField(required=False, allow_null=True)


class ReservationMessage(ReservationHeader):
    """The JSON form, for the API docs."""

    deviceList = ReservationDevice(many=True)


class ReservationForm(serializers.Serializer):
    """The multipart form, for the API docs."""

    message = Text(help_text="The JSON message without deviceList.")
    file = serializers.FileField(
        help_text="CSV: recordId,nicId,headEndSystemId,reservationStartDateTime,reservationEndDateTime"
    )
