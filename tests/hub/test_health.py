"""/healthz and /readyz: JSON, public, nothing secret."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule, Task

from hub.models import OutboundCall
from tests.processes import local_env, manage, shell_last_line

pytestmark = pytest.mark.django_db


def task_finished(ago_s: float) -> Task:
    at = timezone.now() - timedelta(seconds=ago_s)
    return Task.objects.create(
        id=uuid.uuid4().hex, name="t", func="hub.processing.sweep", started=at, stopped=at, success=True
    )


def call(partner: str, outcome: str, ago_s: float) -> OutboundCall:
    return OutboundCall.objects.create(
        partner=partner,
        operation="enroll",
        method="POST",
        url="http://dacs.example/enroll",
        outcome=outcome,
        started_at=timezone.now() - timedelta(seconds=ago_s),
        response_status=200,
    )


@pytest.fixture(autouse=True)
def _no_schedule_run_yet():
    Schedule.objects.filter(func="hub.processing.sweep").update(
        next_run=timezone.now() - timedelta(days=1), task=uuid.uuid4().hex
    )


def test_healthz_says_ok_without_authentication(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/json"
    assert resp.json() == {"status": "ok"}


def test_readyz_is_unavailable_while_no_worker_showed_life(client):
    resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert body["checks"]["worker"]["ok"] is False and body["checks"]["worker"]["ageSeconds"] >= 86_400


def test_readyz_is_ok_after_a_task_finished_recently(client):
    task_finished(ago_s=20)
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.json()
    assert resp.json()["status"] == "ok"
    assert resp.json()["checks"]["worker"]["ageSeconds"] >= 20


def test_readyz_counts_the_scheduler_moving_the_sweeper_on(client):
    sweeper = Schedule.objects.filter(func="hub.processing.sweep")
    sweeper.update(next_run=timezone.now() + timedelta(seconds=40), task=None)
    assert client.get("/readyz").status_code == 503, "a schedule no cluster ran yet is no sign of life"
    sweeper.update(task=uuid.uuid4().hex)
    assert client.get("/readyz").status_code == 200


def test_readyz_is_unavailable_when_the_last_sign_of_life_is_old(client, settings):
    settings.WORKER_HEARTBEAT_MAX_AGE_S = 60
    task_finished(ago_s=600)
    resp = client.get("/readyz")
    assert resp.status_code == 503 and resp.json()["checks"]["worker"]["ageSeconds"] >= 600


def test_readyz_reports_each_partners_last_success(client):
    task_finished(ago_s=1)
    call("DACS", OutboundCall.Outcome.SUCCESS, ago_s=300)
    call("DACS", OutboundCall.Outcome.TECHNICAL, ago_s=10)
    partners = client.get("/readyz").json()["partners"]
    assert partners["DACS"]["lastSuccessAt"] is not None
    assert partners["DACS"]["lastOutcome"] == "TECHNICAL"
    assert partners["DACS"]["lastCallAt"] > partners["DACS"]["lastSuccessAt"]
    assert partners["DERMS"] == {"lastSuccessAt": None, "lastCallAt": None, "lastOutcome": None}


def test_readyz_reports_the_backlog(client, settings):
    from tests.factories import MessageFactory

    settings.BACKLOG_LIMIT = 50
    MessageFactory.create_batch(3)
    assert client.get("/readyz").json()["backlog"] == {"messages": 3, "limit": 50}


def test_readyz_shows_no_secrets(client, settings):
    settings.PARTNERS = {**settings.PARTNERS, "DACS": {**settings.PARTNERS["DACS"], "password": "pw-7f3a9c"}}
    task_finished(ago_s=1)
    text = client.get("/readyz").content.decode()
    assert "pw-7f3a9c" not in text and settings.SECRET_KEY not in text
    assert "password" not in text.lower() and "://" not in text


def test_readyz_with_redis_as_broker_reports_it_unreachable(tmp_path):
    """Q_REDIS_URL switches django-q2 to Redis; a Redis that does not answer makes the hub not ready."""
    import json
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = local_env(tmp_path, Q_REDIS_URL=f"redis://127.0.0.1:{port}/0", LOG_LEVEL="CRITICAL")
    manage(env, "migrate", "-v0")
    code = (
        "from django.conf import settings; from django.test import Client; "
        "r = Client().get('/readyz', HTTP_HOST='localhost'); "
        "print(r.status_code, r.content.decode(), 'orm' in settings.Q_CLUSTER)"
    )
    out = shell_last_line(env, code)
    status, rest = out.split(" ", 1)
    body, uses_orm = rest.rsplit(" ", 1)
    assert status == "503" and uses_orm == "False"
    checks = json.loads(body)["checks"]
    assert checks["database"]["ok"] and checks["broker"] == {"ok": False, "error": "ConnectionError"}
    assert str(port) not in body
