"""Input of flow 10 (contract: "Flow 10: Customer event opt-out")."""

from rest_framework import serializers

from hub.timefmt import OffsetDateTimeField


class OptOutMessage(serializers.Serializer):
    optOutId = serializers.CharField(max_length=30)
    eventId = serializers.CharField(max_length=120)
    nicId = serializers.CharField(max_length=200)
    headEndSystem = serializers.CharField(max_length=100)
    cisPersonId = serializers.CharField(max_length=100, required=False, allow_null=True, allow_blank=True)
    optOutDateTime = OffsetDateTimeField()
    reason = serializers.CharField(max_length=254, required=False, allow_null=True, allow_blank=True)
