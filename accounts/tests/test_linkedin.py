"""The LinkedIn connector against the local LinkedIn test server."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import LazySettings

from accounts.connectors.base import (
    AuthError,
    MediaItem,
    OAuthClient,
    PublishRequest,
    RateLimited,
    Rejected,
    RemoteRef,
    UnknownOutcome,
)
from accounts.connectors.linkedin import (
    SCOPES,
    LinkedInConnector,
    LinkedInSignIn,
    escape_little_text,
    unescape_little_text,
    version_warning,
)
from accounts.connectors.registry import get_connector
from accounts.models import ChannelAccount, NetworkApp
from accounts.selectors import (
    channel_accounts_due_for_refresh,
    channel_accounts_with_expiring_credentials,
)
from accounts.services import (
    channel_account_notify_expiring_credentials,
    channel_account_refresh_credentials,
)
from accounts.tests.helpers import channel_account
from governance.models import Notification, Role
from tests.factories import MembershipFactory
from tests.linkedin_server.server import LinkedInTestServer, Organization

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 256


@pytest.fixture
def connector() -> LinkedInConnector:
    found = get_connector("linkedin")
    assert isinstance(found, LinkedInConnector)
    return found


@pytest.fixture
def page(linkedin_server: LinkedInTestServer) -> Organization:
    return linkedin_server.create_organization(
        "Kaupunki Esimerkki", admin=linkedin_server.member, followers_organic=120
    )


@pytest.fixture
def account(linkedin_server: LinkedInTestServer, page: Organization) -> ChannelAccount:
    return channel_account(
        network="linkedin",
        handle=page.vanity_name,
        display_name=page.name,
        remote_id=str(page.id),
        server_url=linkedin_server.base_url,
        credentials={"access_token": linkedin_server.issue_token()},
    )


def test_it_publishes_text_as_the_page_with_the_versioned_headers(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
    page: Organization, settings: LazySettings,
) -> None:  # fmt: skip
    settings.LINKEDIN_API_VERSION = "202609"
    result = connector.publish(account, PublishRequest(text="Uimahalli (kesä) auki! #Espoo"))

    assert result.remote_id.startswith("urn:li:share:")
    assert result.url == f"https://www.linkedin.com/feed/update/{result.remote_id}/"
    [post] = linkedin_server.posts_of(page)
    assert post.commentary == r"Uimahalli \(kesä\) auki! {hashtag|\#|Espoo}"
    [sent] = linkedin_server.requests_to("POST", "/rest/posts")
    assert sent.headers["linkedin-version"] == "202609"
    assert sent.headers["x-restli-protocol-version"] == "2.0.0"
    body = json.loads(sent.body)
    assert body["author"] == page.urn
    assert body["distribution"]["feedDistribution"] == "MAIN_FEED"


def test_little_text_round_trips() -> None:
    text = "A_b *c* [d] <e> {f} @g #Hashtag \\ ~h | i"
    assert unescape_little_text(escape_little_text(text)) == text


def test_it_publishes_one_image_with_its_alt_text(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
    page: Organization,
) -> None:  # fmt: skip
    image = MediaItem(content=PNG, mime_type="image/png", alt_text="Uimahallin allas")
    connector.publish(account, PublishRequest(text="Kuva", media=[image]))

    [post] = linkedin_server.posts_of(page)
    assert post.content is not None
    urn = post.content["media"]["id"]
    assert post.content["media"]["altText"] == "Uimahallin allas"
    assert linkedin_server.assets[urn].content == PNG
    assert linkedin_server.assets[urn].owner == page.urn


def test_it_publishes_several_images_as_a_multi_image_post(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
    page: Organization,
) -> None:  # fmt: skip
    images = [
        MediaItem(content=PNG, mime_type="image/png", alt_text=f"Kuva {n}") for n in (1, 2, 3)
    ]
    connector.publish(account, PublishRequest(text="Kolme kuvaa", media=images))

    [post] = linkedin_server.posts_of(page)
    assert post.content is not None
    assert [i["altText"] for i in post.content["multiImage"]["images"]] == [
        "Kuva 1",
        "Kuva 2",
        "Kuva 3",
    ]


def test_it_publishes_a_pdf_as_a_document_post_after_linkedin_processes_it(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
    page: Organization,
) -> None:  # fmt: skip
    report = MediaItem(content=PDF, mime_type="application/pdf", filename="vuosikertomus.pdf")
    connector.publish(account, PublishRequest(text="Vuosikertomus", media=[report]))

    [post] = linkedin_server.posts_of(page)
    assert post.content is not None
    assert post.content["media"]["title"] == "vuosikertomus.pdf"
    assert post.content["media"]["id"].startswith("urn:li:document:")
    # The document was still processing at the first look; the connector waited.
    assert linkedin_server.client_waits


def test_it_refuses_a_document_beside_images(connector: LinkedInConnector) -> None:
    media = [
        MediaItem(content=PDF, mime_type="application/pdf"),
        MediaItem(content=PNG, mime_type="image/png", alt_text="x"),
    ]
    problems = connector.validate(PublishRequest(text="x", media=media))
    assert "A LinkedIn post takes one document alone, without images." in problems


def test_it_turns_a_link_into_an_article_card_with_the_page_title(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
    page: Organization,
) -> None:  # fmt: skip
    linkedin_server.web_pages["raportti"] = (
        '<html><head><meta property="og:title" content="Vuoden raportti">'
        '<meta name="description" content="Kaikki luvut"></head></html>'
    )
    link = f"{linkedin_server.base_url}/web/raportti"
    connector.publish(account, PublishRequest(text=f"Lue raportti: {link}"))

    [post] = linkedin_server.posts_of(page)
    assert post.content == {
        "article": {"source": link, "title": "Vuoden raportti", "description": "Kaikki luvut"}
    }


def test_a_duplicate_is_the_earlier_post_when_it_still_exists(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
    page: Organization,
) -> None:  # fmt: skip
    first = connector.publish(account, PublishRequest(text="Sama teksti"))
    again = connector.publish(account, PublishRequest(text="Sama teksti"))

    assert again.remote_id == first.remote_id
    assert len(linkedin_server.posts_of(page)) == 1
    assert linkedin_server.requests_to("GET", f"/rest/posts/{first.remote_id}")


def test_a_duplicate_of_a_deleted_post_is_refused_in_words(
    connector: LinkedInConnector, account: ChannelAccount
) -> None:
    first = connector.publish(account, PublishRequest(text="Poistettu"))
    connector.delete(account, first.ref)

    with pytest.raises(Rejected) as refused:
        connector.publish(account, PublishRequest(text="Poistettu"))
    assert "deleted" in refused.value.message


def test_a_lost_answer_is_an_unknown_outcome_and_the_post_is_found_by_lookup(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    sent_at = datetime.now(UTC) - timedelta(seconds=1)
    monkeypatch.setattr(connector, "timeout", (2.0, 0.5))
    linkedin_server.hang(method="POST", path_prefix="/rest/posts", after_processing=True)
    with pytest.raises(UnknownOutcome):
        connector.publish(account, PublishRequest(text="Hukattu vastaus (1/2)"))
    linkedin_server.release()

    recent = connector.lookup_recent(account, since=sent_at)
    assert [p.text for p in recent] == ["Hukattu vastaus (1/2)"]


def test_lookup_pages_until_older_than_the_first_attempt(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
    page: Organization,
) -> None:  # fmt: skip
    for n in range(120):
        connector.publish(account, PublishRequest(text=f"Post {n}"))
    posts = sorted(linkedin_server.posts_of(page), key=lambda p: p.created_at)
    # LinkedIn gives times in milliseconds.
    moment = posts[40].created_at
    since = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    linkedin_server.requests.clear()

    recent = connector.lookup_recent(account, since=since)

    assert {p.text for p in recent} == {f"Post {n}" for n in range(40, 120)}
    finds = linkedin_server.requests_to("GET", "/rest/posts")
    assert len(finds) == 2
    assert "urn%3Ali%3Aorganization%3A" in finds[0].query


@pytest.mark.parametrize(
    ("version", "words"),
    [("", "no longer accepts API version"), ("202301", "no longer accepts API version 202301")],
)
def test_a_missing_or_sunset_version_says_what_to_change(
    connector: LinkedInConnector, account: ChannelAccount, settings: LazySettings,
    version: str, words: str,
) -> None:  # fmt: skip
    settings.LINKEDIN_API_VERSION = version
    with pytest.raises(Rejected) as refused:
        connector.publish(account, PublishRequest(text="x"))
    assert words in refused.value.message
    assert "LINKEDIN_API_VERSION" in refused.value.message


def test_it_warns_within_two_months_of_the_versions_sunset(settings: LazySettings) -> None:
    settings.LINKEDIN_API_VERSION = "202601"
    assert version_warning(today=date(2026, 11, 1)) is None
    warning = version_warning(today=date(2026, 12, 7))
    assert warning is not None
    assert (warning.sunset, warning.days_left) == (date(2027, 1, 15), 39)


def test_a_revoked_token_asks_an_admin_to_reconnect(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer
) -> None:
    linkedin_server.tokens[account.credentials["access_token"]].revoked = True
    with pytest.raises(AuthError) as failed:
        connector.publish(account, PublishRequest(text="x"))
    assert failed.value.status_code == 401
    assert "withdrew" in failed.value.message
    assert "65601" in failed.value.detail


def test_a_lost_page_admin_role_is_an_auth_error_in_words(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
    page: Organization,
) -> None:  # fmt: skip
    del linkedin_server.acls[(linkedin_server.member.id, page.id)]
    with pytest.raises(AuthError) as failed:
        connector.publish(account, PublishRequest(text="x"))
    assert "no longer one of its admins" in failed.value.message
    with pytest.raises(AuthError):
        connector.check_health(account)


def test_the_daily_limit_waits_until_after_midnight_utc(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer
) -> None:
    linkedin_server.daily_limit = 0
    with pytest.raises(RateLimited) as limited:
        connector.lookup_recent(account)
    assert limited.value.retry_after is not None
    assert 60 < limited.value.retry_after <= 24 * 3600 + 60
    assert "daily limit" in limited.value.message


def test_the_inbox_holds_comments_and_replies_but_not_the_pages_own(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
) -> None:  # fmt: skip
    post = connector.publish(account, PublishRequest(text="Kysy meiltä"))
    citizen = linkedin_server.create_member("Matti Meikäläinen")
    question = linkedin_server.comment_as(citizen, post.remote_id, "Milloin auki?")
    first = connector.fetch_inbox(account, None)
    assert [i.text for i in first.items] == ["Milloin auki?"]
    assert first.items[0].remote_id == question.urn
    assert first.items[0].in_reply_to == RemoteRef(remote_id=post.remote_id)

    answer = connector.reply(
        account,
        PublishRequest(text="Huomenna klo 6", reply_to=RemoteRef(remote_id=question.urn)),
    )
    follow_up = linkedin_server.comment_as(citizen, post.remote_id, "Kiitos!", parent=question)
    later = connector.fetch_inbox(account, first.next_cursor)

    sent = linkedin_server.comments[answer.remote_id]
    assert (sent.actor, sent.parent_comment) == (
        f"urn:li:organization:{account.remote_id}",
        question.urn,
    )
    assert [i.remote_id for i in later.items if i.remote_id != question.urn] == [follow_up.urn]
    reply_item = next(i for i in later.items if i.remote_id == follow_up.urn)
    assert reply_item.thread_root == RemoteRef(remote_id=question.urn)


def test_an_answer_to_a_reply_goes_under_the_first_comment(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
) -> None:  # fmt: skip
    post = connector.publish(account, PublishRequest(text="Ketju"))
    citizen = linkedin_server.create_member("Maija")
    top = linkedin_server.comment_as(citizen, post.remote_id, "Eka")
    nested = linkedin_server.comment_as(citizen, post.remote_id, "Toka", parent=top)

    answer = connector.reply(
        account,
        PublishRequest(
            text="Vastaus",
            reply_to=RemoteRef(remote_id=nested.urn),
            thread_root=RemoteRef(remote_id=top.urn),
        ),
    )
    assert linkedin_server.comments[answer.remote_id].parent_comment == top.urn


def test_metrics_come_from_share_and_follower_statistics(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
) -> None:  # fmt: skip
    kept = connector.publish(account, PublishRequest(text="Mitattava"))
    gone = connector.publish(account, PublishRequest(text="Poistuva"))
    stored = linkedin_server.posts[kept.remote_id]
    stored.impressions, stored.likes, stored.shares = 500, 12, 3
    linkedin_server.comment_as(linkedin_server.create_member("M"), kept.remote_id, "Hyvä")
    connector.delete(account, gone.ref)

    metrics = {m.remote_id: m for m in connector.fetch_post_metrics(account, [kept.ref, gone.ref])}

    assert (metrics[kept.remote_id].impressions, metrics[kept.remote_id].likes) == (500, 12)
    assert (metrics[kept.remote_id].shares, metrics[kept.remote_id].replies) == (3, 1)
    assert metrics[gone.remote_id].deleted
    assert connector.fetch_account_metrics(account).followers == 120


def _sign_in(
    connector: LinkedInConnector, server: LinkedInTestServer, *, refresh_tokens: bool
) -> tuple[OAuthClient, LinkedInSignIn]:
    app = server.create_app(redirect_uris=["http://testserver/cb"], refresh_tokens=refresh_tokens)
    client = OAuthClient(
        server_url=server.base_url,
        client_id=app.client_id,
        client_secret=app.client_secret,
        redirect_uri="http://testserver/cb",
        scopes=SCOPES,
    )
    start = connector.oauth_start(client=client)
    answer = server.approve(start.authorization_url)
    return client, connector.sign_in(
        client=client,
        code=answer["code"],
        returned_state=answer["state"],
        expected_state=start.state,
    )


def test_signing_in_lists_the_pages_the_member_administers(
    connector: LinkedInConnector, linkedin_server: LinkedInTestServer, page: Organization,
) -> None:  # fmt: skip
    linkedin_server.create_organization("Museo", admin=linkedin_server.member, role="ANALYST")
    linkedin_server.create_organization("Not ours")

    _client, signed_in = _sign_in(connector, linkedin_server, refresh_tokens=False)

    assert [(p.name, p.can_post) for p in signed_in.pages] == [
        ("Kaupunki Esimerkki", True),
        ("Museo", False),
    ]
    assert "refresh_token" not in signed_in.credentials
    assert signed_in.expires_at - datetime.now(UTC) > timedelta(days=59)


def test_a_wrong_state_is_refused(
    connector: LinkedInConnector, linkedin_server: LinkedInTestServer
) -> None:
    app = linkedin_server.create_app(redirect_uris=["http://testserver/cb"])
    client = OAuthClient(
        server_url=linkedin_server.base_url,
        client_id=app.client_id,
        client_secret=app.client_secret,
        redirect_uri="http://testserver/cb",
        scopes=SCOPES,
    )
    start = connector.oauth_start(client=client)
    answer = linkedin_server.approve(start.authorization_url)
    with pytest.raises(AuthError):
        connector.sign_in(
            client=client, code=answer["code"], returned_state="forged", expected_state=start.state
        )


def test_a_partner_app_renews_the_token_and_others_are_warned_instead(
    connector: LinkedInConnector, linkedin_server: LinkedInTestServer, page: Organization,
) -> None:  # fmt: skip
    client, partner = _sign_in(connector, linkedin_server, refresh_tokens=True)
    _other_client, plain = _sign_in(connector, linkedin_server, refresh_tokens=False)
    soon = datetime.now(UTC) + timedelta(hours=12)
    renewable = channel_account(
        network="linkedin", handle="partner", remote_id=str(page.id),
        server_url=linkedin_server.base_url, credentials=dict(partner.credentials),
        credentials_expire_at=soon,
    )  # fmt: skip
    NetworkApp.objects.create(
        organization=renewable.organization,
        network="linkedin",
        client_id=client.client_id,
        client_secret=client.client_secret,
    )
    stuck = channel_account(
        organization=renewable.organization, network="linkedin", handle="plain",
        remote_id=str(page.id), server_url=linkedin_server.base_url,
        credentials=dict(plain.credentials), credentials_expire_at=soon,
    )  # fmt: skip

    assert list(channel_accounts_due_for_refresh()) == [renewable]
    assert channel_accounts_with_expiring_credentials() == [stuck]

    old_token = renewable.credentials["access_token"]
    channel_account_refresh_credentials(account=renewable)
    renewable.refresh_from_db()
    assert renewable.credentials["access_token"] != old_token
    assert renewable.credentials["refresh_token"] == partner.credentials["refresh_token"]
    assert renewable.credentials_expire_at is not None
    assert renewable.credentials_expire_at > datetime.now(UTC) + timedelta(days=59)
    connector.publish(renewable, PublishRequest(text="Uusi avain toimii"))


def test_a_token_refused_right_after_consent_is_tried_once_more(
    connector: LinkedInConnector, linkedin_server: LinkedInTestServer, page: Organization,
) -> None:  # fmt: skip
    linkedin_server.fail_next(
        401,
        path_prefix="/rest/organizationAcls",
        body={
            "status": 401,
            "serviceErrorCode": 65601,
            "code": "REVOKED_ACCESS_TOKEN",
            "message": "The token used in the request has been revoked by the user",
        },
    )
    _client, signed_in = _sign_in(connector, linkedin_server, refresh_tokens=False)
    assert [p.name for p in signed_in.pages] == ["Kaupunki Esimerkki"]
    assert linkedin_server.client_waits == [3.0]


def test_the_expiry_notice_explains_reconnecting_on_linkedin(account: ChannelAccount) -> None:
    admin = MembershipFactory.create(organization=account.organization, role=Role.ADMIN)
    account.credentials_expire_at = datetime.now(UTC) + timedelta(days=13)
    account.save(update_fields=["credentials_expire_at"])

    assert channel_account_notify_expiring_credentials(account=account)

    notice = Notification.objects.get(user=admin.user)
    assert "chooses Reconnect, signs in at LinkedIn and ticks the same page" in notice.message
