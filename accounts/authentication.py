from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from importlib import import_module
from typing import Any

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
from django.contrib.sessions.backends.cached_db import KEY_PREFIX as _SESSION_PREFIX
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac
from redis.exceptions import NoScriptError

from carbonpoints.cache import RedisCache
from carbonpoints.readcache import ReadCache

from .models import User
from .selectors import SUMMARIES, carbon_account_summary

log = logging.getLogger(__name__)

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


def session_user(session: SessionBase, *, read: Mapping[str, Any] | None = None) -> User | None:
    """The session's user as ``django.contrib.auth.get_user`` finds it, step by step (the backend
    named in the session, an active user, the session's password hash verified, the secret-key
    fallbacks), but the user and their carbon account come from :data:`USERS`.

    ``read``: :data:`USERS`' keys of this session's user, read already (see :func:`one_read`)."""
    try:
        user_id = User._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    if backend_path not in _MODEL_BACKENDS:
        return get_session_user(session)  # Django's own steps
    user = USERS.get(user_id, lambda: _user_load(user_id), read=read)
    if user is None or not user.is_active:
        return None
    session_hash = session.get(HASH_SESSION_KEY)
    session_auth_hash = _session_auth_hash(settings.SECRET_KEY, user.password)
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


@functools.lru_cache(maxsize=4096)
def _session_auth_hash(secret_key: str, password: str) -> str:
    """``AbstractBaseUser.get_session_auth_hash()`` of a user with this password hash: an HMAC
    on every request, the same each time, so kept (by the secret key too) for the users a
    process serves often."""
    return salted_hmac(
        "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
        password,
        secret=secret_key,
        algorithm="sha256",
    ).hexdigest()


@functools.cache
def _tracks_activity() -> bool:
    """allauth's user sessions track activity (``usersessionkit.track_activity`` does something):
    read from the settings once, not on every request (again when a test changes them)."""
    from allauth import app_settings as allauth_settings
    from allauth.usersessions import app_settings as usersessions_settings

    return bool(allauth_settings.USERSESSIONS_ENABLED and usersessions_settings.TRACK_ACTIVITY)


@receiver(setting_changed, dispatch_uid="accounts.authentication.settings_changed")
def _settings_changed(**kwargs: Any) -> None:
    _tracks_activity.cache_clear()


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's app token (``X-Session-Token``); a request without one is answered 401, not 403.

    As allauth's ``XSessionTokenAuthentication.authenticate`` (an unknown or signed-out token is
    no user, not an error), with the user read by :func:`session_user`, and the session, the
    user, the account summary and the rate limit's count read in one round trip to Redis
    (:func:`one_read`) once the token has been seen.
    """

    def authenticate(self, request):
        token = self.get_session_token(request)
        if not token:
            return None
        read = one_read(token, view=(request.parser_context or {}).get("view"))
        session = None if read is None else read.session(token)
        if session is None:
            session = headless_settings.TOKEN_STRATEGY.lookup_session(token)
        if session is None:
            return None
        user = session_user(session, read=read.users_for(session) if read else None)
        if user is None:
            return None
        account = getattr(user, "carbon_account", None)
        if read is not None and read.fits(user, account):
            request._request.read_ahead = read  # for the throttle and the account page
        elif read is not None:
            _hint_set(token, user.pk, account.pk if account else 0)  # a hint gone stale, or none
        if _tracks_activity():
            usersessionkit.track_activity(request._request, user=user, session=session)
        return user, session

    def authenticate_header(self, request) -> str:
        return "X-Session-Token"

    def get_session_token(self, request) -> str | None:
        """The ``X-Session-Token`` header, read where WSGI puts it: ``request.headers`` would
        build the dictionary of every header on each request for this one."""
        return getattr(request, "_request", request).META.get("HTTP_X_SESSION_TOKEN")


_ONE_READ = """
local out = {}
local function put(value)
  if value then out[#out + 1] = string.len(value) .. ':' .. value else out[#out + 1] = '-' end
end
local hint = redis.call('GET', KEYS[1])
put(hint)
put(redis.call('GET', KEYS[2]))
if not hint then return table.concat(out) end
local sep = string.find(hint, ':', 1, true)
local u, a = string.sub(hint, 1, sep - 1), string.sub(hint, sep + 1)
local values = redis.call('MGET', %(keys)s)
local count = false
if ARGV[1] then
  local key = %(throttle)s .. u .. ARGV[1]
  count = tostring(redis.call('INCR', key))
  redis.call('EXPIRE', key, ARGV[2])
end
put(count)
for i = 1, %(values)d do put(values[i]) end
return table.concat(out)
"""
"""KEYS: the token's hint (``<user id>:<carbon account id or 0>``), the session's cache key. ARGV,
when the view counts requests per user: the end of the rate limit's key (after the user id: the
window) and the window's seconds. The read caches' keys are written into the script (they differ
only by the ids), so a call sends two keys and two arguments. Keys are built inside the script,
so it needs one Redis (not a cluster), as the rest of the cache does.

