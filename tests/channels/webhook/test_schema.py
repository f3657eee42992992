"""The published format: the committed JSON Schema, the fixtures and the documented examples
all agree with the pydantic models the code uses."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from frontline.channels.webhook import schema
from frontline.channels.webhook.signing import sign, verify
from tests.channels.webhook.conftest import FIXTURES

DOCS = Path(__file__).resolve().parents[3] / "docs" / "channels"


def test_the_committed_json_schema_is_the_generated_one():
    committed = (DOCS / "webhook.schema.json").read_text()
    assert json.loads(committed) == schema.json_schema(), (
        "regenerate: .venv/bin/python -m frontline.channels.webhook.schema "
        "> docs/channels/webhook.schema.json"
    )
    assert committed == schema.json_schema_text()


def test_the_schema_describes_both_payload_types_and_the_reply():
    published = schema.json_schema()
    assert published["discriminator"]["propertyName"] == "type"
    assert set(published["discriminator"]["mapping"]) == {"message", "status"}
    message = published["$defs"]["MessagePayload"]
    assert set(message["required"]) == {"type", "id", "from"}
    assert message["additionalProperties"] is False
    assert "OutboundMessage" in published["$defs"]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_every_fixture_is_valid(path):
    data = json.loads(path.read_text())
    if path.name == "bridge_answer.json":
        assert isinstance(data["id"], str)
    elif data["type"] in schema.KNOWN_TYPES:
        schema.inbound_payload.validate_json(path.read_bytes())
    else:
        schema.Envelope.model_validate(data)


def _doc_json_blocks() -> list[dict]:
    text = (DOCS / "webhook.md").read_text()
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]


def test_every_example_in_the_docs_is_valid():
    blocks = _doc_json_blocks()
    seen = set()
    for data in blocks:
        if "ticket_id" in data:
            schema.OutboundMessage.model_validate_json(json.dumps(data))
            seen.add("outbound")
        elif data.get("type") in schema.KNOWN_TYPES:
            schema.inbound_payload.validate_json(json.dumps(data))
            seen.add(data["type"])
        elif "type" in data:
            schema.Envelope.model_validate(data)
            seen.add("other")
    assert seen == {"message", "status", "other", "outbound"}


def _find(pattern: str, text: str, flags: int = 0) -> str:
    found = re.search(pattern, text, flags)
    assert found is not None, f"the docs no longer contain {pattern!r}"
    return found[1]


def test_the_worked_signature_example_in_the_docs_is_right():
    text = (DOCS / "webhook.md").read_text()
    header = _find(r"X-Frontline-Signature: (t=1795000000,v1=[0-9a-f]{64})", text)
    body = _find(r"```json\n(\{\"type\":\"message\",\"id\":\"msg-2001\".*?)\n```", text)
    verify("whsec-example", body.encode(), header, 1_795_000_000)


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")
def test_the_shell_example_computes_the_same_signature():
    text = (DOCS / "webhook.md").read_text()
    command = _find(r"^SIG=\$\((.*)\)$", text, re.M)
    body = '{"type":"message","id":"msg-2001","from":{"id":"u-77"},"text":"Sunday?"}'
    env = {"PATH": os.environ["PATH"], "SECRET": "whsec-example", "T": "1795000000", "BODY": body}
    shell = shutil.which("sh") or "/bin/sh"
    run = subprocess.run([shell, "-c", command], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    digest = run.stdout.strip()
    assert f"t=1795000000,v1={digest}" == sign("whsec-example", body.encode(), 1_795_000_000)
