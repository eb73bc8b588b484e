"""Thin Celery tasks of the sequences room: take an id, call the service."""

from celery import shared_task

from generations.sequences import roughcut


@shared_task(name=roughcut.RENDER, acks_late=True, ignore_result=True)
def roughcut_render(roughcut_id: int) -> None:
    roughcut.roughcut_render(roughcut_id=roughcut_id)
