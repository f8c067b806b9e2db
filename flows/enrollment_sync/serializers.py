"""Input of flow 3 (contract: "Flow 3: Enrollment synchronisation")."""

from rest_framework import serializers

from hub.fields import Text, optional
from hub.timefmt import OffsetDateTimeField


class ContactInfo(serializers.Serializer):
    contactId = optional()
    cisPersonId = Text(max_length=100)
    name = optional()
    email = optional()


class SubscriptionInfo(serializers.Serializer):
    subscriptionId = Text(max_length=100)
    cisAccountId = optional()
    subscriptionType = optional()
    status = optional()
    programId = optional()
    programCode = Text(max_length=100)
    startDateTime = OffsetDateTimeField(required=False, allow_null=True)
    endDateTime = OffsetDateTimeField(required=False, allow_null=True)


class ControllableDevice(serializers.Serializer):
    nicId = optional(max_length=200)
    headEndSystem = optional()
    deviceType = optional()
    specification = optional()
    status = optional()


class LocationInfo(serializers.Serializer):
    division = optional()
    servicePointId = optional()
    cisPremiseId = optional()
    cisServicePointId = Text(max_length=100)
    controllableDevices = serializers.ListField(child=ControllableDevice(), required=False, allow_null=True)


class SyncRequest(serializers.Serializer):
    syncRequestId = Text(max_length=200)
    action = serializers.ChoiceField(["ENROLL", "UNENROLL"])
    contactInfo = ContactInfo()
    subscriptionInfo = SubscriptionInfo()
    locationInfo = LocationInfo()


class SyncAck(serializers.Serializer):
    dacsMessageId = Text(max_length=200)
    ackType = serializers.ChoiceField(["SUCCESS", "ERROR"])
    message = optional()
