"""What must wait is recorded in the database: a sweeper finishes what a dead worker left behind.

Records are decided at intake; only records sent back to verification (released when their
citizen links, approved by an operator) wait for the worker.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from carbonpoints.earn import pipeline, tasks
from carbonpoints.earn.models import ActionRecord, Batch
from carbonpoints.ledger.selectors import ledger_check

from .factories import event

pytestmark = pytest.mark.django_db


def _age_everything():
    ActionRecord.objects.update(updated_at=timezone.now() - timedelta(minutes=10))


def _released_without_a_worker(metro, citizen_client, link, *events, subject="M1") -> str:
    """Held records of ``subject``, released by a link whose worker task never ran."""
    batch_id = metro.send(*events).json()["batch_id"]
    assert metro.batch(batch_id)["unlinked"] == len(events)
    link(citizen_client, metro.partner, subject, run_tasks=False)
    assert metro.batch(batch_id)["pending"] == len(events), (
        "as if the worker died before it started"
    )
    return batch_id


def test_records_released_while_the_worker_was_down_are_swept_up_and_credited(
    metro, citizen_client, link, django_capture_on_commit_callbacks
):
    batch_id = _released_without_a_worker(
        metro,
        citizen_client,
        link,
        event(subject="M1", quantity=10),
        event(subject="M1", quantity=20),
    )
    _age_everything()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_pipeline.delay().get() == 1

    status = metro.batch(batch_id)
    assert (status["pending"], status["credited"]) == (0, 2)
    assert citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 1401


def test_running_the_same_work_twice_counts_it_once(metro, citizen_client, link):
    batch_id = _released_without_a_worker(
        metro,
        citizen_client,
        link,
        event(subject="M1", quantity=60),
        event(subject="M1", quantity=60),
    )

    assert pipeline.batch_process(batch_id=batch_id) == 2
    assert pipeline.batch_process(batch_id=batch_id) == 0  # a redelivered task finds nothing left

    status = metro.batch(batch_id)
    assert (status["credited"], status["capped"]) == (2, 1)
    assert citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 4670  # 100 km cap
    assert ledger_check().ok


def test_fresh_pending_work_is_left_to_its_own_worker(metro, citizen_client, link):
    _released_without_a_worker(metro, citizen_client, link, event(subject="M1"))
    assert pipeline.stuck_batches() == []


def test_a_batch_that_never_finishes_is_left_to_operators_after_many_runs(
    metro, citizen_client, link
):
    batch_id = _released_without_a_worker(metro, citizen_client, link, event(subject="M1"))
    _age_everything()
    assert pipeline.stuck_batches() == [batch_id]

    Batch.objects.filter(pk=batch_id).update(pipeline_runs=pipeline.MAX_PIPELINE_RUNS)
    assert pipeline.stuck_batches() == []


@pytest.mark.parametrize(
    "name, runs",
    [
        ("earn.process_batch", 0),
        ("earn.resume_batch", 1),
        # the names of before: messages queued under them before an upgrade still run
        ("earn.verify_batch", 0),
        ("earn.credit_batch", 0),
        ("earn.quantify_batch", 1),
    ],
)
def test_a_batch_task_queued_under_its_name_of_now_or_of_before_credits_the_batch(
    name, runs, metro, citizen_client, link
):
    from carbonpoints.celery import app

    batch_id = _released_without_a_worker(
        metro, citizen_client, link, event(subject="M1", quantity=10)
    )

    assert app.tasks[name].apply(args=[batch_id]).get() == 1
    assert (metro.batch(batch_id)["credited"], Batch.objects.get(pk=batch_id).pipeline_runs) == (
        1,
        runs,
    )


def test_records_left_received_by_an_earlier_version_are_processed_by_the_worker(
    metro, citizen_client, link
):
    metro.send(event(external_id="old-1", subject="M2", quantity=10))
    ActionRecord.objects.update(
        state="received", reason=""
    )  # as the pipeline before 2026-12 left them
    link(citizen_client, metro.partner, "M2", run_tasks=False)

    assert pipeline.batch_process() == 1
    assert metro.record("old-1")["state"] == "credited"
    assert citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 467


def test_runs_at_once_take_the_queue_a_partition_each_and_strand_nothing(metro, settings):
    import psycopg
    from django.db import connection

    settings.EARN_PIPELINE_PARTITIONS = 2
    subjects = [f"member-{n}" for n in range(2, 12)]
    metro.send(*[event(subject=s) for s in subjects])
    ActionRecord.objects.update(state="received")  # left pending, as by a worker that died
    with connection.cursor() as cursor:
        cursor.execute("SELECT subject, abs(hashtext(subject) % 2) FROM earn_actionrecord")
        partition_of = dict(cursor.fetchall())
    assert set(partition_of.values()) == {0, 1}, "both partitions have records"

    def pending() -> set[str]:
        return set(ActionRecord.objects.filter(state="received").values_list("subject", flat=True))

    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=db["NAME"],
        autocommit=True,
    ) as other_run:
        other_run.execute("SELECT pg_advisory_lock(%s, 0)", [pipeline.PARTITION_LOCK])
        pipeline.batch_process()
        assert pending() == {s for s in subjects if partition_of[s] == 0}, (
            "partition 0 is left to its holder"
        )
        other_run.execute("SELECT pg_advisory_unlock(%s, 0)", [pipeline.PARTITION_LOCK])

    pipeline.batch_process()
    assert pending() == set()
    assert set(ActionRecord.objects.values_list("state", flat=True)) == {"unlinked"}


def test_a_record_held_while_its_link_was_being_made_is_released_by_the_sweeper(
    metro, citizen, citizen_client, django_capture_on_commit_callbacks
):
    from carbonpoints.earn.services import identity_link_create

    batch_id = metro.send(event(subject="M3", quantity=10)).json()["batch_id"]
    # the link commits without seeing the record (a request in flight): nothing released it
    identity_link_create(
        account=citizen.carbon_account,
        partner=metro.partner,
        subject="M3",
        scenes=None,
        wording="consent",
    )
    assert metro.batch(batch_id)["unlinked"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_pipeline.delay()

    assert metro.batch(batch_id)["credited"] == 1
    assert citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 467
