"""The OpenAPI schema, the docs page, and schemathesis against every endpoint the schema names."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.utils import OpenApiExample
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

# Imported at collection, in the main thread: loaded lazily inside a test, pytest rewrites these plugin modules
# while server threads of other tests may compile too, and CPython 3.11's AST recursion guard is not thread-safe.
from schemathesis.specs.openapi import schemas as _openapi_schemas  # noqa: F401
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hub.flow import Flow
from hub.models import Message
from hub.registry import FLOWS
from hub.schema import flow_schema, request_bodies
from tests.factories import UserFactory
from tests.processes import local_env, manage, shell_last_line

# FUZZ_EXAMPLES raises it for a longer hunt than the suite affords.
EXAMPLES_PER_ENDPOINT = int(os.environ.get("FUZZ_EXAMPLES", "30"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def wsgi_app(db):
    """The real WSGI application on the test's own connection (as Django's test client runs it)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app):
    return schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)


@pytest.fixture
def partner_tokens(db) -> dict[str, str]:
    return {
        system: Token.objects.create(user=UserFactory.create(username=f"fuzz-{system}", groups=[system])).key
        for system in ("DERMS", "DACS")
    }


@pytest.mark.parametrize("operation_id", [*FLOWS, "message_status"])
def test_it_answers_generated_requests_within_the_schema_and_stores_every_rejection(
    operation_id, api_schema, partner_tokens
):
    operation = api_schema.find_operation_by_id(operation_id)
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_ENDPOINT, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def answer(case):
        system = "DACS" if "/dacs/" in case.path else "DERMS"
        response = case.call(headers={"Authorization": f"Token {partner_tokens[system]}"})
        case.validate_response(response, checks=CHECKS)
        if case.method == "POST" and response.status_code >= 400:
            body = response.json()
            stored = Message.objects.get(tracking_id=body["trackingId"])
            assert stored.status == Message.Status.REJECTED
            assert stored.http_status == response.status_code
            assert stored.errors is not None and stored.errors["error"] == body["error"]

    answer()


def test_the_schema_names_every_registered_flow_with_its_examples(client):
    resp = client.get("/api/schema/")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/json")
    paths = resp.json()["paths"]
    for flow in FLOWS.values():
        operation = paths[f"/api/v1/{flow.path}"]["post"]
        assert operation["operationId"] == flow.name
        assert {"202", "400", "401", "403", "413", "415", "429"} <= set(operation["responses"])
        assert "Retry-After" in operation["responses"]["429"]["headers"]
        content = operation["requestBody"]["content"]
        assert set(content) == set(request_bodies(flow))
        for name in flow.request_examples:
            assert name in {e["summary"] for e in content["application/json"].get("examples", {}).values()}
    assert "/api/v1/messages/{tracking_id}" in paths
    assert not any(path.startswith("/sim/") for path in paths)


def test_the_enrollment_request_body_is_the_contracts(client):
    spec = client.get("/api/schema/").json()
    body = spec["components"]["schemas"]["EnrollmentMessageRequest"]
    assert set(body["required"]) == {"messageId", "enrollmentRequests"}
    assert body["properties"]["enrollmentRequests"]["maxItems"] == 10_000
    (example,) = spec["paths"]["/api/v1/derms/enrollment-requests"]["post"]["requestBody"]["content"][
        "application/json"
    ]["examples"].values()
    assert example["value"]["messageId"] == "DRMS-ENR-20261126-0001"


def test_the_schema_is_also_served_as_yaml(client):
    resp = client.get("/api/schema/?format=yaml")
    assert resp.status_code == 200 and resp.content.startswith(b"openapi: 3")


def test_the_docs_page_loads_its_scripts_from_the_hub_itself(client):
    resp = client.get("/api/docs/")
    assert resp.status_code == 200
    page = resp.content.decode()
    assert "/api/schema/" in page
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "https://" not in page.replace("https://github.com", "")


class Upload(serializers.Serializer):
    message = serializers.CharField(help_text="The JSON message without its list.")
    file = serializers.FileField()


class Listing(serializers.Serializer):
    messageId = serializers.CharField()


