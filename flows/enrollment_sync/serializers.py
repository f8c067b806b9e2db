"""Input of flow 3 (contract: "Flow 3: Enrollment synchronisation")."""

from rest_framework import serializers

from hub.timefmt import OffsetDateTimeField


def optional(**kwargs):
    return serializers.CharField(required=False, allow_null=True, allow_blank=True, **kwargs)


class ContactInfo(serializers.Serializer):
    contactId = optional()
    cisPersonId = serializers.CharField(max_length=100)
    name = optional()
    email = optional()


class SubscriptionInfo(serializers.Serializer):
    subscriptionId = serializers.CharField(max_length=100)
    cisAccountId = optional()
    subscriptionType = optional()
    status = optional()
    programId = optional()
    programCode = serializers.CharField(max_length=100)
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
    cisServicePointId = serializers.CharField(max_length=100)
    controllableDevices = serializers.ListField(child=ControllableDevice(), required=False, allow_null=True)


class SyncRequest(serializers.Serializer):
    syncRequestId = serializers.CharField(max_length=200)
    action = serializers.ChoiceField(["ENROLL", "UNENROLL"])
    contactInfo = ContactInfo()
    subscriptionInfo = SubscriptionInfo()
    locationInfo = LocationInfo()


class SyncAck(serializers.Serializer):
    dacsMessageId = serializers.CharField(max_length=200)
    ackType = serializers.ChoiceField(["SUCCESS", "ERROR"])
    message = optional()
