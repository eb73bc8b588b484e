"""Thin Celery tasks: take an id, hand over to a service. The services hold the rules."""

from celery import shared_task

from generations.services import jobs


@shared_task(acks_late=True, ignore_result=True)
def generation_run(generation_id: int, due: str | None = None) -> None:
    jobs.generation_execute(generation_id=generation_id, due=due)


@shared_task(acks_late=True, ignore_result=True)
def generation_store_retry(generation_id: int) -> None:
    jobs.generation_store(generation_id=generation_id)


@shared_task(ignore_result=True)
def generations_sweep() -> None:
    jobs.jobs_sweep()
