from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from allauth.headless.internal import sessionkit
from allauth.headless.tokens.strategies.sessions import (
    SessionTokenStrategy as AllauthSessionTokenStrategy,
)
from django.contrib.sessions.backends.base import SessionBase


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's app token (``X-Session-Token``); a request without one is answered 401, not 403."""

    def authenticate_header(self, request) -> str:
        return "X-Session-Token"


class SessionTokenStrategy(AllauthSessionTokenStrategy):
    """allauth's session tokens, looked up with one read of the session instead of two.

    allauth's strategy asks the session store whether the key exists, then loads it: with
    ``cached_db`` sessions that is an ``EXISTS`` and a ``GET`` to Redis (and a database query
    for each on a cache miss) on every API request. allauth's own ``sessionkit.lookup_session``
    loads the session once; a missing or expired session comes back without a key, so the
    answer (no session) is the same.
    """

    def lookup_session(self, session_token: str) -> SessionBase | None:
        return sessionkit.lookup_session(session_token)
