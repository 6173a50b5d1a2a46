"""The writing guidelines in the inbox reply box: the short style guide shown with a link
to the full policy, and a banned word stopping the reply before it is sent."""

from __future__ import annotations

import pytest

from accounts.models import SandboxPost
from governance.models import Policy
from inbox.models import Reply
from inbox.tests.test_views_item import _synced_reply
from publishing.models import StyleGuide, WordRule

pytestmark = pytest.mark.django_db


def test_the_reply_box_shows_the_short_style_guide(client, personas, login):
    policy = Policy.objects.create(organization=personas.org, title="Tone of voice")
    StyleGuide.objects.create(organization=personas.org, text="Answer kindly.", policy=policy)
    StyleGuide.objects.create(organization=personas.other_org, text="Not ours.")
    _post, item = _synced_reply(personas)
    login(client, personas.bob)
    page = client.get(f"/inbox/{item.pk}/").content.decode()
    assert "Answer kindly." in page
    assert f'href="/governance/policies/{policy.pk}/">Read the full policy: Tone of voice' in page
    assert "Not ours." not in page


def test_a_banned_word_stops_a_reply_before_it_is_sent(client, personas, login):
    WordRule.objects.create(
        organization=personas.org,
        language="en",
        phrase="customer",
        severity="banned",
        alternative="resident",
        match_prefix=True,
    )
    WordRule.objects.create(
        organization=personas.org, language="en", phrase="asap", severity="discouraged"
    )
    _post, item = _synced_reply(personas)
    login(client, personas.bob)
    response = client.post(f"/inbox/{item.pk}/reply/", {"body": "Dear Customers, on Monday."})
    assert response.status_code == 400
    assert "“Customers” is not used in our posts: write “resident”." in response.content.decode()
    assert not Reply.objects.exists()
    assert not SandboxPost.objects.filter(is_own=True, in_reply_to__remote_id=item.remote_id)
    # A discouraged word does not stop it.
    response = client.post(f"/inbox/{item.pk}/reply/", {"body": "On Monday, asap."})
    assert response.status_code == 302
    assert Reply.objects.count() == 1
