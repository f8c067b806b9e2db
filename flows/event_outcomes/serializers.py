"""The message part of an event outcome (contract: "Flow 7"); the outcome rows are checked by rows.py."""

from rest_framework import serializers

from flows.device_reservations.devices import RECORD_ID_MAX, RECORD_ID_MIN
from flows.event_outcomes.rows import ERROR_MESSAGE_MAX, HEADER, OUTCOMES
from hub.fields import Text, optional
from hub.timefmt import OffsetDateTimeField


class OutcomeHeader(serializers.Serializer):
    messageId = Text(max_length=100)
    drmsInstanceId = optional()
    eventId = Text(max_length=120)


class OutcomeRow(serializers.Serializer):
    """One device of `outcomeList` (documentation: rows are checked by rows.py, not by this class)."""

    recordId = serializers.IntegerField(min_value=RECORD_ID_MIN, max_value=RECORD_ID_MAX)
    nicId = Text(max_length=100)
    headEndSystemId = Text(max_length=50)
    outcome = serializers.ChoiceField(choices=OUTCOMES)
    participationStartDateTime = OffsetDateTimeField(
        required=False, allow_null=True, help_text="Required for PARTICIPATED and OVERRIDDEN."
    )
    participationEndDateTime = OffsetDateTimeField(
        required=False, allow_null=True, help_text="Required for PARTICIPATED and OVERRIDDEN; after the start."
    )
    errorMessage = Text(max_length=ERROR_MESSAGE_MAX, required=False, allow_null=True, allow_blank=True)


class OutcomeMessage(OutcomeHeader):
    """The JSON form, for the API docs."""

    outcomeList = OutcomeRow(many=True)


class OutcomeForm(serializers.Serializer):
    """The multipart form, for the API docs."""

    message = Text(help_text="The JSON message without outcomeList.")
    file = serializers.FileField(help_text=f"CSV: {','.join(HEADER)}")
