"""Named leases in the database: one holder at a time across all processes."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from hub.models import Lease


def lease_take(*, name: str, owner: str, seconds: float, steal: bool = False) -> bool:
    """Take or renew `name` for `owner`. Expired leases are free; `steal` takes a held one."""
    now = timezone.now()
    until = now + timedelta(seconds=seconds)
    free = Lease.objects.filter(name=name)
    if not steal:
        free = free.filter(owner=owner) | Lease.objects.filter(name=name, expires_at__lt=now)
    if free.update(owner=owner, expires_at=until):
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, owner=owner, expires_at=until)
        return True
    except IntegrityError:
        return False


def lease_held(*, name: str, owner: str) -> bool:
    return Lease.objects.filter(name=name, owner=owner, expires_at__gte=timezone.now()).exists()


def lease_release(*, name: str, owner: str) -> None:
    Lease.objects.filter(name=name, owner=owner).delete()
