"""Workers of the PIPL rights: thin, by id, safe to redo."""

from celery import shared_task

from .services import data_export_build


@shared_task(name="privacy.build_export", acks_late=True)
def build_export(export_id: str) -> str | None:
    export = data_export_build(export_id=export_id)
    return export.state if export else None
