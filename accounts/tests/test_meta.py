"""Facebook Pages and Instagram connectors against the local Graph server.

Field names we send and parse are checked against the official
``facebook-business`` package's object descriptions (``…adobjects.*.Field``)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from facebook_business.adobjects.comment import Comment as SdkComment
from facebook_business.adobjects.igcomment import IGComment
from facebook_business.adobjects.igmedia import IGMedia
from facebook_business.adobjects.iguser import IGUser
from facebook_business.adobjects.page import Page as SdkPage
from facebook_business.adobjects.pagepost import PagePost
from facebook_business.adobjects.photo import Photo as SdkPhoto
from PIL import Image

from accounts.connectors import facebook, graph, instagram
from accounts.connectors.base import (
    AuthError,
    MediaItem,
    PublishRequest,
    RateLimited,
    Rejected,
    RemoteRef,
    TransientError,
    UnknownOutcome,
)
from accounts.connectors.registry import get_connector
from accounts.models import NetworkApp
from accounts.tests.helpers import channel_account

REDIRECT_URI = "https://govsocial.example/accounts/meta/callback/"


def jpeg(width: int = 1080, height: int = 1080) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def page(graph_server):
    return graph_server.create_page(
        "City of Example", with_instagram="cityofexample", followers=1200
    )


@pytest.fixture
def fb_account(db, graph_server, page):
    account = channel_account(
        network="facebook",
        handle=page.name,
        remote_id=page.id,
        server_url=graph_server.base_url,
        credentials={"access_token": page.token, "user_token": graph_server.user_token()},
    )
    NetworkApp.objects.create(
        organization=account.organization,
        network="meta",
        client_id=graph_server.app_id,
        client_secret=graph_server.app_secret,
    )
    return account


@pytest.fixture
def ig_account(db, graph_server, page, fb_account):
    return channel_account(
        network="instagram",
        handle="@cityofexample",
        remote_id=page.ig_id,
        server_url=graph_server.base_url,
        organization=fb_account.organization,
        credentials={"access_token": page.token, "page_id": page.id},
    )


def _sdk_fields(cls) -> set[str]:
    return {getattr(cls.Field, name) for name in dir(cls.Field) if not name.startswith("_")}


def _names(field_list: str) -> set[str]:
    return set(graph_fields(field_list))


def graph_fields(field_list: str) -> list[str]:
    names, depth, current = [], 0, ""
    for char in field_list:
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        elif char == "," and depth == 0:
            names.append(current)
            current = ""
            continue
        if depth == 0 and char not in ")}":
            current += char
    names.append(current)
    return [n.split(".")[0] for n in names if n]


# --- the field names we use exist on Meta's objects


def test_it_asks_only_for_fields_that_meta_objects_have():
    page_fields = _sdk_fields(SdkPage)
    assert _names(facebook.API.fields["page_profile"]) <= page_fields
    assert _names(facebook.API.fields["page_instagram"]) <= page_fields
    assert _names(facebook.API.fields["post"]) <= _sdk_fields(PagePost)
    assert _names(facebook.API.fields["post_counts"]) - {"comments", "reactions"} <= _sdk_fields(
        PagePost
    )
    # The SDK spells ``from`` as ``field_from`` (a Python keyword).
    comment_fields = _sdk_fields(SdkComment) | {"from"}
    assert _names(facebook.API.fields["comment"]) <= comment_fields
    assert "alt_text_custom" in _sdk_fields(SdkPhoto)
    assert _names(instagram.API.fields["media"]) <= _sdk_fields(IGMedia)
    assert _names(instagram.API.fields["media_counts"]) <= _sdk_fields(IGMedia)
    assert _names(instagram.API.fields["profile"]) <= _sdk_fields(IGUser)
    ig_comment_fields = _sdk_fields(IGComment) | {"from"}
    assert _names(instagram.API.fields["comment"]) <= ig_comment_fields
    assert _names(instagram.API.fields["mentioned_comment"]) <= ig_comment_fields
    assert {"mentioned_comment", "followers_count", "media_count"} <= _sdk_fields(IGUser)
    assert "alt_text" in _sdk_fields(IGMedia)


# --- the Graph helper


def test_it_parses_graph_times_without_a_colon_in_the_offset():
    moment = graph.parse_time("2024-05-01T10:00:00+0000")
    assert moment is not None and moment.isoformat() == "2024-05-01T10:00:00+00:00"
    assert graph.format_time(moment) == "2024-05-01T10:00:00+0000"
    assert graph.parse_time("yesterday") is None


def test_it_reads_usage_headers_holding_json():
    usage = graph.parse_usage(
        {
            "X-App-Usage": '{"call_count":28,"total_time":25,"total_cputime":25}',
            "X-Business-Use-Case-Usage": json.dumps(
                {
                    "123": [
                        {
                            "type": "pages",
                            "call_count": 96,
                            "total_cputime": 10,
                            "total_time": 12,
                            "estimated_time_to_regain_access": 7,
                        }
                    ]
                }
            ),
        }
    )
    assert usage.percent == 96
    assert usage.regain_seconds == 7 * 60
    assert graph.parse_usage({"X-App-Usage": "not json"}).percent == 0


def test_it_redacts_tokens_in_next_urls():
    url = "https://graph.facebook.com/v25.0/1/feed?access_token=EAAsecret&after=QVFI&limit=25"
    assert graph.redact(url) == (
        "https://graph.facebook.com/v25.0/1/feed?access_token=REDACTED&after=QVFI&limit=25"
    )


def test_it_reads_insights_in_both_shapes():
    body = {
        "data": [
            {
                "name": "reach",
                "period": "day",
                "values": [
                    {"value": 3, "end_time": "2024-05-01T07:00:00+0000"},
                    {"value": 5, "end_time": "2024-05-02T07:00:00+0000"},
                ],
            },
            {"name": "views", "period": "day", "total_value": {"value": 42, "breakdowns": []}},
            {
                "name": "post_reactions_by_type_total",
                "period": "lifetime",
                "values": [{"value": {"like": 3, "love": 2}}],
            },
        ]
    }
    assert graph.insight_values(body) == {
        "reach": 5,
        "views": 42,
        "post_reactions_by_type_total": 5,
    }


def test_it_checks_webhook_signatures_on_the_raw_body(graph_server):
    body, signature = graph_server.signed_delivery({"object": "page", "entry": []})
    assert graph.signature_valid(graph_server.app_secret, body, signature)
    assert not graph.signature_valid(graph_server.app_secret, body + b" ", signature)
    assert not graph.signature_valid(graph_server.app_secret, body, "")
    assert not graph.signature_valid("another secret", body, signature)


# --- errors in the five kinds


def test_a_revoked_token_asks_for_reconnecting_and_says_why(fb_account, graph_server, page):
    graph_server.revoke(page.token, subcode=460)
    with pytest.raises(AuthError) as caught:
        facebook.FacebookConnector().check_health(fb_account)
    assert "password" in caught.value.message
    assert "190/460" in caught.value.detail


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001, 80014])
def test_throttling_codes_are_rate_limits_with_metas_wait(fb_account, graph_server, code):
    usage = {
        "X-Business-Use-Case-Usage": json.dumps(
            {
                fb_account.remote_id: [
                    {"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 12}
                ]
            }
        )
    }
    graph_server.fail_next(code, message="(#4) Application request limit reached", headers=usage)
    with pytest.raises(RateLimited) as caught:
        facebook.FacebookConnector().fetch_account_metrics(fb_account)
    assert caught.value.retry_after == 12 * 60


def test_reads_wait_while_usage_is_near_the_limit(fb_account, graph_server):
    connector = facebook.FacebookConnector()
    graph_server.usage_percent = 95
    graph_server.regain_minutes = 3
    assert connector.fetch_account_metrics(fb_account).followers == 1200
    calls = len(graph_server.requests)
    with pytest.raises(RateLimited) as caught:
        connector.fetch_account_metrics(fb_account)
    assert caught.value.retry_after == 180
    assert len(graph_server.requests) == calls  # nothing was sent
    assert "95%" in caught.value.message


@pytest.mark.parametrize(
    ("code", "kind"),
    [(1, TransientError), (2, TransientError), (100, Rejected), (368, Rejected), (506, Rejected)],
)
def test_other_codes_fall_in_their_kinds(fb_account, graph_server, code, kind):
    graph_server.fail_next(code, message="Something", path_prefix=f"/{fb_account.remote_id}/feed")
    with pytest.raises(kind):
        facebook.FacebookConnector().publish(fb_account, PublishRequest(text="Hello"))


def test_a_timeout_on_a_write_is_an_unknown_outcome(fb_account, graph_server):
    connector = facebook.FacebookConnector()
    connector.timeout = (2.0, 0.3)
    graph_server.hang(
        method="POST", path_prefix=f"/{fb_account.remote_id}/feed", after_processing=True
    )
    try:
        with pytest.raises(UnknownOutcome):
            connector.publish(fb_account, PublishRequest(text="Road works on Main Street"))
    finally:
        graph_server.release()
    # It did reach the Page: the look-up finds it, so the dispatcher will not send it again.
    recent = connector.lookup_recent(fb_account, since=None)
    assert [p.text for p in recent] == ["Road works on Main Street"]


# --- connecting


def test_facebook_login_gives_a_long_lived_token_and_lists_pages_with_instagram(graph_server, page):
    second = graph_server.create_page("Library")
    start = facebook.login_start(app_id=graph_server.app_id, redirect_uri=REDIRECT_URI)
    query = parse_qs(urlsplit(start.authorization_url).query)
    assert urlsplit(start.authorization_url).path == "/v26.0/dialog/oauth"
    assert query["scope"] == [",".join(facebook.LOGIN_SCOPES)]
    answer = graph_server.approve(start.authorization_url)
    login = facebook.login_finish(
        app_id=graph_server.app_id,
        app_secret=graph_server.app_secret,
        redirect_uri=REDIRECT_URI,
        code=answer["code"],
        returned_state=answer["state"],
        expected_state=start.state,
    )
    assert graph_server.tokens[login.user_token].expires_at is not None
    assert set(login.scopes) == set(facebook.LOGIN_SCOPES)
    assert login.data_access_expires_at is not None
    assets = facebook.login_assets(user_token=login.user_token)
    by_name = {a.page_name: a for a in assets}
    assert by_name["City of Example"].ig_id == page.ig_id
    assert by_name["City of Example"].ig_username == "cityofexample"
    assert by_name["Library"].ig_id == ""
    assert by_name["Library"].page_token == second.token


def test_pages_are_read_across_cursor_pages(graph_server):
    for number in range(60):
        graph_server.create_page(f"Page {number}")
    assets = facebook.login_assets(user_token=graph_server.user_token())
    assert len(assets) == 60
    pages_calls = graph_server.requests_to("GET", "/me/accounts")
    assert len(pages_calls) == 2  # 50 per page, then the last page without paging.next


def test_a_forged_state_is_refused(graph_server):
    start = facebook.login_start(app_id=graph_server.app_id, redirect_uri=REDIRECT_URI)
    answer = graph_server.approve(start.authorization_url)
    with pytest.raises(AuthError):
        facebook.login_finish(
            app_id=graph_server.app_id,
            app_secret=graph_server.app_secret,
            redirect_uri=REDIRECT_URI,
            code=answer["code"],
            returned_state="forged",
            expected_state=start.state,
        )


def test_health_shows_granted_and_missing_permissions(fb_account, graph_server):
    fb_account.credentials = {
        **fb_account.credentials,
        "user_token": graph_server.user_token(scopes={"pages_show_list", "pages_manage_posts"}),
    }
    result = facebook.FacebookConnector().check_health(fb_account)
    assert set(result.scopes) == {"pages_show_list", "pages_manage_posts"}
    missing = dict(facebook.missing_permissions(result.scopes, facebook.FACEBOOK_SCOPES))
    assert "pages_messaging" in missing
    assert "Messenger" in missing["pages_messaging"]


# --- Facebook: publishing, inbox, moderation, metrics


def test_it_publishes_text_and_links_on_the_page(fb_account, graph_server):
    connector = get_connector("facebook")
    result = connector.publish(
        fb_account, PublishRequest(text="Read the plan https://example.org/plan")
    )
    post = graph_server.posts[result.remote_id]
    assert post.message == "Read the plan https://example.org/plan"
    assert post.link == "https://example.org/plan"
    assert result.url == f"https://www.facebook.com/{result.remote_id}"


def test_it_publishes_several_photos_with_alt_text_in_one_post(fb_account, graph_server):
    media = [
        MediaItem(content=jpeg(), mime_type="image/jpeg", alt_text=f"Photo {n}") for n in (1, 2)
    ]
    result = get_connector("facebook").publish(
        fb_account, PublishRequest(text="Two photos", media=media)
    )
    post = graph_server.posts[result.remote_id]
    photos = [graph_server.photos[pid] for pid in post.attached_media]
    assert [p.alt_text for p in photos] == ["Photo 1", "Photo 2"]
    assert not any(p.published for p in photos)
    assert len(graph_server.posts_of(fb_account.remote_id)) == 1


def test_a_thread_part_becomes_the_first_comment(fb_account, graph_server):
    connector = get_connector("facebook")
    post = connector.publish(fb_account, PublishRequest(text="Main post"))
    comment = connector.publish(
        fb_account, PublishRequest(text="More at example.org", reply_to=post.ref)
    )
    assert graph_server.comments[comment.remote_id].object_id == post.remote_id
    recent = connector.lookup_recent(fb_account)
    assert any(
        p.ref.remote_id == comment.remote_id and p.reply_to_id == post.remote_id for p in recent
    )


def test_inbox_reads_comments_and_messenger_and_answers_them(fb_account, graph_server):
    connector = get_connector("facebook")
    post = connector.publish(fb_account, PublishRequest(text="Open day on Saturday"))
    comment = graph_server.comment_as(post.remote_id, "What time does it start?", name="Maija")
    graph_server.message_from(fb_account.remote_id, "Is the pool open?", name="Erik")
    page = connector.fetch_inbox(fb_account, None)
    kinds = {i.text: i.kind for i in page.items}
    assert kinds == {"What time does it start?": "reply", "Is the pool open?": "dm"}
    item = next(i for i in page.items if i.kind == "reply")
    assert item.thread_root == RemoteRef(remote_id=post.remote_id)
    assert item.author_name == "Maija"
    reply = connector.reply(
        fb_account, PublishRequest(text="At ten.", reply_to=RemoteRef(remote_id=comment.id))
    )
    assert graph_server.comments[reply.remote_id].parent_id == comment.id
    dm = next(i for i in page.items if i.kind == "dm")
    ref = RemoteRef(remote_id=dm.remote_id, extra={k: str(v) for k, v in dm.raw.items()})
    sent = connector.reply(
        fb_account, PublishRequest(text="Yes, until 8 pm.", reply_to=ref, visibility="direct")
    )
    conversation = next(iter(graph_server.conversations.values()))
    assert conversation.messages[-1].text == "Yes, until 8 pm."
    assert sent.remote_id == conversation.messages[-1].id
    # The next sync starts where this one ended and finds nothing new.
    again = connector.fetch_inbox(fb_account, page.next_cursor)
    assert {i.remote_id for i in again.items} <= {i.remote_id for i in page.items}


def test_a_message_older_than_24_hours_cannot_be_answered_and_says_why(fb_account, graph_server):
    graph_server.message_from(fb_account.remote_id, "Hello?", name="Old", ago=timedelta(hours=30))
    connector = get_connector("facebook")
    dm = connector.fetch_inbox(fb_account, None).items[0]
    ref = RemoteRef(remote_id=dm.remote_id, extra={k: str(v) for k, v in dm.raw.items()})
    reason = connector.reply_unavailable(fb_account, ref, direct=True)
    assert "24 hours" in reason
    with pytest.raises(Rejected) as caught:
        connector.reply(fb_account, PublishRequest(text="Hi", reply_to=ref, visibility="direct"))
    assert "24 hours" in caught.value.message
    assert not graph_server.requests_to("POST", "/messages")


def test_the_human_agent_tag_answers_within_seven_days_where_the_app_has_it(
    fb_account, graph_server
):
    NetworkApp.objects.filter(organization=fb_account.organization).update(
        options={"human_agent": True}
    )
    graph_server.human_agent_enabled = True
    graph_server.message_from(fb_account.remote_id, "Hello?", name="Old", ago=timedelta(days=2))
    connector = get_connector("facebook")
    dm = connector.fetch_inbox(fb_account, None).items[0]
    ref = RemoteRef(remote_id=dm.remote_id, extra={k: str(v) for k, v in dm.raw.items()})
    assert connector.reply_unavailable(fb_account, ref, direct=True) == ""
    connector.reply(
        fb_account, PublishRequest(text="Sorry for the wait", reply_to=ref, visibility="direct")
    )
    assert graph_server.requests_to("POST", "/messages")[-1].params["tag"] == "HUMAN_AGENT"


def test_the_servers_window_error_is_explained(fb_account, graph_server):
    graph_server.message_from(fb_account.remote_id, "Hi", name="Anna")
    dm = get_connector("facebook").fetch_inbox(fb_account, None).items[0]
    ref = RemoteRef(remote_id=dm.remote_id, extra={k: str(v) for k, v in dm.raw.items()})
    graph_server.fail_next(
        10,
        subcode=2018278,
        message="(#10) This message is sent outside of allowed window.",
        path_prefix=f"/{fb_account.remote_id}/messages",
    )
    with pytest.raises(Rejected) as caught:
        get_connector("facebook").reply(
            fb_account, PublishRequest(text="Hi", reply_to=ref, visibility="direct")
        )
    assert "24 hours" in caught.value.message


def test_comments_are_hidden_shown_and_deleted(fb_account, graph_server):
    connector = get_connector("facebook")
    post = connector.publish(fb_account, PublishRequest(text="Election info"))
    rude = graph_server.comment_as(post.remote_id, "Rude words")
    connector.hide_comment(fb_account, RemoteRef(remote_id=rude.id), hidden=True)
    assert graph_server.comments[rude.id].hidden
    connector.hide_comment(fb_account, RemoteRef(remote_id=rude.id), hidden=False)
    assert not graph_server.comments[rude.id].hidden
    connector.delete_comment(fb_account, RemoteRef(remote_id=rude.id))
    assert graph_server.comments[rude.id].deleted


def test_post_and_page_metrics_use_current_metric_names(fb_account, graph_server):
    connector = facebook.FacebookConnector()
    post = connector.publish(fb_account, PublishRequest(text="Figures"))
    graph_server.posts[post.remote_id].reactions = {"like": 4, "love": 1}
    graph_server.posts[post.remote_id].shares = 2
    graph_server.comment_as(post.remote_id, "Nice")
    graph_server.set_insights(post.remote_id, post_total_media_view_unique=321)
    [metrics] = connector.fetch_post_metrics(fb_account, [post.ref])
    assert (metrics.likes, metrics.shares, metrics.replies, metrics.impressions) == (5, 2, 1, 321)
    assert connector.fetch_account_metrics(fb_account).followers == 1200
    graph_server.set_insights(fb_account.remote_id, page_media_view=900, page_post_engagements=40)
    insights = connector.fetch_page_insights(fb_account)
    assert insights["page_media_view"] == 900 and insights["page_post_engagements"] == 40


def test_a_retired_metric_is_an_invalid_metric_error(fb_account, graph_server):
    with pytest.raises(Rejected) as caught:
        graph.call(
            "GET",
            facebook.API.url(graph_server.base_url, "insights", object_id=fb_account.remote_id),
            token=fb_account.credentials["access_token"],
            params={"metric": "page_impressions", "period": "day"},
        )
    assert "valid insights metric" in caught.value.message


# --- Instagram


def _images(graph_server, count: int) -> list[MediaItem]:
    return [
        MediaItem(
            content=b"",
            mime_type="image/jpeg",
            alt_text=f"Kuva {n}",
            public_url=graph_server.host_image(jpeg()),
        )
        for n in range(1, count + 1)
    ]


def test_it_publishes_an_image_through_a_container_with_alt_text(ig_account, graph_server):
    result = get_connector("instagram").publish(
        ig_account,
        PublishRequest(text="Kesä on täällä", media=_images(graph_server, 1), idempotency_key="k1"),
    )
    media = graph_server.posts[result.remote_id]
    container = graph_server.containers[result.extra["container_id"]]
    assert media.message == "Kesä on täällä" and media.media_type == "IMAGE"
    assert container.alt_text == "Kuva 1" and container.status_code == "PUBLISHED"
    assert container.fetched_bytes > 0  # the server really downloaded our image
    assert result.url.startswith("https://www.instagram.com/p/")
    assert graph_server.requests_to("GET", "/content_publishing_limit")


def test_it_publishes_a_carousel_after_every_child_is_finished(ig_account, graph_server):
    graph_server.container_polls = 2
    result = get_connector("instagram").publish(
        ig_account, PublishRequest(text="Carousel", media=_images(graph_server, 3))
    )
    media = graph_server.posts[result.remote_id]
    assert media.media_type == "CAROUSEL_ALBUM"
    children = [graph_server.containers[c] for c in media.children]
    assert [c.alt_text for c in children] == ["Kuva 1", "Kuva 2", "Kuva 3"]
    assert all(c.is_carousel_item for c in children)
    assert graph_server.client_waits  # it waited between looks, without sleeping here


def test_an_image_instagram_cannot_fetch_fails_explained(ig_account, graph_server):
    broken = MediaItem(
        content=b"",
        mime_type="image/jpeg",
        alt_text="x",
        public_url=graph_server.base_url + "/_files/missing",
    )
    with pytest.raises(Rejected) as caught:
        get_connector("instagram").publish(ig_account, PublishRequest(text="x", media=[broken]))
    assert "could not fetch the image or video" in caught.value.message
    assert not graph_server.posts_of(ig_account.remote_id)


def test_an_expired_container_is_explained(ig_account, graph_server):
    graph_server.container_polls = 5
    connector = instagram.InstagramConnector()
    original = connector._container_status

    def expire_then_look(account, container_id):
        graph_server.expire(container_id)
        return original(account, container_id)

    connector._container_status = expire_then_look  # type: ignore[method-assign]
    try:
        with pytest.raises(Rejected) as caught:
            connector.publish(ig_account, PublishRequest(text="x", media=_images(graph_server, 1)))
    finally:
        del connector._container_status
    assert "expire" in caught.value.message


def test_a_lost_publish_answer_is_never_published_twice(ig_account, graph_server):
    connector = instagram.InstagramConnector()
    connector.timeout = (2.0, 0.3)
    request = PublishRequest(text="Only once", media=_images(graph_server, 1), idempotency_key="j7")
    graph_server.hang(
        method="POST", path_prefix=f"/{ig_account.remote_id}/media_publish", after_processing=True
    )
    try:
        with pytest.raises(UnknownOutcome):
            connector.publish(ig_account, request)
    finally:
        graph_server.release()
    # Run again (the dispatcher's resend): the remembered container is PUBLISHED, so the
    # media is found instead of publishing a second time.
    result = connector.publish(ig_account, request)
    assert len(graph_server.posts_of(ig_account.remote_id)) == 1
    assert result.remote_id == graph_server.posts_of(ig_account.remote_id)[0].id
    assert len(graph_server.requests_to("POST", "/media_publish")) == 1


def test_a_finished_container_is_reused_after_a_failure(ig_account, graph_server):
    request = PublishRequest(text="Reuse", media=_images(graph_server, 1), idempotency_key="j8")
    graph_server.fail_next(
        2,
        message="Service temporarily unavailable",
        method="POST",
        path_prefix=f"/{ig_account.remote_id}/media_publish",
    )
    connector = get_connector("instagram")
    with pytest.raises(TransientError):
        connector.publish(ig_account, request)
    connector.publish(ig_account, request)
    assert len(graph_server.containers) == 1  # no second container was made
    assert len(graph_server.posts_of(ig_account.remote_id)) == 1


def test_the_publishing_limit_is_read_and_respected(ig_account, graph_server):
    graph_server.ig_accounts[ig_account.remote_id].publish_quota_total = 1
    connector = instagram.InstagramConnector()
    limit = connector.publishing_limit(ig_account)
    assert (limit.used, limit.total, limit.window_seconds) == (0, 1, 86400)
    connector.publish(ig_account, PublishRequest(text="one", media=_images(graph_server, 1)))
    with pytest.raises(RateLimited) as caught:
        connector.publish(ig_account, PublishRequest(text="two", media=_images(graph_server, 1)))
    assert "24 hours" in caught.value.message


def test_instagram_validation_needs_an_image_and_jpeg(ig_account):
    connector = get_connector("instagram")
    assert "Instagram posts need at least one image or a video." in connector.validate(
        PublishRequest(text="words only"), account=ig_account
    )
    png = MediaItem(content=b"x", mime_type="image/png")
    assert any(
        "image/png" in p
        for p in connector.validate(PublishRequest(text="x", media=[png]), account=ig_account)
    )
    assert any(
        "2200" in p
        for p in connector.validate(PublishRequest(text="x" * 2201, media=[]), account=ig_account)
    )


def test_instagram_inbox_comments_replies_dms_and_moderation(ig_account, graph_server):
    connector = get_connector("instagram")
    media = connector.publish(
        ig_account, PublishRequest(text="Post", media=_images(graph_server, 1))
    )
    question = graph_server.comment_as(media.remote_id, "When?", name="Liisa")
    graph_server.comment_as(media.remote_id, "Rude", name="Troll")
    graph_server.message_from(ig_account.remote_id, "Hei!", name="kalle", platform="instagram")
    page = connector.fetch_inbox(ig_account, None)
    texts = {i.text: i for i in page.items}
    assert set(texts) == {"When?", "Rude", "Hei!"}
    assert texts["When?"].author_handle == "@liisa" and texts["Hei!"].kind == "dm"
    ref = RemoteRef(remote_id=question.id, extra={"graph_kind": "comment"})
    answer = connector.reply(ig_account, PublishRequest(text="Tomorrow", reply_to=ref))
    assert graph_server.comments[answer.remote_id].parent_id == question.id
    dm = texts["Hei!"]
    dm_ref = RemoteRef(remote_id=dm.remote_id, extra={k: str(v) for k, v in dm.raw.items()})
    connector.reply(ig_account, PublishRequest(text="Moi", reply_to=dm_ref, visibility="direct"))
    assert next(iter(graph_server.conversations.values())).messages[-1].text == "Moi"
    rude = texts["Rude"]
    connector.hide_comment(ig_account, RemoteRef(remote_id=rude.remote_id), hidden=True)
    assert graph_server.comments[rude.remote_id].hidden


def test_instagram_metrics_from_current_metrics(ig_account, graph_server):
    connector = instagram.InstagramConnector()
    media = connector.publish(ig_account, PublishRequest(text="m", media=_images(graph_server, 1)))
    graph_server.set_insights(media.remote_id, views=700, likes=30, comments=4, shares=3)
    [metrics] = connector.fetch_post_metrics(ig_account, [media.ref])
    assert (metrics.likes, metrics.replies, metrics.shares, metrics.impressions) == (30, 4, 3, 700)
    assert connector.fetch_account_metrics(ig_account).followers == 1200
    graph_server.set_insights(ig_account.remote_id, reach=50, views=80, follower_count=6)
    insights = connector.fetch_account_insights(ig_account)
    assert insights["views"] == 80 and insights["follower_count"] == 6
