"""Template filters of the console: `{{ status|badge }}`, `{{ status|status_label }}`, `{{ why|why_badge }}`."""

from django import template

from hub import why

register = template.Library()


@register.filter
def badge(status: str):
    return why.status_badge(str(status)) if status not in (None, "") else ""


@register.filter
def status_label(status: str) -> str:
    return why.status_label(str(status))


@register.filter
def seconds(milliseconds: int | None) -> str:
    """1234 (ms) → "1.23 s"."""
    if milliseconds is None:
        return ""
    return f"{milliseconds / 1000:.2f} s" if milliseconds < 10_000 else f"{milliseconds / 1000:.0f} s"
