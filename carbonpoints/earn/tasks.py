"""Celery tasks of the earn side: thin, idempotent, by id; the database records what is left."""

from celery import shared_task

from . import pipeline
from .uploads import upload_process


@shared_task(name="earn.process_batch", acks_late=True)
def process_batch(batch_id: str) -> int:
    """Records sent back to the pipeline (released when their citizen linked, approved on review):
    the batch's pending records decided and written, then every other pending record."""
    return pipeline.batch_process(batch_id=batch_id)


@shared_task(name="earn.resume_batch", acks_late=True)
def resume_batch(batch_id: str) -> int:
    """A batch the sweeper found with records left pending: counted as a run (a batch that never
    finishes is left to an operator after ``MAX_PIPELINE_RUNS``), then processed."""
    pipeline.batch_run_record(batch_id=batch_id)
    return pipeline.batch_process(batch_id=batch_id)


# The names of before (named after stages the pipeline no longer has), kept registered so that
# messages queued under them before an upgrade still run. Nothing sends them any more; they can
# go once no queue holds them.


@shared_task(name="earn.quantify_batch", acks_late=True)
def quantify_batch(batch_id: str) -> int:
    """Old name of ``resume_batch`` (the sweeper sent it): the same work."""
    return resume_batch(batch_id)


@shared_task(name="earn.verify_batch", acks_late=True)
def verify_batch(batch_id: str) -> int:
    """Old name of ``process_batch`` (a link or a review sent it): the same work."""
    return process_batch(batch_id)


@shared_task(name="earn.credit_batch", acks_late=True)
def credit_batch(batch_id: str) -> int:
    """Old name of ``process_batch`` (an older stage task): the same work."""
    return process_batch(batch_id)


@shared_task(name="earn.process_upload", acks_late=True)
def process_upload(upload_id: str) -> str | None:
    """A bulk file: its records are decided and stored chunk by chunk, as intake does."""
    return upload_process(upload_id=upload_id)


@shared_task(name="earn.sweep_pipeline")
def sweep_pipeline() -> int:
    """Re-enqueue batches (and uploads) left half-done, e.g. by a worker that died."""
    from .uploads import stuck_uploads

    for batch_id in pipeline.unlinked_since_linked():
        process_batch.delay_on_commit(batch_id)
    batches = pipeline.stuck_batches()
    for batch_id in batches:
        resume_batch.delay(batch_id)
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
