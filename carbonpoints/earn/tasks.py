"""Celery tasks of the earn side: thin, idempotent, by id; the database records what is left."""

from celery import shared_task

from . import pipeline
from .uploads import upload_process


@shared_task(name="earn.quantify_batch", acks_late=True)
def quantify_batch(batch_id: str) -> int:
    """A new (or swept) batch: every stage, chunk by chunk, in one task (no hops between stages)."""
    pipeline.batch_run_record(batch_id=batch_id)
    return sum(pipeline.batch_process(batch_id=batch_id).values())


@shared_task(name="earn.verify_batch", acks_late=True)
def verify_batch(batch_id: str) -> int:
    """Records sent back to verification (a link, a review): verified and credited from there."""
    return sum(pipeline.batch_process(batch_id=batch_id).values())


@shared_task(name="earn.credit_batch", acks_late=True)
def credit_batch(batch_id: str) -> int:
    """Whatever is left of the batch, crediting included (kept for callers of the stage task)."""
    return sum(pipeline.batch_process(batch_id=batch_id).values())


@shared_task(name="earn.process_upload", acks_late=True)
def process_upload(upload_id: str) -> str | None:
    batch_id = upload_process(upload_id=upload_id)
    if batch_id:
        quantify_batch.delay_on_commit(batch_id)
    return batch_id


@shared_task(name="earn.sweep_pipeline")
def sweep_pipeline() -> int:
    """Re-enqueue batches (and uploads) left half-done, e.g. by a worker that died."""
    from .uploads import stuck_uploads

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


@shared_task(name="earn.settle_points")
def settle_points() -> int:
    total = 0
    while done := pipeline.points_settle():
        total += done
    return total
