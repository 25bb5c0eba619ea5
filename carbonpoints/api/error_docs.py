"""``docs/api-errors.md``, written from the error-code enums and the refusals that carry them.

Run ``python manage.py error_codes_doc`` after adding a code; a test fails while the page and
the enums differ. Each code appears once, with the status(es) it answers with and what it means
(the refusal's message, in English).
"""

from __future__ import annotations

import importlib
from enum import StrEnum

from django.utils import translation

from carbonpoints.errors import DomainError

from .errors import domain_status

ENUMS = (
    ("Any request", "carbonpoints.api.error_codes", "ApiErrorCode"),
    ("Shared by every domain", "carbonpoints.error_codes", "CommonErrorCode"),
    ("Accounts", "accounts.error_codes", "AccountErrorCode"),
    (
        "Earn: the partner feed and the citizen's links",
        "carbonpoints.earn.error_codes",
        "EarnErrorCode",
    ),
    ("Claims", "carbonpoints.claims.error_codes", "ClaimErrorCode"),
    (
        "Spend: redemptions, the till, settlements, offsets",
        "redemption.error_codes",
        "SpendErrorCode",
    ),
    ("Privacy (PIPL)", "carbonpoints.privacy.error_codes", "PrivacyErrorCode"),
    ("Ledger", "carbonpoints.ledger.error_codes", "LedgerErrorCode"),
    ("Sponsors' budgets", "carbonpoints.budgets.error_codes", "BudgetErrorCode"),
    ("Methodologies", "carbonpoints.methodologies.error_codes", "MethodologyErrorCode"),
    (
        "Evaluation: levels, badges, the leaderboard",
        "carbonpoints.evaluation.error_codes",
        "EvaluationErrorCode",
    ),
    ("Operators' approvals", "carbonpoints.error_codes", "ApprovalErrorCode"),
)
"""Every enum of error codes, in the page's order."""

REFUSALS = (
    "accounts.exceptions",
    "carbonpoints.approvals",
    "carbonpoints.budgets.exceptions",
    "carbonpoints.claims.exceptions",
    "carbonpoints.earn.exceptions",
    "carbonpoints.evaluation.exceptions",
    "carbonpoints.ledger.exceptions",
    "carbonpoints.methodologies.exceptions",
    "carbonpoints.privacy.exceptions",
    "carbonpoints.regions.authority",
    "redemption.exceptions",
)
"""The modules that define refusals (``DomainError`` subclasses)."""

API_ANSWERS = {
    "not_authenticated": (401, "Not signed in (the app's X-Session-Token, or a session)."),
    "authentication_failed": (401, "The credentials were refused."),
    "method_not_allowed": (405, "This path does not take this method."),
    "not_acceptable": (406, "No answer in the asked format."),
    "unsupported_media_type": (415, "The body's Content-Type is not accepted here."),
    "throttled": (429, "Too many requests: `details.retry_after_s`, and a Retry-After header."),
    "bad_request": (400, "The request is malformed."),
    "server_error": (500, "Something went wrong on our side."),
    "service_unavailable": (
        503,
        "A service behind the API is unreachable for a moment: retry later.",
    ),
    "invalid": (400, "The request is not valid: `details` maps each field to its messages."),
    "malformed_request": (400, "The body cannot be read (not JSON, or not of the expected form)."),
    "permission_denied": (403, "The signed-in party may not do this."),
    "not_found": (404, "No such resource (or not yours)."),
}
"""What DRF's own refusals and Django's error pages answer (``carbonpoints.api.errors``)."""


def enums() -> list[tuple[str, type[StrEnum]]]:
    return [
        (title, getattr(importlib.import_module(module), name)) for title, module, name in ENUMS
    ]


def refusals() -> list[type[DomainError]]:
    """Every refusal class, from the modules that define them."""
    for module in REFUSALS:
        importlib.import_module(module)
    found, todo = [], list(DomainError.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.append(cls)
            todo.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: (cls.__module__, cls.__qualname__))


def codes_of(cls: type[DomainError]) -> tuple[str, ...]:
    """The codes a refusal is raised with: its ``code``, or each of its ``codes``."""
    return tuple(getattr(cls, "codes", None) or (cls.code,))


def _answers() -> dict[str, tuple[set[int], list[str]]]:
    answers: dict[str, tuple[set[int], list[str]]] = {}
    for code, (status, meaning) in API_ANSWERS.items():
        answers[code] = ({status}, [meaning])
    for cls in refusals():
        if cls.__module__ == "carbonpoints.errors":
            continue  # the kinds: their codes are documented as the API answers them
        described = getattr(cls, "codes", None) or {cls.code: cls.message}
        for code, meaning in described.items():
            statuses, meanings = answers.setdefault(str(code), (set(), []))
            statuses.add(domain_status(cls))
            message = str(meaning)
            if message and message not in meanings:
                meanings.append(message)
    return answers


def render() -> str:
    with translation.override("en"):
        answers = _answers()
    lines = [
        "# API error codes",
        "",
        "<!-- Written by `python manage.py error_codes_doc` from the `error_codes.py` enums: do not edit. -->",
        "",
        'Every refusal answers `{"error": {"code", "message", "details"}}`. Clients branch on the',
        "`code` (it never changes); the `message` is for people, in the request's language.",
        "",
    ]
    for title, enum in enums():
        lines += [
            f"## {title}",
            "",
            f"`{enum.__module__}.{enum.__name__}`",
            "",
            "| code | status | meaning |",
            "|---|---|---|",
        ]
        for member in enum:
            statuses, meanings = answers.get(member.value, (set(), []))
            status = ", ".join(str(s) for s in sorted(statuses))
            meaning = " / ".join(meanings).replace("|", "\\|")
            lines.append(f"| `{member.value}` | {status} | {meaning} |")
        lines.append("")
    return "\n".join(lines)
