"""The database records what is left to do: a sweeper finishes batches a dead worker left behind."""

from datetime import timedelta

import pytest
from django.utils import timezone

from carbonpoints.earn import pipeline, tasks
from carbonpoints.earn.models import ActionRecord

from .factories import event

pytestmark = pytest.mark.django_db


def _age_everything():
    ActionRecord.objects.update(updated_at=timezone.now() - timedelta(minutes=10))


def test_a_batch_never_processed_is_swept_up_and_credited(metro, linked_citizen_client,
                                                          django_capture_on_commit_callbacks):
    batch_id = metro.send(event(quantity=10), event(quantity=20), run_tasks=False).json()["batch_id"]
    assert metro.batch(batch_id)["pending"] == 2, "as if the worker died before it started"

    _age_everything()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_pipeline.delay().get() == 1

    status = metro.batch(batch_id)
    assert (status["pending"], status["credited"]) == (0, 2)
    assert linked_citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 1401


def test_a_batch_stopped_between_verification_and_crediting_resumes_without_double_counting(
    metro, linked_citizen_client, django_capture_on_commit_callbacks
):
    batch_id = metro.send(event(quantity=60), event(quantity=60), run_tasks=False).json()["batch_id"]
    pipeline.batch_quantify(batch_id=batch_id)
    pipeline.batch_verify(batch_id=batch_id)      # the worker dies here
    assert metro.batch(batch_id)["verified"] == 2

    _age_everything()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_pipeline.delay()
        tasks.sweep_pipeline.delay()

    status = metro.batch(batch_id)
    assert (status["credited"], status["capped"]) == (2, 1)
    assert linked_citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 4670  # 100 km cap


def test_a_fresh_batch_is_left_to_its_own_worker(metro, linked_citizen_client):
    metro.send(event(), run_tasks=False)
    assert pipeline.stuck_batches() == []


def test_a_batch_that_never_finishes_is_left_to_operators_after_many_runs(metro, linked_citizen_client):
    from carbonpoints.earn.models import Batch

    batch_id = metro.send(event(), run_tasks=False).json()["batch_id"]
    _age_everything()
    assert pipeline.stuck_batches() == [batch_id]

    Batch.objects.filter(pk=batch_id).update(pipeline_runs=pipeline.MAX_PIPELINE_RUNS)
    assert pipeline.stuck_batches() == []


@pytest.mark.postgres
def test_runs_at_once_take_the_queue_a_partition_each_and_strand_nothing(metro, settings):
    import psycopg
    from django.db import connection

    settings.EARN_PIPELINE_PARTITIONS = 2
    subjects = [f"member-{n}" for n in range(2, 12)]
    metro.send(*[event(subject=s) for s in subjects], run_tasks=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT subject, abs(hashtext(subject) % 2) FROM earn_actionrecord")
        partition_of = dict(cursor.fetchall())
    assert set(partition_of.values()) == {0, 1}, "both partitions have records"

    def pending() -> set[str]:
        return set(ActionRecord.objects.filter(state="received").values_list("subject", flat=True))

    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                         dbname=db["NAME"], autocommit=True) as other_run:
        other_run.execute("SELECT pg_advisory_lock(%s, 0)", [pipeline.PARTITION_LOCK])
        pipeline.batch_process()
        assert pending() == {s for s in subjects if partition_of[s] == 0}, "partition 0 is left to its holder"
        other_run.execute("SELECT pg_advisory_unlock(%s, 0)", [pipeline.PARTITION_LOCK])

    pipeline.batch_process()
    assert pending() == set()
    assert set(ActionRecord.objects.values_list("state", flat=True)) == {"unlinked"}
