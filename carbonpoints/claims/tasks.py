from celery import shared_task

from .selectors import claims_undelivered
from .services import WebhookFailed, claim_webhook_send

MAX_RETRIES = 8


@shared_task(name="claims.notify_partner", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def notify_partner(self, claim_id: int) -> bool:
    """Tell the partner of a new claim by its webhook, retried with backoff; idempotent (a claim
    delivered or decided is not sent again). In process (the embedded default, no worker) a
    failure is left to the sweeper, never raised into the citizen's request. Partners may also
    poll the claims API."""
    try:
        return claim_webhook_send(claim_id=claim_id)
    except WebhookFailed as failure:
        if self.request.is_eager:
            return False
        raise self.retry(
            exc=failure, countdown=min(3600, 30 * 2**self.request.retries)
        ) from failure


@shared_task(name="claims.sweep_webhooks")
def sweep_webhooks() -> int:
    """Re-send what a lost delivery hint or a failed in-process send left undelivered."""
    claim_ids = list(
        claims_undelivered(max_attempts=MAX_RETRIES).values_list("pk", flat=True)[:500]
    )
    for claim_id in claim_ids:
        notify_partner.delay(claim_id)
    return len(claim_ids)
