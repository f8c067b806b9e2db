"""Serializer fields the flows' inputs share.

Text is kept exactly as the partner sent it: what the hub checks (length, blank) is what it
stores and forwards. DRF's CharField trims surrounding whitespace before it checks the length,
so a value that passed as 100 characters could be 101 in the payload the hub keeps and sends on.
A value of whitespace only is refused as blank, as before. A number or a boolean where the
contract says string is refused too (DRF would turn 123 into "123"): the payload the hub keeps
and forwards would still hold the number.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty


class Text(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        if data is not empty and data is not None and not isinstance(data, str):
            self.fail("invalid")
        if not self.allow_blank and isinstance(data, str) and data and not data.strip():
            self.fail("blank")
        return super().run_validation(data)


def optional(**kwargs: Any) -> Text:
    """A text the partner may leave out, send as null or send empty."""
    return Text(required=False, allow_null=True, allow_blank=True, **kwargs)
