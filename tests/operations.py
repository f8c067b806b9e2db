"""Partner operations at a fixed path, for tests that call the outbound chokepoint directly."""

from dataclasses import dataclass

from hub import partners


@dataclass(frozen=True)
class FixedOperation(partners.Operation):
    fixed_path: str = ""

    @property
    def path(self) -> str:
        return self.fixed_path


def operation(partner: str, name: str, path: str, method: str = "POST") -> partners.Operation:
    return FixedOperation(partner, name, f"{partner}_{name.upper()}_PATH", method, path)