The answer is one string: the hint, the session, the count and the read caches' values, each
``<length>:<bytes>`` or ``-`` when missing (:func:`_unframe`). Answered as a list of ten, it
cost redis-py's parser a tenth of the request's CPU; one string is read at once."""


def _unframe(data: bytes) -> list[bytes | None]:
    """The values of :data:`_ONE_READ`'s answer (``None`` for ``-``)."""
    values: list[bytes | None] = []
    at, end = 0, len(data)
    while at < end:
        if data[at] == 45:  # "-"
            values.append(None)
            at += 1
            continue
        colon = data.index(b":", at)
        start = colon + 1
        at = start + int(data[at:colon])
        values.append(data[start:at])
    return values


HINT_S = 3600
"""How long a token's hint lives after the request that wrote it."""
_ID = "\x1f"  # a marker where the script puts an id in a key (never in a key otherwise)
_scripts: dict[tuple, Any] = {}


def _redis_cache() -> RedisCache | None:
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.cached_db":
        return None
    backend = caches["default"]  # a lookup in a context-local: once, not twice, per request
    alias = settings.SESSION_CACHE_ALIAS
    if not isinstance(backend, RedisCache) or (alias != "default" and caches[alias] is not backend):
        return None  # the read caches live in the default cache: one Redis for all of it
    return backend


def _hint_key(backend: RedisCache, token: str) -> str:
    return backend.make_key(f"{USERS._prefix}:tok:{token}")


def _template(backend: RedisCache, key: str) -> tuple[str, str]:
    before, _, after = backend.make_key(key).partition(_ID)
    return before, after


def _hint_set(token: str, user_id: int, account_id: int) -> None:
    """Remember which user and account a token signs in, so the next request reads them with
    its session in one round trip. Only a hint: each read checks it against the session."""
    backend = _redis_cache()
    if backend is None:
        return
    try:
        backend._cache.get_client(write=True).set(
            _hint_key(backend, token), f"{user_id}:{account_id}", ex=HINT_S
        )
    except Exception:  # a hint is an optimisation: without it the request reads as before
        log.warning("token hint not written", exc_info=True)


def token_issued(token: str, *, user_id: int) -> None:
    """A new app token signs in ``user_id``: write its hint now, and put the user and their
    account summary in their read caches, so that the token's very first request is one round
    trip to Redis too (as :func:`one_read` reads it), not the old round trips plus the hint's
    write. Called when allauth issues the token (sign-in, sign-up): one or two queries there,
    beside a password's hash, instead of on the first request. The hint is still never trusted.
    """
    if _redis_cache() is None:
        return
    try:
        user = USERS.get(user_id, lambda: _user_load(user_id))
        if user is None:
            return
        account = getattr(user, "carbon_account", None)
        if account is not None:
            carbon_account_summary(account=account)  # into SUMMARIES, for the first account page
        _hint_set(token, user.pk, account.pk if account else 0)
    except Exception:  # as the hint: without it the first request reads as before
        log.warning("token hint not written at sign-in", exc_info=True)


def read_ahead(request: Any) -> OneRead | None:
    """What the sign-in of this request read ahead for the rest of it (see :func:`one_read`)."""
    return getattr(getattr(request, "_request", request), "read_ahead", None)


class OneRead:
    """What one round trip read for a request: the session, :data:`USERS`' and the account
    summary's keys of the hinted user and account, and the rate limit's count."""

    def __init__(
        self,
        backend: RedisCache,
        *,
        hint: str | None,
        session_raw: Any,
        values: dict[str, Any],
        throttle: tuple[str, int, int] | None,
    ) -> None:
        self._loads = backend._cache._serializer.loads  # type: ignore[attr-defined]  # Django's own
        self.hint = hint
        self.user_id, self.account_id = (int(part) for part in (hint or "0:0").split(":"))
        self._session_raw = session_raw
        self._values = values
        self.throttle = throttle
        """``(the rate limit's key, its count with this request, the window's end)``, counted by
        the script."""

    def session(self, token: str) -> SessionBase | None:
        """The session behind ``token`` as read (``cached_db`` found it in the cache), or ``None``
        to look it up as usual (not in the cache: the database decides)."""
        if self._session_raw is None:
            return None
        session = import_module(settings.SESSION_ENGINE).SessionStore(token)
        session._session_cache = self._loads(self._session_raw)
        return session if session.session_key else None

    def _found(self, keys: tuple[str, ...]) -> dict[str, Any]:
        return {key: self._loads(self._values[key]) for key in keys if self._values.get(key)}

    def users_for(self, session: SessionBase) -> dict[str, Any] | None:
        """:data:`USERS`' keys as read, if the hint named the session's user."""
        if not self.hint or str(session.get(SESSION_KEY)) != str(self.user_id):
            return None
        return self._found(USERS.keys(self.user_id))

    def fits(self, user: User, account: Any) -> bool:
        """The hint named this user and this account (else the next request gets a new hint)."""
        return (
            bool(self.hint)
            and user.pk == self.user_id
            and ((account.pk if account else 0) == self.account_id)
        )

    def summary(self, account_id: int) -> dict[str, Any] | None:
        """The account summary's keys as read, for :data:`accounts.selectors.SUMMARIES`."""
        if not self.hint or account_id != self.account_id:
            return None
        return self._found(SUMMARIES.keys(account_id))


