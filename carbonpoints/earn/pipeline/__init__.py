"""The earn pipeline: quantify → verify → credit, as a functional core and an imperative shell.

- ``rules``: the rules, pure functions over in-memory records and the rows the store returns;
  ``rules.decide`` holds their one order (docs/crediting.md);
- ``postings``: the ledger transactions of credit, funding, settling and reversal, built in one place;
- ``store``: every statement the pipeline runs;
- ``runner``: transactions, locks and partitions: intake's ``records_take_in`` and the worker's
  ``batch_process``, which share one crediting path.
"""

from .rules import Record
from .runner import (
    MAX_PIPELINE_RUNS,
    batch_process,
    batch_run_record,
    credits_fund,
    points_settle,
    records_take_in,
    stuck_batches,
    unlinked_expire,
    unlinked_release,
    unlinked_since_linked,
)
from .store import MAX_DURATION_S, PARTITION_LOCK

__all__ = [
    "MAX_DURATION_S",
    "MAX_PIPELINE_RUNS",
    "PARTITION_LOCK",
    "Record",
    "batch_process",
    "batch_run_record",
    "credits_fund",
    "points_settle",
    "records_take_in",
    "stuck_batches",
    "unlinked_expire",
    "unlinked_release",
    "unlinked_since_linked",
]
