"""End to end: posts scheduled a few seconds ahead go out through a real Celery beat
and worker (separate processes, Redis broker, PostgreSQL) and appear on the network
exactly once.

Parametrized by network: the Sandbox, the Mastodon test server, the Threads test server
and the real local Bluesky PDS (``@atproto/dev-env``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ChannelAccount, SandboxPost
from publishing.models import JobStatus, Post, PostStatus, PublishJob
from publishing.services.posts import post_schedule
from publishing.tests.fixtures import Team, approved
from publishing.tests.processes import CeleryProcesses, require_postgres_and_redis

POSTS_PER_NETWORK = 3


@dataclass
class Network:
    account: ChannelAccount
    # The texts of the account's own posts as the network has them.
    published_texts: Callable[[], list[str]]


def sandbox_network(request: pytest.FixtureRequest, team: Team) -> Network:
    account = team.account

    def texts() -> list[str]:
        return list(
            SandboxPost.objects.filter(account=account, is_own=True).values_list("text", flat=True)
        )

    return Network(account, texts)


def mastodon_network(request: pytest.FixtureRequest, team: Team) -> Network:
    server = request.getfixturevalue("mastodon_server")
    account = ChannelAccount.objects.create(
        organization=team.alice.organization,
        network="mastodon",
        handle="@comms@social.example",
        server_url=server.base_url,
        remote_id=server.user.id,
        credentials={"access_token": server.issue_token()},
    )
    return Network(account, lambda: [s.text for s in server.statuses_of(server.user)])


def bluesky_network(request: pytest.FixtureRequest, team: Team) -> Network:
    """An account on the real local Bluesky PDS, connected with an app password."""
    from accounts.services import channel_account_connect_bluesky

    bsky = request.getfixturevalue("bsky_network")
    settings = request.getfixturevalue("settings")
    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = True
    settings.BLUESKY_PLC_URL = bsky.plc_url
    settings.BLUESKY_DEFAULT_SERVICE = bsky.pds_url
    remote = bsky.create_account("cityhall")
    account = channel_account_connect_bluesky(
        organization=team.alice.organization,
        actor=team.alice.user,
        handle=remote.handle,
        app_password=bsky.create_app_password(remote, "GovSocial"),
    )

    def texts() -> list[str]:
        listed = bsky.call(
            "GET",
            "com.atproto.repo.listRecords",
            params={"repo": remote.did, "collection": "app.bsky.feed.post", "limit": 100},
        )
        return [record["value"]["text"] for record in listed["records"]]

    return Network(account, texts)


def threads_network(request: pytest.FixtureRequest, team: Team) -> Network:
    server = request.getfixturevalue("threads_server")
    account = ChannelAccount.objects.create(
        organization=team.alice.organization,
        network="threads",
        handle="@cityofexample",
        server_url=server.base_url,
        remote_id=server.user.id,
        credentials={"access_token": server.issue_token()},
    )
    return Network(account, lambda: [m.text for m in server.posts_of(server.user)])


NETWORKS: dict[str, Callable[[pytest.FixtureRequest, Team], Network]] = {
    "sandbox": sandbox_network,
    "mastodon": mastodon_network,
    "bluesky": bluesky_network,
    "threads": threads_network,
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("network_name", sorted(NETWORKS))
def test_scheduled_posts_appear_on_the_network_exactly_once(request, team, tmp_path, network_name):
    broker_url = require_postgres_and_redis()
    network = NETWORKS[network_name](request, team)
    texts = [f"Notice {n} from the city ({network_name})" for n in range(POSTS_PER_NETWORK)]
    with CeleryProcesses(tmp_path, broker_url=broker_url) as celery:
        celery.start_worker()
        celery.start_beat()
        due = timezone.now() + timedelta(seconds=3)
        posts = []
        for text in texts:
            post = approved(team, text, account=network.account)
            post_schedule(post=post, membership=team.eddie, at=due)
            posts.append(post)
        ids = [p.pk for p in posts]
        celery.wait_for(
            lambda: (
                Post.objects.filter(pk__in=ids, status=PostStatus.PUBLISHED).count() == len(ids)
            ),
            "every post to be published",
        )
    assert sorted(network.published_texts()) == sorted(texts)
    jobs = PublishJob.objects.filter(post_id__in=ids)
    assert {j.status for j in jobs} == {JobStatus.PUBLISHED}
    assert {j.attempts for j in jobs} == {1}
    assert all(j.published_at and j.published_at >= j.due_at for j in jobs)  # never early