def _lua(text: str) -> str:
    """``text`` as a Lua string literal (every byte but letters, digits and ``:_-.`` escaped)."""
    safe = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-."
    return '"' + "".join(chr(c) if c in safe else f"\\{c:03d}" for c in text.encode()) + '"'


def _one_read_script(backend: RedisCache, throttle_key: str) -> tuple[Any, str]:
    """The script for this cache and these read caches' prefixes (registered once per process),
    and the end of the throttle key to send with it."""
    throttle_before, throttle_after = _template(backend, throttle_key)
    ident = (id(backend), USERS._prefix, SUMMARIES._prefix, throttle_before)
    script = _scripts.get(ident)
    if script is None:
        parts = []
        for key, which in zip([*USERS.keys(_ID), *SUMMARIES.keys(_ID)], "nuunaa", strict=True):
            before, after = _template(backend, key)
            parts.append(
                _lua(before) if which == "n" else f"{_lua(before)} .. {which} .. {_lua(after)}"
            )
        source = _ONE_READ % {
            "keys": ", ".join(parts),
            "throttle": _lua(throttle_before),
            "values": len(parts),
        }
        client = backend._cache.get_client(write=True)
        script = _scripts[ident] = client.register_script(source)
    return script, throttle_after


def _evalsha(backend: RedisCache, script: Any, keys: list[str], args: list[Any]) -> Any:
    """``script(keys=keys, args=args)``, sent on a connection of the cache's pool directly.

    redis-py's own call (``Script.__call__`` → ``execute_command``) wraps each command in its
    retry loop, its deprecation checks and its metrics: a third of the call's client CPU, on
    every API request. A failed call is not retried here: the request then reads as before
    (:func:`one_read` returns ``None``). A script Redis has forgotten (restarted, flushed) is
    loaded again, as redis-py does."""
    client = backend._cache.get_client(write=True)
    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        try:
            connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
            return connection.read_response()
        except NoScriptError:
            client.script_load(script.script)
            connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
            return connection.read_response()
    except BaseException:
        connection.disconnect()  # an answer may be left unread: never hand it to the next call
        raise
    finally:
        pool.release(connection)


def one_read(token: str, *, view: Any = None) -> OneRead | None:
    """Read the token's session, its user and account summary, and count the request against the
    per-user rate limit, in one Redis call (``None`` without a Redis cache or when Redis fails).

    The user and account are those a hint of the token names (written after the token's first
    request). The hint is never trusted: the user is used only if the session names them, the
    summary only for the user's own carbon account, and both are checked against their
    generations as :class:`carbonpoints.readcache.ReadCache` always checks them.
    """
    backend = _redis_cache()
    if backend is None:
        return None
    from carbonpoints.api.throttling import user_rate_window

    window = user_rate_window(view, user_id=_ID)
    script, throttle_after = _one_read_script(backend, window[0] if window else f"{_ID}:")
    args = [throttle_after, window[1]] if window is not None else []
    keys = [_hint_key(backend, token), backend.make_key(f"{_SESSION_PREFIX}{token}")]
    try:
        hint_raw, session_raw, *rest = _unframe(_evalsha(backend, script, keys, args))
    except Exception:
        log.warning("one read failed; the request reads as before", exc_info=True)
        return None
    if not hint_raw:
        return OneRead(backend, hint=None, session_raw=session_raw, values={}, throttle=None)
    hint = hint_raw.decode()
    user_id, account_id = hint.split(":")
    count, *values = rest
    names = [*USERS.keys(user_id), *SUMMARIES.keys(account_id)]
    throttle = None
    if window is not None and count is not None:
        throttle = (backend.make_key(window[0].replace(_ID, user_id)), int(count), window[2])
    return OneRead(
        backend,
        hint=hint,
        session_raw=session_raw,
        values=dict(zip(names, values, strict=True)),
        throttle=throttle,
    )


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

    def create_session_token(self, request: HttpRequest) -> str:
        """allauth's token (the session's key); when it signs a user in, their hint is written at
        once (:func:`token_issued`)."""
        token = super().create_session_token(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and str(request.session.get(SESSION_KEY)) == str(user.pk)
        ):
            token_issued(token, user_id=user.pk)
        return token
