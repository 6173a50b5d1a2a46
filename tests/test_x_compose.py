"""Writing for X: the composer's checks count the text the way X does."""

from __future__ import annotations

import pytest

from publishing.tests.fixtures import Team, draft
from publishing.validation import variant_problems
from tests.factories import ChannelAccountFactory


@pytest.mark.django_db
def test_an_x_variant_is_counted_with_xs_weights(team: Team):
    account = ChannelAccountFactory.create(
        organization=team.alice.organization, network="x", handle="@KaupunkiX"
    )
    long_cjk = draft(team.eddie, account, "漢" * 141).variants.get()
    fits = draft(
        team.eddie, account, "Lue lisää: https://www.hel.fi/" + "a" * 200 + " 🇫🇮"
    ).variants.get()

    assert "The text is 282 characters long; the limit is 280." in variant_problems(
        long_cjk, require_alt_text=False
    )
    assert variant_problems(fits, require_alt_text=False) == []
