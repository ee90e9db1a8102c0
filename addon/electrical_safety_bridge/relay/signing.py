"""Signatures: Standard Webhooks HMAC for what the relay sends, Ed25519 for what it accepts.

Webhooks (https://www.standardwebhooks.com, spec v1): the signed content is
``{webhook-id}.{webhook-timestamp}.{body}``; the signature is HMAC-SHA256 keyed with the
base64-decoded part of the ``whsec_…`` secret, sent as ``webhook-signature: v1,<base64>``.

Remote commands: a landlord signs the exact UTF-8 bytes of a command's JSON text with an
Ed25519 private key; the bridge holds only public keys, so a compromised home cannot forge
commands for other homes. The envelope that travels over MQTT is::

    {"key_id": "landlord-1", "payload": "<the command's JSON text>", "signature": "<base64>"}

``python -m electrical_safety_bridge.relay.signing`` makes keys and webhook secrets and signs
commands, for landlords and for trying the feature out.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import secrets
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .relay_settings import decode_public_key

WEBHOOK_SECRET_PREFIX = "whsec_"


def webhook_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret."""
    return base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX))


def webhook_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: ``v1,<base64 HMAC-SHA256>``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(webhook_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def webhook_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers (plus the content type) for one attempt."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(secret, message_id, timestamp, body),
    }


def new_webhook_secret() -> str:
    """A fresh secret: ``whsec_`` and base64 of 32 random bytes."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


# -- Ed25519 commands --------------------------------------------------------------------------


def public_key(value: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its base64 form (as in the configuration)."""
    return Ed25519PublicKey.from_public_bytes(decode_public_key(value))


def verify(key: Ed25519PublicKey, signature: bytes, payload: bytes) -> bool:
    """Whether ``signature`` is ``key``'s signature of ``payload``."""
    try:
        key.verify(signature, payload)
    except InvalidSignature:
        return False
    return True


def public_key_text(private: Ed25519PrivateKey) -> str:
    """The base64 of the raw public key, the form the configuration lists."""
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode("ascii")


def private_key_text(private: Ed25519PrivateKey) -> str:
    """The base64 of the raw 32-byte private key (keep it secret)."""
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(raw).decode("ascii")


def load_private_key(text: str) -> Ed25519PrivateKey:
    """A private key from :func:`private_key_text`'s form."""
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text.strip()))


def command_payload(
    *,
    site: str,
    action: str,
    device_id: str | None = None,
    alarm_id: str | None = None,
    command_id: str | None = None,
    issued_at: float | None = None,
) -> dict[str, Any]:
    """A command as the bridge expects it (before signing)."""
    payload: dict[str, Any] = {
        "command_id": command_id or uuid.uuid4().hex,
        "site": site,
        "action": action,
        "issued_at": time.time() if issued_at is None else issued_at,
    }
    if device_id is not None:
        payload["device_id"] = device_id
    if alarm_id is not None:
        payload["alarm_id"] = alarm_id
    return payload


def sign_command(private: Ed25519PrivateKey, key_id: str, payload: Mapping[str, Any]) -> bytes:
    """The signed envelope to publish on ``<prefix>/<site>/command``."""
    text = json.dumps(dict(payload), separators=(",", ":"), ensure_ascii=False)
    signature = private.sign(text.encode("utf-8"))
    envelope = {
        "key_id": key_id,
        "payload": text,
        "signature": base64.b64encode(signature).decode("ascii"),
    }
    return json.dumps(envelope, separators=(",", ":")).encode("utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Make keys and secrets, and sign commands."""
    parser = argparse.ArgumentParser(
        prog="python -m electrical_safety_bridge.relay.signing",
        description="Keys and signatures for the relay's webhooks and remote commands.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("keygen", help="a new Ed25519 key pair for signing remote commands")
    commands.add_parser("webhook-secret", help="a new Standard Webhooks secret (whsec_…)")
    sign = commands.add_parser("sign", help="sign one command; prints the envelope to publish")
    sign.add_argument("--private-key-file", type=Path, required=True)
    sign.add_argument("--key-id", required=True)
    sign.add_argument("--site", required=True)
    sign.add_argument("--action", required=True)
    sign.add_argument("--device")
    sign.add_argument("--alarm")
    args = parser.parse_args(argv)
    if args.command == "keygen":
        private = Ed25519PrivateKey.generate()
        print(f"private_key: {private_key_text(private)}")
        print(f"public_key: {public_key_text(private)}")
        return 0
    if args.command == "webhook-secret":
        print(new_webhook_secret())
        return 0
    private = load_private_key(args.private_key_file.read_text(encoding="utf-8"))
    payload = command_payload(
        site=args.site, action=args.action, device_id=args.device, alarm_id=args.alarm
    )
    sys.stdout.write(sign_command(private, args.key_id, payload).decode("utf-8") + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
