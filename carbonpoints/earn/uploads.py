"""Bulk uploads: a CSV or JSON Lines file (maybe gzipped) ingested in chunks by a worker.

Progress (``lines_done``) moves in the same database transaction as each chunk's records, so a
worker killed mid-file resumes where it stopped; the records themselves are idempotent anyway.
"""

from __future__ import annotations

import gzip
import io
import zlib
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from carbonpoints.error_codes import CommonErrorCode
from carbonpoints.methodologies.selectors import Catalogue

from .error_codes import EarnErrorCode
from .exceptions import UploadRefused
from .intake import MAX_EVENTS, candidate_from_json, candidates_from_csv, events_ingest
from .models import Batch, Partner, Upload

MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
CSV_FIELDS = {"external_id", "subject", "action", "quantity", "unit", "occurred_at"}


def upload_create(*, partner: Partner, content: bytes, format: str) -> Upload:
    """Keep the file as sent; a worker ingests it after commit (the caller enqueues it)."""
    if format not in Upload.Format.values:
        raise UploadRefused(
            EarnErrorCode.UNSUPPORTED_FORMAT, "Send text/csv or application/x-ndjson (JSON Lines)."
        )
    if not content:
        raise UploadRefused(EarnErrorCode.EMPTY_UPLOAD, "The file is empty.")
    return Upload.objects.create(
        partner=partner,
        content=content,
        format=format,
        size=len(content),
        gzipped=content[:2] == b"\x1f\x8b",
    )


def _text(upload: Upload) -> str:
    data = bytes(upload.content)
    if upload.gzipped:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
                data = stream.read(MAX_UNCOMPRESSED_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise UploadRefused(EarnErrorCode.BAD_GZIP, "The file is not valid gzip.") from exc
        if len(data) > MAX_UNCOMPRESSED_BYTES:
            raise UploadRefused(
                CommonErrorCode.PAYLOAD_TOO_LARGE, "The file is too large once uncompressed."
            )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadRefused(EarnErrorCode.BAD_ENCODING, "The file must be UTF-8.") from exc


def _candidates(upload: Upload):
    text = _text(upload)
    if upload.format == Upload.Format.CSV:
        header = text.split("\n", 1)[0]
        if not CSV_FIELDS <= {name.strip() for name in header.strip().split(",")}:
            raise UploadRefused(
                EarnErrorCode.BAD_HEADER,
                "The CSV header must name: " + ", ".join(sorted(CSV_FIELDS)),
            )
        return candidates_from_csv(text)
    return [candidate_from_json(line.encode()) for line in text.splitlines() if line.strip()]


def upload_process(*, upload_id) -> str | None:
    """Ingest the rest of an upload into its batch; the batch id, or None when nothing to do."""
    with transaction.atomic():
        upload = Upload.objects.select_for_update().select_related("partner").get(pk=upload_id)
        if upload.state in (Upload.State.DONE, Upload.State.FAILED):
            return str(upload.batch_id) if upload.batch_id else None
        if upload.batch_id is None:
            upload.batch = Batch.objects.create(partner=upload.partner, source=Batch.Source.UPLOAD)
        upload.state = Upload.State.PROCESSING
        upload.attempts += 1
        upload.save(update_fields=["batch", "state", "attempts"])
    try:
        candidates = _candidates(upload)
    except UploadRefused as exc:
        Upload.objects.filter(pk=upload.pk).update(
            state=Upload.State.FAILED, error=f"{exc.code}: {exc}", finished_at=timezone.now()
        )
        return None
    Upload.objects.filter(pk=upload.pk).update(lines_total=len(candidates))
    catalogue = Catalogue()
    start = upload.lines_done
    batch = upload.batch
    assert batch is not None  # made with the upload
    for offset in range(start, len(candidates), MAX_EVENTS):
        chunk = candidates[offset : offset + MAX_EVENTS]
        with transaction.atomic():
            events_ingest(
                partner=upload.partner, batch=batch, candidates=chunk, catalogue=catalogue
            )
            Upload.objects.filter(pk=upload.pk).update(lines_done=F("lines_done") + len(chunk))
        batch.refresh_from_db(fields=["rejections"])
    Upload.objects.filter(pk=upload.pk).update(state=Upload.State.DONE, finished_at=timezone.now())
    return str(upload.batch_id)


def stuck_uploads(*, older_than: timedelta = timedelta(minutes=10)) -> list[str]:
    cutoff = timezone.now() - older_than
    return [
        str(pk)
        for pk in Upload.objects.filter(
            state__in=[Upload.State.PENDING, Upload.State.PROCESSING],
            created_at__lt=cutoff,
        ).values_list("pk", flat=True)[:50]
    ]
