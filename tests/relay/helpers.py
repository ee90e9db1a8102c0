"""The relay tests' rig: a throwaway PKI, a real Mosquitto, a landlord-side subscriber.

Mosquitto runs as a child process on a free loopback port with a generated configuration: a
TLS listener (a CA, a server certificate for 127.0.0.1, optionally requiring a client
certificate), a password file in Mosquitto's own ``$7$`` format (PBKDF2-SHA512) and no
anonymous access, and persistence in the test's folder, so a stop and restart keeps sessions
and queued messages as a real broker would.

Tests wait for conditions with a bound (:func:`wait_for`), never for a guessed time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import getpass
import hashlib
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.safety.events import BridgeEvent
from tests.waiting import wait_for

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
USER = "relay"
PASSWORD = secrets.token_urlsafe(12)
LANDLORD = "landlord"
LANDLORD_PASSWORD = secrets.token_urlsafe(12)
READY_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- PKI


@dataclass(frozen=True)
class Pki:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def client_context(self, *, with_certificate: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca))
        if with_certificate:
            context.load_cert_chain(str(self.client_cert), str(self.client_key))
        return context


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(
        name: str, usage: x509.ObjectIdentifier, san: list[x509.GeneralName]
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = _key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        return cert, key

    server, server_key = leaf(
        "127.0.0.1",
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    client, client_key = leaf(
        "relay-client", ExtendedKeyUsageOID.CLIENT_AUTH, [x509.DNSName("relay")]
    )
    pki = Pki(
        ca=folder / "ca.crt",
        server_cert=folder / "server.crt",
        server_key=folder / "server.key",
        client_cert=folder / "client.crt",
        client_key=folder / "client.key",
    )
    pki.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.server_cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    pki.client_cert.write_bytes(client.public_bytes(serialization.Encoding.PEM))
    _write_key(pki.server_key, server_key)
    _write_key(pki.client_key, client_key)
    return pki


def password_line(user: str, password: str) -> str:
    """One line of a Mosquitto 2 password file: ``user:$7$iterations$salt$PBKDF2-SHA512``."""
    salt = os.urandom(12)
    iterations = 101
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return (
        f"{user}:$7${iterations}${base64.b64encode(salt).decode()}"
        f"${base64.b64encode(digest).decode()}"
    )


# --------------------------------------------------------------------------- the broker


@dataclass
class Broker:
    """A real Mosquitto on 127.0.0.1 with TLS and passwords; stop, start and kill it."""

    folder: Path
    pki: Pki
    require_certificate: bool = False
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.passwords = self.folder / "passwords"
        self.passwords.write_text(
            password_line(USER, PASSWORD) + "\n" + password_line(LANDLORD, LANDLORD_PASSWORD) + "\n"
        )
        self.passwords.chmod(0o600)
        self.config = self.folder / "mosquitto.conf"
        self.log = self.folder / "mosquitto.log"
        self.config.write_text(
            "\n".join(
                [
                    # Run as whoever runs the tests (as root, Mosquitto would switch to a
                    # "mosquitto" user that cannot read this folder).
                    f"user {getpass.getuser()}",
                    "per_listener_settings false",
                    "allow_anonymous false",
                    f"password_file {self.passwords}",
                    "persistence true",
                    f"persistence_location {self.folder}/",
                    "max_queued_messages 0",
                    "max_inflight_messages 100",
                    f"log_dest file {self.log}",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "log_type information",
                    f"listener {self.port} 127.0.0.1",
                    f"cafile {self.pki.ca}",
                    f"certfile {self.pki.server_cert}",
                    f"keyfile {self.pki.server_key}",
                    f"require_certificate {'true' if self.require_certificate else 'false'}",
                    "",
                ]
            )
        )

    async def start(self) -> None:
        assert self.process is None or self.process.returncode is not None
        self.process = await asyncio.create_subprocess_exec(
            MOSQUITTO,
            "-c",
            str(self.config),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

        async def listening() -> bool:
            assert self.process is not None
            if self.process.returncode is not None:
                raise AssertionError(f"mosquitto exited: {self.log_text()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                return False
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return True

        await wait_for(listening, READY_S, what="mosquitto listening")

    async def stop(self) -> None:
        """A clean stop: Mosquitto saves its sessions and queues."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), READY_S)

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def relay_mqtt(self, **overrides: Any) -> dict[str, Any]:
        """The ``relay.mqtt`` section for this broker, as a user would write it."""
        section: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "username": USER,
            "password": PASSWORD,
            "tls": True,
            "ca_file": str(self.pki.ca),
            "reconnect_min": 0.05,
            "reconnect_max": 0.2,
        }
        if self.require_certificate:
            section["cert_file"] = str(self.pki.client_cert)
            section["key_file"] = str(self.pki.client_key)
        section.update(overrides)
        return section

    def client(self, identifier: str, **kwargs: Any) -> aiomqtt.Client:
        """A landlord-side client (persistent session unless told otherwise)."""
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 3600
        return aiomqtt.Client(
            "127.0.0.1",
            self.port,
            username=LANDLORD,
            password=LANDLORD_PASSWORD,
            identifier=identifier,
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=False,
            properties=properties,
            tls_context=self.pki.client_context(with_certificate=self.require_certificate),
            **kwargs,
        )


# --------------------------------------------------------------------------- the landlord


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool
    at: float

    def json(self) -> Any:
        return json.loads(self.payload)


class Collector:
    """A landlord's subscriber: persistent session, reconnects, keeps everything it gets."""

    def __init__(self, broker: Broker, topic: str = "#", identifier: str = "landlord") -> None:
        self.broker = broker
        self.topic = topic
        self.identifier = identifier
        self.received: list[Received] = []
        self.subscribed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await wait_for(self.subscribed.is_set, READY_S, what="collector subscribed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                async with self.broker.client(self.identifier) as client:
                    await client.subscribe(self.topic, qos=1)
                    self.subscribed.set()
                    async for message in client.messages:
                        payload = message.payload
                        assert isinstance(payload, bytes)
                        self.received.append(
                            Received(str(message.topic), payload, message.retain, loop.time())
                        )
            except aiomqtt.MqttError:
                await asyncio.sleep(0.05)  # reconnect pacing, not a wait for a result

    def on(self, suffix: str) -> list[Received]:
        return [m for m in self.received if m.topic.endswith(suffix)]

    def events(self) -> list[dict[str, Any]]:
        """Every event body received (duplicates included), in arrival order."""
        return [m.json() for m in self.received if "/event/" in m.topic]


# --------------------------------------------------------------------------- events


def alarm(device: str, n: int, at: float = 1_767_225_600.0) -> BridgeEvent:
    """An alarm_raised event of ``device``, numbered ``n`` in that device's sequence."""
    alarm_id = f"{device}-a{n}"
    return BridgeEvent(
        EventType.ALARM_RAISED,
        at + n,
        device_id=device,
        channel="rc",
        data={
            "id": alarm_id,
            "kind": "alarm",
            "device_id": device,
            "channel": "rc",
            "raised_at": at + n,
            "value_at_alarm": 350,
            "detail": None,
            "active": True,
            "acknowledged": False,
            "acknowledged_by": None,
            "acknowledged_at": None,
            "n": n,
        },
    )


def offline(device: str, n: int) -> BridgeEvent:
    """A device_offline event (an ordinary, non-alarm event)."""
    return BridgeEvent(
        EventType.DEVICE_OFFLINE, 1_767_225_600.0 + n, device_id=device, data={"n": n}
    )
