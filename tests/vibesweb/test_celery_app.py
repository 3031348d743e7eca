from __future__ import annotations

from vibesweb.celery import QUEUES, app


def test_every_queue_has_its_own_binding_so_messages_are_not_copied():
    bindings = {(q.exchange.name, q.routing_key) for q in app.amqp.queues.values()}
    assert len(bindings) == len(QUEUES)


def test_a_task_for_a_queue_is_routed_to_that_queue_only():
    route = app.amqp.router.route({"queue": "callbacks"}, "callbacks.tasks.deliver")
    assert route["queue"].name == "callbacks"
    assert route["queue"].routing_key == "callbacks"
