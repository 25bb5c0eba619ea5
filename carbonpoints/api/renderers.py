"""The API's JSON, encoded by msgspec instead of the standard library's ``json``.

The same bytes as DRF's ``JSONRenderer`` for what our views answer (compact, UTF-8, U+2028 and
U+2029 escaped), at a fraction of the CPU. Types msgspec does not know go through DRF's own
encoder (lazy translations, query sets…) or become their base type (``ErrorDetail``); two
differ, and no view answers them: a ``Decimal`` is written with its own digits (``1.50``, DRF:
``1.5``; the same number) and a ``timedelta`` as ISO 8601. Pretty-printing (``; indent=4``, the
browsable API) is left to DRF's renderer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_DRF = JSONEncoder()


def _encode_other(value: Any) -> Any:
    """What msgspec leaves to us: subclasses of str, int and float (DRF's ``ErrorDetail``) as
    the plain value, the rest as DRF's encoder does."""
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return _DRF.default(value)


_ENCODER = msgspec.json.Encoder(enc_hook=_encode_other, decimal_format="number")
_LINE_SEPARATORS = (b"\xe2\x80\xa8", b"\xe2\x80\xa9")  # U+2028, U+2029 in UTF-8


class MsgspecJSONRenderer(JSONRenderer):
    """``application/json`` as DRF's ``JSONRenderer`` writes it, encoded by msgspec."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if (accepted_media_type and ";" in accepted_media_type) or (renderer_context or {}).get(
            "indent"
        ):
            return super().render(data, accepted_media_type, renderer_context)  # indented
        encoded = _ENCODER.encode(data)
        if b"\xe2\x80" in encoded:  # as DRF: a strict subset of JavaScript
            encoded = encoded.replace(_LINE_SEPARATORS[0], b"\\u2028").replace(
                _LINE_SEPARATORS[1], b"\\u2029"
            )
        return encoded
