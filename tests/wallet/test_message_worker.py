"""A real Celery worker consuming only the `messaging` queue sends a wallet message in
chained batches, with exact counts (SPEC 10)."""

from __future__ import annotations

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
from vibesweb.tenancy.services import company_create
from wallet.services.campaigns import wallet_campaign_create
from wallet.services.items import wallet_item_open
from wallet.services.messages import wallet_message_create
company = company_create(key="WORKER", name="Worker")
campaign = wallet_campaign_create(company=company, fields={"name": "C", "type": "loyalty"})
for n in range(230):
    tokens = {"first_name": f"P{n}", "group_code": "vip" if n % 10 else "std"}
    wallet_item_open(campaign=campaign, wallet_item_id=f"i{n}", tokens=tokens)
wallet_message_create(campaign=campaign, body={
    "message": {"header": "H", "template": "Hi {{first_name}}"},
    "filters": [{"name": "group_code", "selector": "=", "value": "vip"}],
})
"""

STATE = """
import json
from wallet.models import WalletItem, WalletMessage
m = WalletMessage.objects.get()
done = WalletItem.objects.filter(notification__startswith="Hi P").count()
right = WalletItem.objects.filter(uuid="i7", notification="Hi P7").count()
print(json.dumps([m.status, m.recipient_count, m.sent_count, done, right]))
"""


@pytest.mark.worker
def test_a_messaging_worker_sends_a_wallet_message_in_batches(tmp_path):
    env = worker_env(tmp_path, suffix="wallet_worker", WALLET_MESSAGE_BATCH_SIZE="40")
    log = tmp_path / "worker.log"
    manage(env, "migrate", "--no-input", "-v", "0")
    purge_queues(env, "messaging")
    manage(env, "shell", "-c", SEED)
    worker = start_worker(env, log, queues="messaging")
    try:
        wait_for(lambda: child_state(env, STATE)[0] == "sent", seconds=90, every=1.5)
        # 230 items, every tenth in group "std": 207 recipients in 6 batches of 40
        assert child_state(env, STATE) == ["sent", 207, 207, 207, 1], log.read_text()[-3000:]
    finally:
        kill(worker)
