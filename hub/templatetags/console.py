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
def seconds(milliseconds: float | None) -> str:
    """1234 (ms) → "1.23 s"."""
    if milliseconds in (None, ""):
        return ""
    value = float(milliseconds) / 1000
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"
