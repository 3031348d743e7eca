from __future__ import annotations

from vibesweb.celery import QUEUES, app


def test_every_queue_has_its_own_binding_so_messages_are_not_copied():
    bindings = {(q.exchange.name, q.routing_key) for q in app.amqp.queues.values()}
    assert len(bindings) == len(QUEUES)


def test_a_task_for_a_queue_is_routed_to_that_queue_only():
    route = app.amqp.router.route({"queue": "callbacks"}, "callbacks.tasks.deliver")
    assert route["queue"].name == "callbacks"
    assert route["queue"].routing_key == "callbacks"


def test_each_kind_of_work_runs_on_its_own_queue():
    app.loader.import_default_modules()
    expected = {
        "callbacks.deliver_pending": "callbacks",
        "callbacks.sweep": "callbacks",
        "mobiledb.imports.tasks.person_import_task": "imports",
        "mobiledb.broadcast_send_batch": "messaging",
        "campaigns.participations_expire": "default",
    }
    for task_name, queue in expected.items():
        assert task_name in app.tasks
        assert app.amqp.router.route({}, task_name)["queue"].name == queue, task_name
