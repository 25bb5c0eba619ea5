"""Idempotent requests of the spend side: the first HTTP answer per (user, scope, key) is kept and
given again to a retry (Stripe's idempotency keys). The API and the wallet page answer through it;
it stores answers (status and body), so it lives at the HTTP boundary, not among the services.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from carbonpoints.api.errors import domain_error_body, domain_status
from carbonpoints.errors import NotFound

from . import exceptions as refusals
from .models import IdempotentAnswer


class AnswerKeeper:
    """Keeps ``(status, body)`` as the answer to the key being run, inside its transaction.

    Called, it writes the answer (one UPDATE). A caller that writes it within a statement of its
    own (a redemption does, in the statement that takes the stock) uses ``answer_id`` and says
    what it wrote with ``kept_as``.
    """

    def __init__(self, answer_id: int, *, may_commit: bool = False) -> None:
        self.answer_id = answer_id
        self.may_commit = may_commit
        self.kept: tuple[int, dict[str, Any]] | None = None

    def __call__(self, status: int, body: dict[str, Any]) -> None:
        IdempotentAnswer.objects.filter(pk=self.answer_id).update(status_code=status, body=body)
        self.kept_as(status, body)

    def kept_as(self, status: int, body: dict[str, Any]) -> None:
        self.kept = (status, body)


def idempotent_answer(
    *,
    user: User,
    scope: str,
    key: str,
    params: dict[str, Any],
    action: Callable[[AnswerKeeper], tuple[int, dict[str, Any]] | None],
    check: Callable[[], None] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Answer once per (user, scope, key): a retry gets the first status and body back.

    The answer's row is the first thing written (``INSERT … ON CONFLICT DO NOTHING``): the unique
    (user, scope, key) index decides who runs ``action``, and a retry racing the first waits on
    that index entry until the first commits, then reads its answer. No lock and no read come
    first. A refusal (409 and the like) is kept as the first answer too, like Stripe does: the
    attempt is rolled back whole and the refusal kept by a short transaction of its own, so the
    successful path needs no savepoint.

    ``action`` is handed a keeper: it may keep its answer itself (a redemption does, in the
    statement that takes the stock, the last before the commit, so that the hot stock row is
    locked as briefly as can be) and return ``None``; otherwise the ``(status, body)`` it returns
    is kept. ``keep.may_commit`` says this transaction is the outermost one (not nested in a
    caller's): the action's last statement may then carry the ``COMMIT`` itself.

    ``check`` runs before anything is written and raises the refusals that need no lock (sold
    out, paused). Such a refusal costs one INSERT of its answer, or, when the key has an answer
    already, returns that one: in a flash sale, thousands are refused once the stock is gone,
    and each refusal is then a read and one write.
    """
    fingerprint = hashlib.sha256(
        json.dumps(params, sort_keys=True, default=str).encode()
    ).hexdigest()
    answer: dict[str, Any] = {
        "user_id": user.pk,
        "scope": scope,
        "key": key,
        "fingerprint": fingerprint,
    }
    outermost = not connection.in_atomic_block
    try:
        if check is not None:
            check()
        with transaction.atomic():
            claimed = _answer_claim(**answer)
            if claimed is not None:
                keep = AnswerKeeper(claimed, may_commit=outermost)
                answer_now = action(keep)
                if keep.kept is None:
                    assert answer_now is not None, "an action that keeps no answer returns one"
                    keep(*answer_now)
                assert keep.kept is not None
                return keep.kept
    except refusals.SpendRefused as refused:
        refusal = refused
        recheck = getattr(refused, "recheck", None)
        if recheck is not None:  # after the rollback: what the scenario refuses with now
            refusal = recheck() or refused
        if isinstance(refusal, NotFound):
            raise
        status, body = domain_status(refusal), domain_error_body(refusal)
        if (
            _answer_claim(**answer, status_code=status, body=body) is not None
        ):  # one statement: its own commit
            return status, body
    return _answer_kept(**answer)


def _answer_claim(
    *,
    user_id: int,
    scope: str,
    key: str,
    fingerprint: str,
    status_code: int = 0,
    body: dict[str, Any] | None = None,
) -> int | None:
    """Insert the answer's row unless (user, scope, key) has one; its id, or ``None``.

    ``status_code`` 0 marks a row whose action is running: nobody else sees it before the
    commit that writes the real answer.
    """
    fields = {f.name: f for f in IdempotentAnswer._meta.concrete_fields}
    values = {
        "user_id": user_id,
        "scope": scope,
        "key": key,
        "fingerprint": fingerprint,
        "status_code": status_code,
        "body": body or {},
        "created_at": timezone.now(),
    }
    columns = [str(fields["user" if name == "user_id" else name].column) for name in values]
    params = [
        fields["user" if name == "user_id" else name].get_db_prep_save(value, connection)
        for name, value in values.items()
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {IdempotentAnswer._meta.db_table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(params))}) ON CONFLICT DO NOTHING RETURNING id",
            params,
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _answer_kept(
    *, user_id: int, scope: str, key: str, fingerprint: str
) -> tuple[int, dict[str, Any]]:
    """The first answer to this key (committed: the conflicting insert waited for it)."""
    kept = IdempotentAnswer.objects.get(user_id=user_id, scope=scope, key=key)
    if kept.fingerprint != fingerprint:
        raise refusals.IdempotencyKeyReused(key=key)
    return kept.status_code, kept.body
