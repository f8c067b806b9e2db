"""django-q2 entry points: the schedule created by migration 0002, and "run now" from the admin."""

from flows.device_scores.models import ScoreRun
from flows.device_scores.transfer import transfer_run


def transfer_scheduled() -> None:
    transfer_run(trigger=ScoreRun.Trigger.SCHEDULE)


def transfer_requested() -> None:
    transfer_run(trigger=ScoreRun.Trigger.ADMIN)
