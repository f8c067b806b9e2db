"""django-q2 entry points: the schedule created by migration 0002, "run now" from the admin, and
the follow-up a run queues when it stopped at its budget. On the cluster a run ends within
TASK_BUDGET_S, before django-q2's task timeout (Q_TIMEOUT_S) would kill it."""

from django.conf import settings

from flows.device_scores.models import ScoreRun
from flows.device_scores.transfer import transfer_run


def transfer_scheduled() -> None:
    transfer_run(trigger=ScoreRun.Trigger.SCHEDULE, budget_s=settings.TASK_BUDGET_S)


def transfer_requested() -> None:
    transfer_run(trigger=ScoreRun.Trigger.ADMIN, budget_s=settings.TASK_BUDGET_S)


def transfer_follow_up() -> None:
    transfer_run(trigger=ScoreRun.Trigger.FOLLOW_UP, budget_s=settings.TASK_BUDGET_S)
