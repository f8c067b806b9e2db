"""The parts of paramiko's private API that the SFTP reader (`flows/device_scores/sftp_read.py`) and the
channel buffer (`flows/device_scores/pipe.py`) rely on, each checked by name: a paramiko release that changes
one fails here, naming it, before the transfer tests fail in a way that is harder to read."""

from __future__ import annotations

import ast
import inspect
import textwrap

import paramiko
import pytest
from paramiko import buffered_pipe, channel, sftp

from flows.device_scores.pipe import GatheringPipe
from flows.device_scores.remote import location_parse, sftp_connect
from flows.device_scores.sftp_read import PipelinedRead
from tests.flows import sftp_server as sftp_server_module

sftp_server = sftp_server_module.sftp_server

# name → the parameters it must take, as `inspect.signature` shows them.
METHODS = {
    "SFTPClient._async_request": "(self, fileobj, t, *args)",
    "SFTPClient._convert_status": "(self, msg)",
    "Channel.recv": "(self, nbytes)",
}
# sftp_read.py builds read requests and reads their answers with these.
NAMES = {
    "paramiko.sftp.CMD_READ": (sftp, "CMD_READ", 5),
    "paramiko.sftp.CMD_STATUS": (sftp, "CMD_STATUS", 101),
    "paramiko.sftp.CMD_DATA": (sftp, "CMD_DATA", 103),
    "paramiko.sftp.int64": (sftp, "int64", None),
    "paramiko.buffered_pipe.PipeTimeout": (buffered_pipe, "PipeTimeout", None),
}


@pytest.mark.parametrize("name", METHODS)
def test_it_finds_each_private_method_with_its_signature(name):
    cls_name, method = name.split(".")
    found = getattr(getattr(paramiko, cls_name), method, None)
    assert found is not None, f"paramiko {paramiko.__version__} has no {name}"
    assert str(inspect.signature(found)) == METHODS[name], f"{name} changed its parameters"


@pytest.mark.parametrize("name", NAMES)
def test_it_finds_each_protocol_name(name):
    module, attribute, value = NAMES[name]
    assert hasattr(module, attribute), f"paramiko {paramiko.__version__} has no {name}"
    if value is not None:
        assert getattr(module, attribute) == value, f"{name} changed its value"


def _in_buffer_calls() -> dict[str, int]:
    """What paramiko's Channel calls on its `in_buffer` (`len()` as `__len__`), with the most positional arguments."""
    calls: dict[str, int] = {}
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(channel.Channel)))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and ast.unparse(func.value) == "self.in_buffer":
            calls[func.attr] = max(calls.get(func.attr, 0), len(node.args))
        elif ast.unparse(func) == "len" and node.args and ast.unparse(node.args[0]) == "self.in_buffer":
            calls["__len__"] = 0
    return calls


def test_it_finds_what_the_channel_calls_on_its_buffer_in_the_gathering_pipe():
    calls = _in_buffer_calls()
    assert {"feed", "read", "read_ready", "set_event", "close", "__len__"} <= set(calls), calls
    for name, positional in calls.items():
        method = getattr(GatheringPipe, name, None)
        assert method is not None, f"paramiko's Channel calls in_buffer.{name}, which GatheringPipe lacks"
        try:
            inspect.signature(method).bind(None, *range(positional))
        except TypeError as exc:
            raise AssertionError(f"Channel calls in_buffer.{name} with {positional} arguments: {exc}") from None


def test_it_finds_the_channel_buffer_as_an_attribute_set_on_each_channel():
    assert isinstance(channel.Channel(0).in_buffer, buffered_pipe.BufferedPipe), "Channel.in_buffer"


def test_it_finds_the_sftp_client_state_the_reader_uses_on_a_real_server(sftp_server, tmp_path):
    (tmp_path / "a.csv").write_bytes(b"x" * 10)
    client, sftp_client = sftp_connect(
        location_parse(sftp_server.url(tmp_path), setting="SCORE_SOURCE_URL"),
        password="",
        key_file=str(sftp_server.client_key),
        known_hosts=str(sftp_server.known_hosts),
        timeout=10,
        setting="SCORE_SOURCE_URL",
    )
    try:
        assert isinstance(sftp_client.sock, paramiko.Channel), "SFTPClient.sock"
        assert isinstance(sftp_client.sock.in_buffer, GatheringPipe), "Channel.in_buffer (replaced before use)"
        assert hasattr(sftp_client, "_expecting"), "SFTPClient._expecting"
        with sftp_client.open(f"{tmp_path}/a.csv", "rb") as fh:
            reader = PipelinedRead(sftp_client, fh, 10, 10)
            num = reader._request(0, 10)
            assert isinstance(num, int), "SFTPClient._async_request returns the request number"
            assert sftp_client._expecting.get(num) is reader, "SFTPClient._async_request records the request"
            assert reader._data(num, 0) == b"x" * 10
            assert num not in sftp_client._expecting, "SFTPClient._expecting.pop"
    finally:
        client.close()
