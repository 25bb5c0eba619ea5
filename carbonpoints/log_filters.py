"""Keep personal data (PIPL) out of logs: e-mail addresses and partner member ids.

Nothing in our code logs them on purpose, but Django and the database do in passing: a request
error's message carries the path, an ``IntegrityError`` carries the offending row
(``Key (email)=(…)``), a repr of a partner event carries its ``subject``. The filter rewrites each
record's message and traceback text once, before any handler formats it.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # e-mail addresses, anywhere (also percent-encoded @ in paths and query strings)
    (re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE), REDACTED),
    # a database's report of the row it refused: Key (partner_id, subject)=(3, M-123)
    (re.compile(r"(Key \([^)]*\)=\()[^)]*(\))"), rf"\g<1>{REDACTED}\g<2>"),
    # member ids under their field names, in JSON, dict reprs, keyword or query form
    (
        re.compile(
            r"""(["']?(?:subject|member_id|email)["']?\s*[:=]\s*)(["'])(?:(?!\2).)*\2""",
            re.IGNORECASE,
        ),
        rf"\g<1>\g<2>{REDACTED}\g<2>",
    ),
    (
        re.compile(r"""((?:^|[?&\s,(])(?:subject|member_id|email)=)[^&\s,)'"]+""", re.IGNORECASE),
        rf"\g<1>{REDACTED}",
    ),
]


def redact(text: str) -> str:
    """``text`` with every e-mail address and member id replaced by ``[redacted]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class PiiFilter(logging.Filter):
    """Redacts the formatted message and any traceback; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class ExpectedRefusalFilter(logging.Filter):
    """Drops ``django.request``'s warning for a 409: a refusal the domain explains (sold out, not
    enough points, a voucher used already) is an answer, not a fault.

    Django logs every 4xx answer as a WARNING ("Conflict: /api/v1/redemptions"); in a flash sale
    that is one line per citizen who came too late. Every 409 of this code base is a domain
    refusal (``carbonpoints.api.errors``: ``Conflict`` and ledger refusals), so the status says it.
    Other 4xx answers are still logged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 409
