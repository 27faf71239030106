"""A stand-in for AWS KMS on 127.0.0.1 that answers exactly as KMS's JSON protocol does.

KMS speaks ``application/x-amz-json-1.1``: a POST to ``/`` with ``X-Amz-Target:
TrentService.<Operation>`` and a JSON body; blobs are base64; an error is HTTP 400 (or 5xx)
with ``{"__type": "<Code>", "message": "..."}``. ``GetPublicKey`` answers the key's DER
``SubjectPublicKeyInfo``; ``Sign`` answers a DER ``Ecdsa-Sig-Value`` whose s KMS does not
normalise (so it is high about half the time). Keys here are real secp256k1 keys
(coincurve); every request is kept for the test to inspect.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from coincurve import PrivateKey

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SPKI_SECP256K1_PREFIX = bytes.fromhex("3056301006072a8648ce3d020106052b8104000a034200")
SPKI_P256_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
# AWS's messages name the caller: the relayer must never quote them
CALLER = "arn:aws:sts::111122223333:assumed-role/relayer/i-0abc"


def der_integer(value: int) -> bytes:
    body = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    if body[0] & 0x80:
        body = b"\x00" + body
    return bytes([0x02, len(body)]) + body


def der_signature(r: int, s: int) -> bytes:
    """DER ``Ecdsa-Sig-Value`` as KMS (and OpenSSL) encode it: minimal positive integers."""
    body = der_integer(r) + der_integer(s)
    return bytes([0x30, len(body)]) + body


def spki(key: PrivateKey) -> bytes:
    """The DER ``SubjectPublicKeyInfo`` that ``GetPublicKey`` answers for a secp256k1 key."""
    return SPKI_SECP256K1_PREFIX + key.public_key.format(compressed=False)


def kms_sign(key: PrivateKey, digest: bytes, *, high_s: bool) -> bytes:
    """What KMS's Sign answers: DER (r, s), with s in the high half when ``high_s``."""
    compact = key.sign_recoverable(digest, hasher=None)
    r, s = int.from_bytes(compact[:32], "big"), int.from_bytes(compact[32:64], "big")
    return der_signature(r, SECP256K1_N - s if high_s else s)


@dataclass
class FakeKey:
    private: PrivateKey
    spec: str = "ECC_SECG_P256K1"
    usage: str = "SIGN_VERIFY"
    public_der: bytes | None = None  # default: the key's own SPKI

    def arn(self, key_id: str) -> str:
        return f"arn:aws:kms:eu-west-1:111122223333:key/{key_id}"


@dataclass
class Request:
    target: str
    headers: dict[str, str]
    body: dict[str, Any]


def error(code: str, status: int = 400) -> tuple[int, dict[str, Any]]:
    """A KMS error answer; its message names the caller, as AWS's do."""
    return status, {"__type": code, "message": f"User: {CALLER} is not allowed ({code})"}


@dataclass
class FakeKms:
    keys: dict[str, FakeKey] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    # answered instead of the normal answer, one per request to that operation:
    # (operation such as "Sign", HTTP status, {"__type": code, "message": ...})
    failures: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    # recorded Sign answers by digest (hex): replayed verbatim
    recorded: dict[str, dict[str, Any]] = field(default_factory=dict)
    high_s: bool | None = None  # None: alternate, as real KMS answers both
    delay_s: float = 0.0
    url: str = ""
    _signs: int = 0

    def sign_requests(self) -> list[Request]:
        return [r for r in self.requests if r.target == "TrentService.Sign"]

    def fail(self, operation: str, code: str, times: int = 1, status: int = 400) -> None:
        self.failures.extend([(operation, *error(code, status))] * times)

    def answer(self, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        for i, (operation, status, error) in enumerate(self.failures):
            if target == f"TrentService.{operation}":
                del self.failures[i]
                return status, error
        key_id = str(body.get("KeyId", ""))
        key = self.keys.get(key_id)
        if key is None:
            return 400, {
                "__type": "NotFoundException",
                "message": f"Key '{key_id}' does not exist ({CALLER})",
            }
        if target == "TrentService.GetPublicKey":
            return 200, {
                "CustomerMasterKeySpec": key.spec,
                "KeyId": key.arn(key_id),
                "KeySpec": key.spec,
                "KeyUsage": key.usage,
                "PublicKey": base64.b64encode(key.public_der or spki(key.private)).decode(),
                "SigningAlgorithms": ["ECDSA_SHA_256"],
            }
        if target == "TrentService.Sign":
            digest = base64.b64decode(body["Message"])
            if digest.hex() in self.recorded:
                return 200, self.recorded[digest.hex()]
            self._signs += 1
            high = self._signs % 2 == 0 if self.high_s is None else self.high_s
            return 200, {
                "KeyId": key.arn(key_id),
                "Signature": base64.b64encode(kms_sign(key.private, digest, high_s=high)).decode(),
                "SigningAlgorithm": "ECDSA_SHA_256",
            }
        return 400, {"__type": "UnknownOperationException"}


def _handler(kms: FakeKms) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            target = self.headers.get("X-Amz-Target", "")
            body = json.loads(raw or b"{}")
            kms.requests.append(Request(target, dict(self.headers.items()), body))
            status, answer = kms.answer(target, body)
            if kms.delay_s:
                time.sleep(kms.delay_s)
            payload = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client timed out and hung up
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def fake_kms() -> Iterator[FakeKms]:
    kms = FakeKms()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(kms))
    server.daemon_threads = True
    kms.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield kms
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
