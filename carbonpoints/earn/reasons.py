"""The earn side's reason codes: why a record is where it is, and each rule that decided it.

A record carries one in ``ActionRecord.reason`` (why it was rejected, held, flagged, capped or
reversed) and each rule of its explanation has one as its ``code`` ("why this many points").
The values are part of the API (partners, citizens and operators read them, and messages are
looked up by them): a member may be added, never renamed. ``docs/crediting.md`` lists them in
the order the rules apply them; a test checks the page against this enum.
"""

from enum import StrEnum


class Reason(StrEnum):
    # quantify: the methodology in force
    NO_METHODOLOGY = "no_methodology"
    UNIT_MISMATCH = "unit_mismatch"
    SELF_REPORT_NOT_ALLOWED = "self_report_not_allowed"
    SELF_REPORTED = "self_reported"
    NO_REDUCTION = "no_reduction"
    # verify: plausibility
    OCCURRED_IN_FUTURE = "occurred_in_future"
    TOO_OLD = "too_old"
    QUANTITY_NOT_ALLOWED = "quantity_not_allowed"
    QUANTITY_IMPLAUSIBLE = "quantity_implausible"
    SPEED_IMPLAUSIBLE = "speed_implausible"
    # verify: a citizen with consent
    NOT_LINKED = "not_linked"
    NO_CONSENT_FOR_ACTION = "no_consent_for_action"
    HELD_UNLINKED = "held_unlinked"
    LINK_WINDOW_PASSED = "link_window_passed"
    # verify: duplicates, and an operator's review of them
    POSSIBLE_DUPLICATE_TRIP = "possible_duplicate_trip"
    POSSIBLE_DUPLICATE_CLAIM = "possible_duplicate_claim"
    APPROVED_ON_REVIEW = "approved_on_review"
    REJECTED_ON_REVIEW = "rejected_on_review"
    # caps
    DAILY_CAP = "daily_cap"
    MONTHLY_CAP = "monthly_cap"
    PARTLY_COUNTED = "partly_counted"
    CAPPED = "capped"
    # credit: funding and settling
    BUDGET_THROTTLED = "budget_throttled"
    AWAITING_FUNDING = "awaiting_funding"
    FUNDED = "funded"
    SETTLING_PERIOD = "settling_period"
    # corrections
    REVERSED_BY_OPERATOR = "reversed_by_operator"
    RETRACTED_BY_PARTNER = "retracted_by_partner"
    CORRECTED = "corrected"


REVERSALS = (Reason.REVERSED_BY_OPERATOR, Reason.RETRACTED_BY_PARTNER)
"""The codes of a reversal: an operator's, or the partner's retraction."""


class EventRefusal(StrEnum):
    """Why intake refused one event of a batch (its result's ``code``; the record is not kept).

    Part of the partner feed's contract, listed in ``docs/partners.md`` (a test checks the table).
    """

    INVALID_EVENT = "invalid_event"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_ATTRIBUTES = "invalid_attributes"
    UNKNOWN_ACTION = "unknown_action"
    ACTION_NOT_APPROVED = "action_not_approved"
    UNIT_MISMATCH = "unit_mismatch"
    INVALID_CHARACTERS = "invalid_characters"


class EventStatus(StrEnum):
    """What became of one event of a batch (its result's ``status``)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
