"""Celery app of the lab (the real stack runs `-A app.workers.tasks.celery`)."""
import os

from celery import Celery

REDIS_URL = os.getenv("REDIS_URL", "redis://redis:6379/0")

celery = Celery("app.workers.tasks", broker=REDIS_URL, backend=REDIS_URL)
celery.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=600,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=True,
)


@celery.task(name="app.workers.tasks.add")
def add(x, y):
    return x + y
