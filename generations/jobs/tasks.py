"""Thin Celery tasks: take an id, hand over to a service. The services hold the rules, and
send these by name (jobs/queue.py), which keeps the names of earlier releases."""

from celery import shared_task

from generations.jobs import queue, run, store, sweep


@shared_task(name=queue.RUN, acks_late=True, ignore_result=True)
def generation_run(generation_id: int, due: str | None = None) -> None:
    run.generation_execute(generation_id=generation_id, due=due)


@shared_task(name=queue.RESUME, acks_late=True, ignore_result=True)
def generation_resume(generation_id: int, stamp: str) -> None:
    run.generation_resume(generation_id=generation_id, stamp=stamp)


@shared_task(name=queue.STORE_RETRY, acks_late=True, ignore_result=True)
def generation_store_retry(generation_id: int, due: str | None = None) -> None:
    store.generation_store(generation_id=generation_id, due=due)


@shared_task(name=queue.SWEEP, ignore_result=True)
def generations_sweep() -> None:
    sweep.jobs_sweep()
