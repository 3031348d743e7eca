from tests.subscriptions.helpers import emitted  # noqa: F401
