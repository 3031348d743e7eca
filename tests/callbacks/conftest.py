from __future__ import annotations

import pytest

from tests.factories import CallbackRegistrationFactory

from .receiver import Receiver


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def registration(company, receiver):
    """A person_added registration of `company` pointing at the local receiver."""
    return CallbackRegistrationFactory(
        company=company, url=receiver.url, notification_emails=["ops@example.com"]
    )
