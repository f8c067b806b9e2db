"""HTTP Basic remembers a good password for BASIC_AUTH_CACHE_S, and forgets it as soon as it stops being good."""

import base64
import itertools
import json
import threading
import time
from unittest import mock

import pytest
from django.contrib.auth import hashers
from django.contrib.auth.models import Group
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIClient

from flows.enrollment_requests.samples import enrollment_message
from hub.authentication import CachedBasicAuthentication, _verifying, verified
from hub.models import Message
from tests.conftest import basic
from tests.factories import UserFactory
from tests.threads import in_threads

URL = "/api/v1/derms/enrollment-requests"
PASSWORD = "secret-pass-123"  # the factory's
pytestmark = pytest.mark.django_db

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _remembering(settings):
    settings.BASIC_AUTH_CACHE_S = 300
    verified.clear()
    yield
    verified.clear()


@pytest.fixture
def hasher():
    """Counts full password verifications (what AbstractBaseUser.check_password calls)."""
    with mock.patch("django.contrib.auth.base_user.check_password", wraps=hashers.check_password) as check:
        yield check


def post(username="derms", password=PASSWORD):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(username, password))
    body = json.dumps(enrollment_message(f"M-{next(_ids)}", 1))
    return client.post(URL, data=body, content_type="application/json")


def assert_refused_as_drf_does(resp):
    assert resp.status_code == 401
    assert resp["WWW-Authenticate"] == 'Basic realm="api"'
    assert resp.json() == {"detail": "Invalid username/password."}


def test_it_hashes_the_password_once_then_remembers_it(derms_user, hasher):
    assert post().status_code == 202
    assert hasher.call_count == 1
    assert post().status_code == 202
    assert post().status_code == 202
    assert hasher.call_count == 1
    assert set(Message.objects.values_list("sender_user", flat=True)) == {derms_user.pk}


def test_a_changed_password_refuses_the_old_one_at_once_and_takes_the_new_one(derms_user, hasher):
    assert post().status_code == 202
    derms_user.set_password("a-new-secret-456")
    derms_user.save()
    assert_refused_as_drf_does(post())
    assert post(password="a-new-secret-456").status_code == 202
    assert post(password="a-new-secret-456").status_code == 202
    assert hasher.call_count == 3  # the first request, the old password refused, the new one once


def test_an_unusable_password_refuses_at_once(derms_user):
    assert post().status_code == 202
    derms_user.set_unusable_password()
    derms_user.save()
    assert_refused_as_drf_does(post())


def test_a_deactivated_user_is_refused_at_once(derms_user):
    assert post().status_code == 202
    derms_user.is_active = False
    derms_user.save()
    assert_refused_as_drf_does(post())


def test_a_deleted_user_is_refused_at_once(derms_user):
    assert post().status_code == 202
    Message.objects.all().delete()
    derms_user.delete()
    assert_refused_as_drf_does(post())


def test_a_renamed_user_is_refused_under_the_old_name(derms_user):
    assert post().status_code == 202
    derms_user.username = "derms-renamed"
    derms_user.save()
    assert_refused_as_drf_does(post())
    assert post(username="derms-renamed").status_code == 202


def test_a_user_removed_from_the_derms_group_gets_403_at_once(derms_user, hasher):
    assert post().status_code == 202
    derms_user.groups.remove(Group.objects.get(name="DERMS"))
    resp = post()
    assert resp.status_code == 403 and resp.json()["error"] == "forbidden"
    assert hasher.call_count == 1  # still a good password: the group, read on every request, refuses it
    assert Message.objects.filter(sender="", status=Message.Status.REJECTED, http_status=403).count() == 1


def test_a_user_moved_to_the_dacs_group_gets_403_at_once(derms_user):
    assert post().status_code == 202
    derms_user.groups.set([Group.objects.get(name="DACS")])
    assert post().status_code == 403


def test_a_wrong_password_is_hashed_and_refused_every_time(derms_user, hasher):
    assert_refused_as_drf_does(post(password="wrong"))
    assert_refused_as_drf_does(post(password="wrong"))
    assert hasher.call_count == 2
    assert post().status_code == 202  # remembered only now
    assert_refused_as_drf_does(post(password="wrong"))
    assert hasher.call_count == 4


def test_an_unknown_user_is_refused(db):
    assert_refused_as_drf_does(post(username="nobody"))
    assert_refused_as_drf_does(post(username="nobody"))


