"""Input of flow 1 (contract: "Flow 1: Enrollment requests")."""

from rest_framework import serializers

from hub.timefmt import OffsetDateTimeField

MAX_REQUESTS = 10_000


def optional(**kwargs):
    return serializers.CharField(required=False, allow_null=True, allow_blank=True, **kwargs)


class CustomerInfo(serializers.Serializer):
    cisPersonId = serializers.CharField(max_length=100)
    cisAccountId = serializers.CharField(max_length=100)
    name = optional()
    homePhone = optional()
    businessPhone = optional()
    email = optional()


class ProgramInfo(serializers.Serializer):
    cisServiceAgreementId = optional()
    programCode = serializers.CharField(max_length=100)
    startDateTimeISO = OffsetDateTimeField()
    endDateTimeISO = OffsetDateTimeField(required=False, allow_null=True)


class LocationInfo(serializers.Serializer):
    locationId = optional()
    division = optional()
    cisPremiseId = serializers.CharField(max_length=100)
    cisServicePointId = serializers.CharField(max_length=100)
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
    nicId = serializers.CharField(max_length=200)
    headEndSystem = serializers.CharField(max_length=100)


class AssetInfo(serializers.Serializer):
    installationMethod = optional()
    assetOwnership = optional()
    assetList = serializers.ListField(child=Asset(), min_length=1)


class EnrollmentRequest(serializers.Serializer):
    requestId = serializers.CharField(max_length=19)
    customerInfo = CustomerInfo()
    programInfo = ProgramInfo()
    locationInfo = LocationInfo()
    assetInfo = AssetInfo()


class EnrollmentMessage(serializers.Serializer):
    messageId = serializers.CharField(max_length=100)
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
