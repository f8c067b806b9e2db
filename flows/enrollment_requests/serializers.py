"""Input of flow 1 (contract: "Flow 1: Enrollment requests")."""

from rest_framework import serializers

from hub.fields import Text, optional
from hub.timefmt import OffsetDateTimeField

MAX_REQUESTS = 10_000


class CustomerInfo(serializers.Serializer):
    cisPersonId = Text(max_length=100)
    cisAccountId = Text(max_length=100)
    name = optional()
    homePhone = optional()
    businessPhone = optional()
    email = optional()


class ProgramInfo(serializers.Serializer):
    cisServiceAgreementId = optional()
    programCode = Text(max_length=100)
    startDateTimeISO = OffsetDateTimeField()
    endDateTimeISO = OffsetDateTimeField(required=False, allow_null=True)


class LocationInfo(serializers.Serializer):
    locationId = optional()
    division = optional()
    cisPremiseId = Text(max_length=100)
    cisServicePointId = Text(max_length=100)
    timeZone = optional()
    address1 = optional()
    city = optional()
    county = optional()
    state = optional()
    postal = optional()
    country = optional()


class Asset(serializers.Serializer):
    sequence = serializers.IntegerField(required=False, allow_null=True)
    assetId = optional()
    make = optional()
    model = optional()
    assetType = optional()
    badgeNo = optional()
    serialNo = optional()
    nicId = Text(max_length=200)
    headEndSystem = Text(max_length=100)


class AssetInfo(serializers.Serializer):
    installationMethod = optional()
    assetOwnership = optional()
    assetList = serializers.ListField(child=Asset(), min_length=1)


class EnrollmentRequest(serializers.Serializer):
    requestId = Text(max_length=19)
    customerInfo = CustomerInfo()
    programInfo = ProgramInfo()
    locationInfo = LocationInfo()
    assetInfo = AssetInfo()


class EnrollmentMessage(serializers.Serializer):
    messageId = Text(max_length=100)
    drmsInstanceId = optional()
    enrollmentRequests = serializers.ListField(child=EnrollmentRequest(), min_length=1, max_length=MAX_REQUESTS)

    def validate_enrollmentRequests(self, requests):
        seen: dict[str, int] = {}
        errors: dict[int, dict[str, list[str]]] = {}
        for index, request in enumerate(requests):
            request_id = request["requestId"]
            if request_id in seen:
                errors[index] = {
                    "requestId": [
                        f"Duplicate requestId '{request_id}' (also at enrollmentRequests[{seen[request_id]}])."
                    ]
                }
            seen.setdefault(request_id, index)
        if errors:
            # Keyed by index, as DRF's ListField reports its items; djangorestframework-stubs allow only str keys.
            raise serializers.ValidationError(errors)  # type: ignore[arg-type]
        return requests