def test_zero_hashes_every_request_and_remembers_nothing(settings, derms_user, hasher):
    settings.BASIC_AUTH_CACHE_S = 0
    with mock.patch.object(verified, "set", wraps=verified.set) as remember:
        for _ in range(3):
            assert post().status_code == 202
    assert hasher.call_count == 3
    assert remember.call_count == 0


class Clock:
    """Stands in for the `time` module the cache reads its clock from."""

    def __init__(self):
        self.now = 1_800_000_000.0

    def time(self):
        return self.now


def test_it_forgets_the_password_after_the_configured_time(settings, derms_user, hasher):
    settings.BASIC_AUTH_CACHE_S = 60
    clock = Clock()
    with (
        mock.patch("django.core.cache.backends.base.time", clock),
        mock.patch("django.core.cache.backends.locmem.time", clock),
    ):
        assert post().status_code == 202
        clock.now += 59
        assert post().status_code == 202
        assert hasher.call_count == 1
        clock.now += 2
        assert post().status_code == 202
        assert hasher.call_count == 2
        clock.now += 59
        assert post().status_code == 202
        assert hasher.call_count == 2


def test_it_keeps_neither_the_password_nor_the_username_in_its_keys(derms_user):
    password = "Correct-Horse-Battery-Staple-9"
    derms_user.set_password(password)
    derms_user.save()
    with mock.patch.object(verified, "set", wraps=verified.set) as remember:
        assert post(password=password).status_code == 202
    ((key, value), kwargs) = remember.call_args
    encoded = base64.b64encode(f"derms:{password}".encode()).decode()
    for secret in (password, password.lower(), encoded, "derms"):
        assert secret not in key
    assert value == (derms_user.pk, derms_user.password)
    assert password not in repr(value)
    assert kwargs == {"timeout": 300}


def test_it_remembers_a_bounded_number_of_credentials(monkeypatch, hasher):
    monkeypatch.setattr(verified, "_max_entries", 5)
    users = [UserFactory.create(groups=["DERMS"]) for _ in range(12)]
    for user in users:
        assert post(username=user.username).status_code == 202
    assert hasher.call_count == 12
    assert post(username=users[-1].username).status_code == 202
    assert hasher.call_count == 12  # the latest is still remembered…
    hasher.reset_mock()
    for user in users[:-1]:
        assert post(username=user.username).status_code == 202
    assert hasher.call_count >= 11 - 4  # …and at most four others beside it


def test_a_token_still_works_beside_basic(derms_user, token_client):
    body = json.dumps(enrollment_message("M-token", 1))
    assert token_client(derms_user).post(URL, data=body, content_type="application/json").status_code == 202


def test_the_schema_still_describes_http_basic(client):
    schemes = client.get("/api/schema/").json()["components"]["securitySchemes"]
    assert schemes["basicAuth"] == {"type": "http", "scheme": "basic"}
    assert "tokenAuth" in schemes


@pytest.mark.django_db(transaction=True)
def test_threads_arriving_together_with_the_same_password_hash_it_once(derms_user):
    """A partner opening many connections at once: one thread hashes, the others wait for its answer."""
    barrier = threading.Barrier(8)
    users = []

    def slow_check(*args, **kwargs):
        time.sleep(0.3)  # a hash slow enough that every thread arrives while it runs
        return hashers.check_password(*args, **kwargs)

    def authenticate():
        barrier.wait()
        users.append(CachedBasicAuthentication().authenticate_credentials("derms", PASSWORD)[0].pk)

    with mock.patch("django.contrib.auth.base_user.check_password", side_effect=slow_check) as check:
        in_threads(authenticate, 8)
    assert users == [derms_user.pk] * 8
    assert check.call_count == 1
    assert not _verifying  # nothing is kept once no thread verifies


@pytest.mark.django_db(transaction=True)
def test_wrong_passwords_arriving_together_are_each_hashed_and_refused(derms_user):
    barrier = threading.Barrier(4)
    refused = []

    def authenticate():
        barrier.wait()
        try:
            CachedBasicAuthentication().authenticate_credentials("derms", "wrong-password")
        except AuthenticationFailed:
            refused.append(True)

    with mock.patch("django.contrib.auth.base_user.check_password", wraps=hashers.check_password) as check:
        in_threads(authenticate, 4)
    assert refused == [True] * 4
    assert check.call_count == 4
    assert not _verifying
