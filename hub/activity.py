"""The timeline of a message, as support staff read it in the admin."""

from hub.models import Activity, Message


def activity_record(*, message: Message, kind: str, text: str = "", actor=None) -> Activity:
    return Activity.objects.create(message=message, kind=kind, text=text, actor=actor)
