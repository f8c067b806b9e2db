"""Text fields check what the hub keeps: the value as the partner sent it, whitespace included."""

import pytest
from rest_framework import serializers

from flows.headend_registrations.models import DeviceRegistration
from flows.headend_registrations.samples import registration_device, registration_message
from hub.fields import Text, optional
from hub.models import Message
from hub.payload import Rejection, validated
from tests.posting import accept

pytestmark = pytest.mark.django_db
URL = "/api/v1/derms/headend-registrations"


def test_a_value_is_kept_as_sent_and_its_length_counts_its_whitespace():
    field = Text(max_length=5)
    assert field.run_validation(" ab  ") == " ab  "
    with pytest.raises(Exception, match="no more than 5"):
        field.run_validation("\x0babcde")


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_a_required_text_of_whitespace_only_is_blank(value):
    with pytest.raises(Exception, match="may not be blank"):
        Text(max_length=5).run_validation(value)


@pytest.mark.parametrize("value", [123, 1.5, True, ["a"], {"a": 1}])
def test_a_number_or_anything_but_a_string_is_refused(value):
    with pytest.raises(Exception, match="Not a valid string"):
        Text(max_length=5).run_validation(value)


def test_a_device_listed_with_a_list_for_its_nicid_is_a_400_naming_it(derms_client):
    body = registration_message(
        sync_id=None, devices=[registration_device(), {**registration_device(), "nicId": ["x"]}]
    )
    message = accept(derms_client, URL, body, status=400)
    assert message.errors is not None
    assert message.errors["details"] == {"devices[1].nicId": ["Not a valid string."]}


def test_an_optional_text_may_be_blank_or_null():
    assert optional().run_validation("  ") == "  "
    assert optional().run_validation(None) is None


def test_a_head_end_padded_past_its_column_is_refused_by_name_not_stored_half(derms_client):
    """The case that once answered 500: a vertical tab before 100 characters passed the
    serializer (it trimmed the tab) and overflowed the 100-character column."""
    body = registration_message(sync_id=None, devices=[registration_device(headEndSystem="\x0b" + "H" * 100)])
    message = accept(derms_client, URL, body, status=400)
    assert message.errors is not None
    assert "devices[0].headEndSystem" in message.errors["details"]
    assert message.status == Message.Status.REJECTED
    assert not DeviceRegistration.objects.exists()


def test_a_head_end_with_surrounding_whitespace_within_its_length_is_kept_as_sent(derms_client):
    body = registration_message(sync_id=None, devices=[registration_device(headEndSystem=" HES-1 ")])
    accept(derms_client, URL, body)
    assert DeviceRegistration.objects.get().head_end_system == " HES-1 "


def test_validated_names_the_field():
    class Payload(serializers.Serializer):
        messageId = Text(max_length=3)

    with pytest.raises(Rejection) as caught:
        validated(Payload, {"messageId": "    "})
    assert caught.value.details == {"messageId": ["This field may not be blank."]}
