"""JSON log lines on stdout, each naming its message; no payloads or credentials at INFO."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from flows.enrollment_requests.samples import enrollment_message
from hub.logs import ContextFilter, JsonFormatter, LogContextMiddleware, log_bind, task_finished, task_started
from hub.processing import message_process
from hub.runner import Runner
from tests.factories import MessageFactory

ROOT = Path(__file__).resolve().parents[2]
URL = "/api/v1/derms/enrollment-requests"


@pytest.fixture
def lines():
    """Every record at INFO and above, as the hub's stdout handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_line_is_json_with_level_logger_message_and_exception(lines):
    log = logging.getLogger("hub.test")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed %s", 7)
    (line,) = lines()
    assert line["level"] == "ERROR" and line["logger"] == "hub.test" and line["message"] == "failed 7"
    assert line["time"].endswith("Z") and "ValueError: boom" in line["exception"]


def test_an_accepted_request_is_logged_with_its_ids_and_without_its_payload(derms_client, lines):
    body = enrollment_message("M-LOG-1", 1)
    body["enrollmentRequests"][0]["customerInfo"]["name"] = "Zebulon Privatename"
    resp = derms_client.post(URL, data=json.dumps(body), content_type="application/json")
    assert resp.status_code == 202
    ours = [line for line in lines() if line.get("tracking_id") == resp.json()["trackingId"]]
    assert any("accepted" in line["message"] for line in ours)
    assert all(line["flow"] == "enrollment_requests" for line in ours)
    assert any(line.get("message_id") == "M-LOG-1" for line in ours)
    text = json.dumps(lines())
    assert "Zebulon" not in text and "secret-pass-123" not in text


def test_a_rejected_request_is_logged_with_its_status_and_not_its_values(derms_client, lines):
    body = enrollment_message("M-LOG-2", 1)
    body["enrollmentRequests"][0]["programInfo"]["startDateTimeISO"] = "Privatevalue"
    resp = derms_client.post(URL, data=json.dumps(body), content_type="application/json")
    assert resp.status_code == 400
    (line,) = [line for line in lines() if line.get("tracking_id") == resp.json()["trackingId"]]
    assert line["message"] == "rejected 400 validation_failed" and line["message_id"] == "M-LOG-2"
    assert "Privatevalue" not in json.dumps(lines())


@pytest.mark.django_db
def test_a_processing_task_binds_its_message_and_clears_it_after(lines):
    message = MessageFactory.create(message_key="M-TASK")
    log_bind(tracking_id="left-over")
    task_started("django_q", task={"func": "hub.processing.message_process", "args": [message.id]})
    with mock.patch.object(Runner, "run", lambda runner: logging.getLogger("hub.processing").info("working")):
        message_process(message.id)
    task_finished("django_q", task={})
    logging.getLogger("hub.processing").info("idle")
    working, idle = lines()
    assert working["tracking_id"] == str(message.tracking_id) and working["message_id"] == "M-TASK"
    assert working["flow"] == "enrollment_requests"
    assert "tracking_id" not in idle


def test_each_request_starts_with_an_empty_context(lines):
    log_bind(tracking_id="left-over")
    LogContextMiddleware(lambda request: logging.getLogger("hub").info("inside"))(None)
    (line,) = lines()
    assert "tracking_id" not in line


def run_hub_logging(level: str) -> subprocess.CompletedProcess:
    code = "import logging; logging.getLogger('hub.x').info('info line'); logging.getLogger('hub.x').warning('warn')"
    env = {**os.environ, "LOG_LEVEL": level, "LOG_FORMAT": "json"}
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_the_hub_writes_json_to_stdout_at_the_configured_level():
    out = run_hub_logging("INFO")
    messages = [json.loads(line)["message"] for line in out.stdout.splitlines() if line.startswith("{")]
    assert messages == ["info line", "warn"]
    out = run_hub_logging("WARNING")
    assert [json.loads(line)["message"] for line in out.stdout.splitlines() if line.startswith("{")] == ["warn"]


def test_sending_threads_log_with_the_message_ids():
    from hub import logs
    from hub.runner import run_parallel

    message = MessageFactory.build(id=42)
    logs.log_bind_message(message)
    seen = []
    try:
        run_parallel(lambda unit: seen.append(logs._context.get()), [1, 2, 3, 4], workers=3)
    finally:
        logs.log_clear()
    assert len(seen) == 4
    assert all(ctx and ctx.get("tracking_id") == str(message.tracking_id) for ctx in seen)
