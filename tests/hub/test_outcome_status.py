"""An outcome's status is an OutcomeStatus: each final one is stored as the item status of the same value."""

from typing import cast

import pytest

from hub import partners
from hub.flow import Outcome, OutcomeStatus
from hub.models import Item, OutboundCall
from hub.outcomes import item_apply_outcomes


@pytest.mark.parametrize("status", [OutcomeStatus.SUCCESS, OutcomeStatus.ERROR, OutcomeStatus.CANCELLED])
def test_it_stores_a_final_outcome_as_the_item_status_of_the_same_value(status):
    item = Item(id=1, seq=1, status=Item.Status.PENDING)
    item_apply_outcomes(items=[item], outcomes={1: Outcome(status, error="said so")})
    assert item.status == Item.Status(status.value)
    assert type(item.status) is Item.Status
    assert (item.attempts, item.last_error, item.next_attempt_at) == (1, "said so", None)


def test_a_technical_outcome_has_no_item_status():
    with pytest.raises(ValueError, match="retried"):
        _ = OutcomeStatus.TECHNICAL.item_status


def test_it_refuses_a_status_that_is_no_outcome():
    with pytest.raises(ValueError, match="FAILURE"):
        Outcome(cast(OutcomeStatus, Item.Status.FAILURE))


def test_it_reads_a_partner_answer_as_success_technical_or_business_error():
    def result(outcome: str) -> partners.Result:
        return partners.Result(outcome=outcome, status=200, body={"k": 1}, error="why", call=None)

    assert Outcome.of(result(OutboundCall.Outcome.SUCCESS)).status is OutcomeStatus.SUCCESS
    assert Outcome.of(result(OutboundCall.Outcome.TECHNICAL)).status is OutcomeStatus.TECHNICAL
    assert Outcome.of(result(OutboundCall.Outcome.BUSINESS)).status is OutcomeStatus.ERROR
