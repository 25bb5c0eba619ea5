"""The app's citizen views: DRF views without the DRF steps that cost them and decide nothing.

A citizen view is built as every view here (permission classes, an input serializer or a
FilterSet, one selector or service, an output serializer), on :class:`AppAPIView` (or with
:class:`AppCall` before a generic view). Two of DRF's steps are shortened for the calls the
mobile app makes (signed in by its token, asking for JSON or for anything):

- **Content negotiation.** DRF parses the ``Accept`` header and matches it against every
  renderer on every request. When the client sends no ``Accept``, ``*/*`` or exactly
  ``application/json``, and no ``?format=``, DRF always picks the first renderer (JSON) with
  ``application/json``: :class:`JSONFirstNegotiation` answers that at once. Any other header
  (the browsable API's ``text/html``, ``; indent=4``, a list of types) goes through DRF's own.
- **Rate limits.** DRF instantiates the view's throttles and asks each. When the request was
  signed in by its token with the one Redis read (``accounts.authentication.one_read``), the
  per-user count was taken in that read already (``UserRateThrottle`` uses it as it is), and the
  anonymous limit counts nobody signed in (DRF's ``AnonRateThrottle`` has no key for them), so
  it is not built. Every other throttle of the view (``CountsFailures``' extra ones) runs as
  before.

Nothing else changes: the same authentication classes (the app's token, then the browser's
session cookie), permissions, exception handler, errors (401/403/429 with ``retry_after_s``),
renderers and headers, and the same OpenAPI schema. The framework floor of ``bench/api``
(``floor.py``) stays a stock DRF view.
"""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.views import APIView

from .throttling import AnonRateThrottle

_ANY_JSON = frozenset({None, "*/*", "application/json"})
"""``Accept`` headers (``None``: none sent) for which DRF picks the first renderer, as JSON."""


class JSONFirstNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, answered without parsing for the app's ``Accept`` (module docstring)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if (
            format_suffix is None
            and renderers
            and renderers[0].media_type == "application/json"
            and request.META.get("HTTP_ACCEPT") in _ANY_JSON
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], "application/json"
        return super().select_renderer(request, renderers, format_suffix)


_NEGOTIATION = JSONFirstNegotiation()  # keeps no state


# No docstrings on the two classes below: drf-spectacular would describe every view with them.
class AppCall:
    # Mixin before a DRF view class: the app's calls take the short steps (module docstring).

    content_negotiation_class: type[BaseContentNegotiation] = JSONFirstNegotiation

    def get_content_negotiator(self) -> DefaultContentNegotiation:
        return _NEGOTIATION

    def get_throttles(self) -> list[Any]:
        request = getattr(self, "request", None)
        read = getattr(getattr(request, "_request", None), "read_ahead", None)
        if read is None:
            return super().get_throttles()  # type: ignore[misc]
        # signed in by the app's token: the anonymous limit has no key for a signed-in user
        return [
            throttle()
            for throttle in self.throttle_classes  # type: ignore[attr-defined]
            if throttle is not AnonRateThrottle
        ]


class AppAPIView(AppCall, APIView):
    # ``APIView`` for the app's citizen endpoints (see the module docstring).
    pass
