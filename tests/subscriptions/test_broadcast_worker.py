"""A real Celery worker with its scheduler (`worker -B -Q messaging`) sends a due broadcast
in chained batches on the messaging queue, with exact counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.worker_process import (
    child_state,
    kill,
    manage,
    purge_queues,
    start_worker,
    wait_for,
    worker_env,
)

SEED = """
from datetime import timedelta
from django.utils import timezone
from mobiledb.models import Broadcast, Person, Subscription, SubscriptionList
from vibesweb.tenancy.services import company_create
company = company_create(key="WORKER", name="Worker")
main = SubscriptionList.objects.create(company=company, name="main")
now = timezone.now()
for n in range(230):
    person = Person.objects.create(company=company, mdn=f"+1612555{n:04d}")
    opted_out = now if n % 10 == 0 else None
    Subscription.objects.create(
        company=company, person=person, subscription_list=main, opt_in_date=now,
        opt_out_date=opted_out, opt_out_reason="user_opt_out" if opted_out else None,
    )
broadcast = Broadcast.objects.create(
    company=company, name="now", send_scheduled_date=now - timedelta(seconds=1),
    message_template="Hello",
)
broadcast.source_lists.set([main])
"""

STATE = """
import json
from mobiledb.models import Broadcast, OutboundMessage
b = Broadcast.objects.get()
gone = OutboundMessage.objects.filter(person__subscriptions__opt_out_date__isnull=False).count()
print(json.dumps([b.status, b.sent_count, OutboundMessage.objects.count(), gone]))
"""


def child_env(tmp_path: Path) -> dict:
    return worker_env(
        tmp_path,
        suffix="broadcast_worker",
        BROADCAST_SCHEDULER_SECONDS="1",
        BROADCAST_BATCH_SIZE="40",
    )


@pytest.mark.worker
def test_scheduler_and_worker_send_a_due_broadcast_in_batches(tmp_path):
    env = child_env(tmp_path)
    log = tmp_path / "worker.log"
    manage(env, "migrate", "--no-input", "-v", "0")
    purge_queues(env, "messaging")
    manage(env, "shell", "-c", SEED)
    worker = start_worker(env, log, queues="messaging", beat=True)
    try:
        wait_for(lambda: child_state(env, STATE)[0] == "sent", seconds=90, every=1.5)
        # 230 subscribers, every tenth opted out: 207 messages, in 6 batches of 40
        assert child_state(env, STATE) == ["sent", 207, 207, 0], log.read_text()[-3000:]
    finally:
        kill(worker)
