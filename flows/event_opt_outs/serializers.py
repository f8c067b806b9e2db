"""Input of flow 10 (contract: "Flow 10: Customer event opt-out")."""

from rest_framework import serializers

from hub.fields import Text
from hub.timefmt import OffsetDateTimeField


class OptOutMessage(serializers.Serializer):
    optOutId = Text(max_length=30)
    eventId = Text(max_length=120)
    nicId = Text(max_length=200)
    headEndSystem = Text(max_length=100)
    cisPersonId = Text(max_length=100, required=False, allow_null=True, allow_blank=True)
    optOutDateTime = OffsetDateTimeField()
    reason = Text(max_length=254, required=False, allow_null=True, allow_blank=True)
