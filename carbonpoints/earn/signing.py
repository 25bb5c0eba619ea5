"""Partner request signing (docs/design.md#partner-feed) and the encryption of secrets at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

MAX_SKEW_S = 300
"""A timestamp further than this from the server's clock is refused (replay protection)."""


def string_to_sign(*, timestamp: str, method: str, path: str, body: bytes) -> bytes:
    return "\n".join([timestamp, method.upper(), path, hashlib.sha256(body).hexdigest()]).encode()


def signature(*, secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """``hex(HMAC-SHA256(secret, timestamp \\n METHOD \\n path \\n hex(sha256(body))))``."""
    message = string_to_sign(timestamp=timestamp, method=method, path=path, body=body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_valid(*, secret: str, given: str, **request) -> bool:
    return hmac.compare_digest(signature(secret=secret, **request), given.strip().lower())


def _fernet_key(material: str) -> bytes:
    return base64.urlsafe_b64encode(
        hashlib.sha256(("carbonpoints-field:" + material).encode()).digest()
    )


def _fernet() -> MultiFernet:
    """The current key first; FIELD_ENCRYPTION_KEY_PREVIOUS still decrypts during a rotation."""
    current = settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY
    previous = [k for k in getattr(settings, "FIELD_ENCRYPTION_KEY_PREVIOUS", []) if k]
    return MultiFernet([Fernet(_fernet_key(k)) for k in [current, *previous]])


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("the secret cannot be decrypted with the configured keys") from exc
