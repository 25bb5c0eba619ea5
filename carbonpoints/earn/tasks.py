"""Celery tasks of the earn side: thin, idempotent, by id; the database records what is left."""

from celery import shared_task

from . import pipeline
from .uploads import upload_process


@shared_task(name="earn.quantify_batch", acks_late=True)
def quantify_batch(batch_id: str) -> int:
    """A swept batch (records left pending): every stage, chunk by chunk, counted as a run."""
    pipeline.batch_run_record(batch_id=batch_id)
    return pipeline.batch_process(batch_id=batch_id)


@shared_task(name="earn.verify_batch", acks_late=True)
def verify_batch(batch_id: str) -> int:
    """Records sent back to verification (a link, a review): verified and credited from there."""
    return pipeline.batch_process(batch_id=batch_id)


@shared_task(name="earn.credit_batch", acks_late=True)
def credit_batch(batch_id: str) -> int:
    """Whatever is left of the batch (kept for callers of the old stage task)."""
    return pipeline.batch_process(batch_id=batch_id)


@shared_task(name="earn.process_upload", acks_late=True)
def process_upload(upload_id: str) -> str | None:
    """A bulk file: its records are decided and stored chunk by chunk, as intake does."""
    return upload_process(upload_id=upload_id)


@shared_task(name="earn.sweep_pipeline")
def sweep_pipeline() -> int:
    """Re-enqueue batches (and uploads) left half-done, e.g. by a worker that died."""
    from .uploads import stuck_uploads

    for batch_id in pipeline.unlinked_since_linked():
        verify_batch.delay_on_commit(batch_id)
    batches = pipeline.stuck_batches()
    for batch_id in batches:
        quantify_batch.delay(batch_id)
    uploads = stuck_uploads()
    for upload_id in uploads:
        process_upload.delay(upload_id)
    return len(batches) + len(uploads)


@shared_task(name="earn.expire_unlinked")
def expire_unlinked() -> int:
    return pipeline.unlinked_expire()


@shared_task(name="earn.fund_waiting")
def fund_waiting() -> int:
    """Credits that waited for a sponsor's budget, funded as far as the budgets allow."""
    total = 0
    while done := pipeline.credits_fund():
        total += done
    return total


@shared_task(name="earn.settle_points")
def settle_points() -> int:
    total = 0
    while done := pipeline.points_settle():
        total += done
    return total
