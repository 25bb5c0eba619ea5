from allauth.core.internal.sessionkit import get_session_user
from allauth.headless import app_settings as headless_settings
from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from allauth.headless.internal import sessionkit
from allauth.headless.tokens.strategies.sessions import (
    SessionTokenStrategy as AllauthSessionTokenStrategy,
)
from allauth.usersessions.internal import usersessionkit
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.utils.crypto import constant_time_compare

from carbonpoints.readcache import ReadCache

from .models import User

USERS: ReadCache[User | None] = ReadCache("user", timeout_s=300)
"""Signed-in users by id, each with their carbon account: read on every API request, changed
rarely (sign-in, password, role, deletion). Forgotten by every save or delete of a user or a
carbon account (``accounts.signals``)."""

_MODEL_BACKENDS = (
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
)
"""The backends whose ``get_user`` is ModelBackend's (an active user by primary key)."""


def _user_load(user_id: int) -> User | None:
    return User.objects.select_related("carbon_account").filter(pk=user_id).first()


def session_user(session: SessionBase) -> User | None:
    """The session's user as ``django.contrib.auth.get_user`` finds it, step by step (the backend
    named in the session, an active user, the session's password hash verified, the secret-key
    fallbacks), but the user and their carbon account come from :data:`USERS`."""
    try:
        user_id = User._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    if backend_path not in _MODEL_BACKENDS:
        return get_session_user(session)  # Django's own steps
    user = USERS.get(user_id, lambda: _user_load(user_id))
    if user is None or not user.is_active:
        return None
    session_hash = session.get(HASH_SESSION_KEY)
    session_auth_hash = user.get_session_auth_hash()
    if session_hash and constant_time_compare(session_hash, session_auth_hash):
        return user
    if session_hash and any(
        constant_time_compare(session_hash, fallback)
        for fallback in user.get_session_auth_fallback_hash()
    ):
        session.cycle_key()
        session[HASH_SESSION_KEY] = session_auth_hash
        return user
    session.flush()
    return None


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's app token (``X-Session-Token``); a request without one is answered 401, not 403.

    As allauth's ``XSessionTokenAuthentication.authenticate`` (an unknown or signed-out token is
    no user, not an error), with the user read by :func:`session_user`.
    """

    def authenticate(self, request):
        token = self.get_session_token(request)
        if not token:
            return None
        session = headless_settings.TOKEN_STRATEGY.lookup_session(token)
        if session is None:
            return None
        user = session_user(session)
        if user is None:
            return None
        usersessionkit.track_activity(request._request, user=user, session=session)
        return user, session

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
