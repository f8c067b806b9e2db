"""Input of flow 9 (contract: "Flow 9: Head-end registration status")."""

from rest_framework import serializers

from hub.fields import Text, optional

REGISTRATIONS = ("REGISTERED", "DEREGISTERED", "NOT_REGISTERED")
MAX_DEVICES = 10_000


class RegistrationDevice(serializers.Serializer):
    nicId = Text(max_length=200)
    headEndSystem = Text(max_length=100)
    deviceId = optional(max_length=12)
    registration = serializers.ChoiceField(REGISTRATIONS)
    message = optional(max_length=2000)


class RegistrationMessage(serializers.Serializer):
    messageId = Text(max_length=200)
    dacsMessageId = optional(max_length=200)
    devices = serializers.ListField(child=RegistrationDevice(), min_length=1, max_length=MAX_DEVICES)