class MultipartFlow(Flow):
    """A flow taking JSON or a multipart form."""

    name = "multipart_example"
    sender = "DERMS"
    path = "derms/multipart-example"
    content_types = ("application/json", "multipart/form-data")
    request_serializer = {"application/json": Listing, "multipart/form-data": Upload}
    request_examples = {
        "as JSON": {"messageId": "M-1"},
        "as a form": OpenApiExample(
            "as a form", {"message": '{"messageId": "M-1"}'}, media_type="multipart/form-data", request_only=True
        ),
    }


def test_a_flow_may_describe_a_multipart_form_beside_json():
    from django.urls import path
    from drf_spectacular.generators import SchemaGenerator

    from hub.api import FlowView

    flow = MultipartFlow()
    view = flow_schema(flow)(type("MultipartView", (FlowView,), {"flow": flow}))
    generator = SchemaGenerator(patterns=[path("api/v1/derms/multipart-example", view.as_view())])
    spec = generator.get_schema(request=None, public=True)
    content = spec["paths"]["/api/v1/derms/multipart-example"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    upload = spec["components"]["schemas"]["UploadRequest"]
    assert upload["properties"]["file"] == {"type": "string", "format": "binary"}
    assert [e["summary"] for e in content["application/json"]["examples"].values()] == ["as JSON"]
    assert [e["summary"] for e in content["multipart/form-data"]["examples"].values()] == ["as a form"]


def test_the_docs_page_and_its_scripts_are_served_with_debug_off_after_collectstatic(tmp_path):

    env = local_env(tmp_path, DEBUG="false")
    manage(env, "collectstatic", "--noinput", "-v0")
    code = (
        "import re; from django.test import Client; c = Client(HTTP_HOST='localhost'); "
        "page = c.get('/api/docs/').content.decode(); "
        'urls = re.findall(r\'(?:src|href)="(/static/[^"]+)"\', page); '
        "print(len(urls), sorted({c.get(u).status_code for u in urls}))"
    )
    out = shell_last_line(env, code)
    count, statuses = out.split(" ", 1)
    assert int(count) >= 2 and statuses == "[200]"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"messageId": "M-1", "drmsInstanceId": "a\\u0000b"}', "drmsInstanceId"),
        ('{"messageId": "M-1", "x": [{"\\u0000k": 1}]}', "x[0].\\u0000k"),
        ('{"messageId": "M-1", "drmsInstanceId": "\\udc09"}', "drmsInstanceId"),
    ],
)
def test_text_no_database_can_store_is_refused_by_its_path_and_the_request_kept(derms_client, text, path):
    """Found by the fuzzing above on PostgreSQL: NUL and unpaired surrogates made a 500."""
    resp = derms_client.post("/api/v1/derms/enrollment-requests", data=text, content_type="application/json")
    assert resp.status_code == 400
    body = resp.json()
    assert body["error"] == "malformed_json" and list(body["details"]) == [path]
    stored = Message.objects.get(tracking_id=body["trackingId"])
    assert stored.status == Message.Status.REJECTED and stored.stored_body() == text.encode()


def test_escaped_characters_that_pair_up_are_fine(derms_client):
    text = '{"messageId": "M-\\ud83d\\ude00", "enrollmentRequests": []}'
    resp = derms_client.post("/api/v1/derms/enrollment-requests", data=text, content_type="application/json")
    assert resp.status_code == 400 and resp.json()["error"] == "validation_failed"
    assert Message.objects.get(tracking_id=resp.json()["trackingId"]).message_key == "M-\U0001f600"


def test_two_flows_may_each_have_a_serializer_of_the_same_name():
    from django.urls import path
    from drf_spectacular.generators import SchemaGenerator

    from flows.enrollment_requests.flow import EnrollmentRequests
    from hub.api import flow_view

    location = type("LocationInfo", (serializers.Serializer,), {"premise": serializers.CharField()})
    location.__module__ = "flows.other_flow.serializers"
    body = type("OtherMessage", (serializers.Serializer,), {"locationInfo": location()})
    body.__module__ = "flows.other_flow.serializers"
    other = type("Other", (MultipartFlow,), {"request_serializer": body, "content_types": ("application/json",)})()
    patterns = [path("api/v1/a", flow_view(EnrollmentRequests())), path("api/v1/b", flow_view(other))]
    schemas = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)["components"]["schemas"]
    assert set(schemas["OtherFlowLocationInfoRequest"]["properties"]) == {"premise"}
    assert "cisPremiseId" in schemas["EnrollmentRequestsLocationInfoRequest"]["properties"]
