"""A Celery app for the redis probe's consumption tests.

Broker and result backend are the test's redis-server, given in DIAGNOSE_TEST_REDIS_URL. Started by the tests as
`celery --workdir <this folder> -A fixture_app worker --pool=solo --concurrency=1 -Q <queue>`.
"""

import os
import time

from celery import Celery

url = os.environ["DIAGNOSE_TEST_REDIS_URL"]
app = Celery("fixture_app", broker=url)
app.conf.result_backend = url


@app.task(name="fixture_app.slow")
def slow(*args):
    """Takes a while, so that a backlog drains one message at a time."""
    time.sleep(0.3)
    return len(args)
