"""A real Celery worker consuming only the `messaging` queue sends a wallet message in
chained batches, with exact counts (SPEC 10)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.worker_process import worker_env

ROOT = Path(__file__).resolve().parents[2]

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


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=env["VIBESWEB_VAR_DIR"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.worker
def test_a_messaging_worker_sends_a_wallet_message_in_batches(tmp_path):
    env = worker_env(tmp_path, suffix="wallet_worker", WALLET_MESSAGE_BATCH_SIZE="40")
    log = tmp_path / "worker.log"
    manage(env, "migrate", "--no-input", "-v", "0")
    if env["CELERY_BROKER_URL"].startswith(("redis", "amqp")):
        subprocess.run(
            [sys.executable, "-m", "celery", "-A", "vibesweb", "purge", "-f", "-Q", "messaging"],
            cwd=tmp_path, env=env, capture_output=True, timeout=60,
        )  # fmt: skip
    manage(env, "shell", "-c", SEED)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "vibesweb", "worker", "-Q", "messaging",
         "--concurrency", "1", "--loglevel", "WARNING"],
        cwd=tmp_path, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        state = None
        while time.monotonic() < deadline:
            state = json.loads(manage(env, "shell", "-c", STATE).strip().splitlines()[-1])
            if state[0] == "sent":
                break
            time.sleep(1.5)
        # 230 items, every tenth in group "std": 207 recipients in 6 batches of 40
        assert state == ["sent", 207, 207, 207, 1], log.read_text()[-3000:]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
