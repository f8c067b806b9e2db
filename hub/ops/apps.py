from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: log context in worker tasks, and the retention schedule (its migration)."""

    name = "hub.ops"
    label = "hub_ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django_q.signals import post_execute_in_worker, pre_execute

        from hub.logs import task_finished, task_started

        pre_execute.connect(task_started, dispatch_uid="hub.logs.task_started")
        post_execute_in_worker.connect(task_finished, dispatch_uid="hub.logs.task_finished")
