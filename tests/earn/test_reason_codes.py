"""Reason codes: one enum, each with a message, each in the crediting page's table."""

import re
from pathlib import Path

from carbonpoints.earn.reasons import EventRefusal, Reason
from carbonpoints.earn.selectors import REASON_TEXT, RULE_TEXT

PAGE = Path(__file__).resolve().parents[2] / "docs" / "crediting.md"


def test_the_crediting_page_lists_every_reason_code_in_the_order_of_the_enum():
    table = PAGE.read_text().split("## Reason codes", 1)[1]
    listed = re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE)

    assert listed == [reason.value for reason in Reason]


def test_every_reason_code_has_a_message():
    assert [
        reason for reason in Reason if reason not in RULE_TEXT and reason not in REASON_TEXT
    ] == []


def test_the_partners_page_lists_every_per_event_refusal():
    page = (PAGE.parent / "partners.md").read_text()
    table = page.split("### Per-event rejection codes", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE)

    assert sorted(listed) == sorted(refusal.value for refusal in EventRefusal)
