import base64

import pytest
from django_q.conf import Conf
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from hub.lookups import lookup_clear
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _hub_settings(settings, tmp_path, monkeypatch):
    # Tasks run inline in unit tests; tests/e2e runs a real cluster instead.
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.VAR_DIR = tmp_path
    # Worker threads would use connections outside the test's transaction;
    # the parallel path runs in tests/e2e against a real cluster.
    settings.PARTNER_CONCURRENCY = 1
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.RETRY_FIRST_S = 0.01
    settings.RETRY_MAX_S = 0.05
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_TECHNICAL_EMAILS = ["ops@utility.example"]
    settings.NOTIFY_BUSINESS_EMAILS = ["programs@utility.example"]
    lookup_clear()


@pytest.fixture(autouse=True, scope="session")
def _admin_discovered(django_test_environment):
    """Tests read the admin registry directly; the hub fills it when its URLconf is loaded."""
    from django.contrib import admin

    admin.autodiscover()


@pytest.fixture
def derms_user(db):
    return UserFactory.create(username="derms", groups=["DERMS"])


@pytest.fixture
def dacs_user(db):
    return UserFactory.create(username="dacs", groups=["DACS"])


def basic(username: str, password: str = "secret-pass-123") -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture
def derms_client(derms_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic("derms"))
    return client


@pytest.fixture
def dacs_client(dacs_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic("dacs"))
    return client


@pytest.fixture
def token_client():
    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        return client

    return make
