"""Links that measure: campaign parameters (UTM) and short links that count clicks.

Links change at publish time only: the text people write and approve stays as written,
and the post page shows what its links will become. Each web address of a published
variant is tagged ``utm_source=<network>&utm_medium=social&utm_campaign=<campaign>``
(parameters already in the address are kept) and, when the organization shortens
links, replaced by ``<short domain>/l/<code>``. A short link is made once per (publish
job, address), so a retried publish sends the same code.

A click is counted per link and day (with Redis first in a hash of pending counts that
a periodic task moves to the database): nothing about the visitor (address, cookie,
browser) is stored. Requests whose user agent names a known
crawler or link-preview fetcher are counted apart, so previews do not inflate clicks.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify

from accounts.connectors.base import PublishRequest
from accounts.connectors.registry import get_connector
from governance.models import Membership
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.models import (
    LinkSettings,
    Post,
    PublishJob,
    ShortLink,
    ShortLinkClick,
    ShortLinkClickBatch,
)

logger = logging.getLogger(__name__)

SHORT_PATH = "/l/"
CODE_BYTES = 6  # 8 URL-safe characters: 2^48 codes, guessing one is hopeless.
UTM_MEDIUM = "social"

# A web address in running text. Trailing punctuation is trimmed afterwards (a sentence's
# full stop is not part of the address); non-web schemes (mailto:, tel:) never match.
_URL = re.compile(r"https?://[^\s<>\"'\u00a0]+", re.IGNORECASE)
_CODE = re.compile(r"[A-Za-z0-9_-]{1,16}")
_TRAILING = ".,;:!?'\"\u00bb\u201d\u2019\u2026"  # and closing quotes, ellipsis
_CLOSERS = {")": "(", "]": "[", "}": "{"}

# Crawlers and the link-preview fetchers of networks and chat apps (lower case). Every
# Mastodon server fetches a preview of each link it sees, which is why "mastodon" is here.
BOT_MARKERS = (
    "bot",
    "crawl",
    "spider",
    "slurp",
    "preview",
    "facebookexternalhit",
    "mastodon",
    "pleroma",
    "misskey",
    "akkoma",
    "bluesky",
    "cardyb",
    "embedly",
    "whatsapp",
    "skypeuripreview",
    "headless",
    "python-requests",
    "curl/",
    "wget/",
    "go-http-client",
)


def is_bot(user_agent: str) -> bool:
    """Whether a request comes from a crawler or a preview fetcher (or says nothing)."""
    agent = user_agent.lower()
    return not agent or any(marker in agent for marker in BOT_MARKERS)


# --- settings ------------------------------------------------------------------------


def link_settings_for(organization_id: int) -> LinkSettings:
    """The organization's link settings; the defaults (nothing rewritten) when never saved."""
    found = LinkSettings.objects.filter(organization_id=organization_id).first()
    return found or LinkSettings(organization_id=organization_id)


def link_settings_update(
    *,
    membership: Membership,
    tag_utm: bool,
    shorten: bool,
    short_domain: str,
    request: HttpRequest | None = None,
) -> LinkSettings:
    """Change how links in published posts are rewritten (admins)."""
    require_perm(membership, "org.manage")
    with transaction.atomic():
        row, _created = LinkSettings.objects.select_for_update().get_or_create(
            organization=membership.organization
        )
        old = {"tag_utm": row.tag_utm, "shorten": row.shorten, "short_domain": row.short_domain}
        row.tag_utm, row.shorten, row.short_domain = tag_utm, shorten, short_domain
        row.save()
        audit_record(
            action="link_settings.updated",
            organization=membership.organization,
            actor=membership.user,
            target=row,
            old=old,
            new={"tag_utm": tag_utm, "shorten": shorten, "short_domain": short_domain},
            request=request,
        )
    return row


def short_base(link_settings: LinkSettings) -> str:
    """Where short links point, without the code: ``https://go.example.fi/l/``."""
    if link_settings.short_domain:
        return f"https://{link_settings.short_domain}{SHORT_PATH}"
    return f"{str(settings.SITE_URL).rstrip('/')}{SHORT_PATH}"


# --- rewriting -------------------------------------------------------------------------


def _trim(url: str) -> str:
    while url:
        last = url[-1]
        unbalanced = last in _CLOSERS and url.count(_CLOSERS[last]) < url.count(last)
        if last in _TRAILING or unbalanced:
            url = url[:-1]
        else:
            break
    return url


def text_urls(text: str) -> list[str]:
    """The web addresses in a text, in order, each once."""
    found: list[str] = []
    for match in _URL.finditer(text):
        url = _trim(match.group(0))
        if url and url not in found:
            found.append(url)
    return found


def url_tag(url: str, *, source: str, campaign: str) -> str:
    """The address with campaign parameters added. Its own query parameters (including
    any utm_ it already has) and its fragment are kept as they are."""
    parts = urlsplit(url)
    present = {pair.split("=", 1)[0] for pair in parts.query.split("&") if pair}
    extra = [
        (name, value)
        for name, value in (
            ("utm_source", source),
            ("utm_medium", UTM_MEDIUM),
            ("utm_campaign", campaign),
        )
        if name not in present and value
    ]
    if not extra:
        return url
    query = "&".join(q for q in (parts.query, urlencode(extra)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, parts.fragment))


def text_rewrite(text: str, replace: Callable[[str], str]) -> str:
    """The text with each web address replaced by ``replace(address)``."""

    def one(match: re.Match[str]) -> str:
        whole = match.group(0)
        url = _trim(whole)
        return replace(url) + whole[len(url) :] if url else whole

    return _URL.sub(one, text)


def campaign_label(post: Post) -> str:
    """utm_campaign: the campaign's name as a slug, else the post's number."""
    if post.campaign_id is not None and post.campaign is not None:
        label = slugify(post.campaign.name)
        if label:
            return label
    return f"post-{post.pk}"


@dataclasses.dataclass(frozen=True)
class LinkPlan:
    """How one post's links change on one network (for the post page)."""

    network: str
    original: str
    becomes: str
    shortened_to: str


def post_link_plans(post: Post, networks: list[str]) -> list[LinkPlan]:
    """What each address of the post's variants will become, per network; empty when the
    organization rewrites nothing. Short codes are made at publish time, so a shortened
    link is shown as its domain with a placeholder."""
    rules = link_settings_for(post.organization_id)
    if not (rules.tag_utm or rules.shorten):
        return []
    campaign = campaign_label(post)
    plans: list[LinkPlan] = []
    texts = [v.text for v in post.variants.all()] + [
        part.text for v in post.variants.all() for part in v.parts.all()
    ]
    urls: list[str] = []
    for text in texts:
        urls += [url for url in text_urls(text) if url not in urls]
    base = short_base(rules)
    for network in networks:
        for url in urls:
            if url.startswith(base):
                continue
            tagged = url_tag(url, source=network, campaign=campaign) if rules.tag_utm else url
            plans.append(
                LinkPlan(
                    network=network,
                    original=url,
                    becomes=tagged,
                    shortened_to=f"{base}…" if rules.shorten else "",
                )
            )
    return plans


def _short_link(job: PublishJob, original: str, target: str, network: str) -> ShortLink:
    existing = ShortLink.objects.filter(job=job, original_url=original).first()
    if existing is not None:
        return existing
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return ShortLink.objects.create(
                    organization_id=job.organization_id,
                    post_id=job.post_id,
                    job=job,
                    network=network,
                    code=secrets.token_urlsafe(CODE_BYTES),
                    original_url=original,
                    target_url=target,
                )
        except IntegrityError:
            # Another run made it first, or (rarely) the code was taken: look, then retry.
            existing = ShortLink.objects.filter(job=job, original_url=original).first()
            if existing is not None:
                return existing
    raise RuntimeError("could not make a unique short code")


def job_links_apply(job: PublishJob, request: PublishRequest) -> PublishRequest:
    """The request with its links rewritten by the organization's link settings (the
    dispatcher calls this just before sending, and before reconciling, so both see the
    same text). Idempotent: the same job always yields the same text."""
    if not _URL.search(request.text):
        return request  # most posts: no link, no query
    rules = link_settings_for(job.organization_id)
    if not (rules.tag_utm or rules.shorten):
        return request
    post = Post.objects.select_related("campaign").get(pk=job.post_id)
    network = job.channel_account.network
    campaign = campaign_label(post)
    base = short_base(rules)

    def replace(url: str) -> str:
        if url.startswith(base):
            return url
        target = url_tag(url, source=network, campaign=campaign) if rules.tag_utm else url
        if not rules.shorten:
            return target
        return base + _short_link(job, url, target, network).code

    rewritten = dataclasses.replace(request, text=text_rewrite(request.text, replace))
    if _fits(job, rewritten) or not _fits(job, request):
        return rewritten
    # Tags made an approved text too long for the network: send the links as written
    # rather than fail a post people approved. (Mastodon and X count any link as 23.)
    logger.warning("Publish job %s: links left as written, tagged text too long", job.pk)
    return request


def _fits(job: PublishJob, request: PublishRequest) -> bool:
    connector = get_connector(job.channel_account.network)
    account = job.channel_account
    return connector.text_length(request.text, account=account) <= (
        connector.limits_for(account).max_text
    )


# --- following a short link ----------------------------------------------------------
#
# A redirect is the one page strangers hit in bulk (every reader of a popular post), so
# it touches no database when it can: the code's link comes from a small per-process
# cache, and with Redis the click is one HINCRBY on a hash of pending counts. A periodic
# task (``short_link_clicks_flush``, every few seconds) moves the pending counts into
# ``ShortLinkClick`` exactly once. Without Redis (the embedded setup) each click is one
# upsert in the database, as before.

LINK_CACHE_SECONDS = 60.0  # a deleted post's links may redirect this long in a worker
LINK_CACHE_SIZE = 10_000
_link_cache: dict[str, tuple[float, int, str]] = {}  # code -> (expires, link id, target)

# Only table names from the models are formatted into these; every value is a parameter.
# The SELECT drops the counts of a link deleted since its clicks were counted.
_UPSERT = (
    "INSERT INTO {clicks} (link_id, day, clicks, bot_clicks) "
    "SELECT id, %s, %s, %s FROM {links} WHERE id = %s "
    "ON CONFLICT (link_id, day) DO UPDATE SET "
    "clicks = {clicks}.clicks + EXCLUDED.clicks, "
    "bot_clicks = {clicks}.bot_clicks + EXCLUDED.bot_clicks"
)
_BATCH_FIELD = "_batch"
# Deletes the flushing hash only if it is still the batch this flush applied: a slow
# flush must never delete the next batch that another flush renamed into place.
_DELETE_IF_BATCH = (
    "if redis.call('hget', KEYS[1], ARGV[1]) == ARGV[2] then "
    "return redis.call('del', KEYS[1]) end return 0"
)
_redis_clients: dict[str, Any] = {}


def _redis() -> Any:
    url = str(getattr(settings, "REDIS_URL", "") or "")
    if not url:
        return None
    client = _redis_clients.get(url)
    if client is None:
        import redis

        client = _redis_clients[url] = redis.Redis.from_url(url)
    return client


def click_keys() -> tuple[str, str]:
    """The Redis hashes of clicks counted and not yet in the database: (pending, being
    flushed). Named after the database, so test and benchmark databases keep apart."""
    name = connection.settings_dict["NAME"]
    return f"govsocial:{name}:link-clicks:pending", f"govsocial:{name}:link-clicks:flushing"


def _link_for(code: str) -> tuple[int, str] | None:
    now = time.monotonic()
    cached = _link_cache.get(code)
    if cached is not None and cached[0] > now:
        return cached[1], cached[2]
    found = ShortLink.objects.filter(code=code).values_list("pk", "target_url").first()
    if found is None:
        return None  # unknown codes are not cached: anyone may invent them
    if len(_link_cache) >= LINK_CACHE_SIZE:
        _link_cache.clear()
    _link_cache[code] = (now + LINK_CACHE_SECONDS, found[0], found[1])
    return found[0], found[1]


def short_link_follow(code: str, *, user_agent: str, count: bool = True) -> str | None:
    """The address behind ``code`` with the click counted (once), or None when unknown.

    Counts only, per link and UTC day: nothing about the visitor is kept. With Redis
    one HINCRBY (flushed later by ``short_link_clicks_flush``); without, one upsert that
    adds 1 to the day's row in autocommit, so concurrent clicks never lose a count."""
    if not _CODE.fullmatch(code):
        return None  # not one of ours (and never a NUL or a long string at the database)
    found = _link_for(code)
    if found is None:
        return None
    link_id, target = found
    if not count:
        return target
    bot = is_bot(user_agent)
    day = timezone.now().date()
    client = _redis()
    if client is not None:
        client.hincrby(click_keys()[0], f"{link_id}:{day.isoformat()}:{int(bot)}", 1)
        return target
    _clicks_add({(link_id, day): (int(not bot), int(bot))})
    return target


def _clicks_add(counts: dict[tuple[int, date], tuple[int, int]]) -> None:
    quote = connection.ops.quote_name
    sql = _UPSERT.format(
        clicks=quote(ShortLinkClick._meta.db_table), links=quote(ShortLink._meta.db_table)
    )
    with connection.cursor() as cursor:
        for (link_id, day), (clicks, bots) in counts.items():
            cursor.execute(sql, [day, clicks, bots, link_id])


def short_link_clicks_flush() -> int:
    """Move the clicks counted in Redis into ``ShortLinkClick``; returns how many moved.

    Exactly once, whatever is interrupted where: the pending hash is renamed (atomically:
    clicks from then on start a new one) to the flushing hash, which gets a batch id;
    its counts and the batch id are written in one transaction; the flushing hash is
    deleted after the commit. A flush that finds a flushing hash left behind finishes it
    first, and skips the counts when its batch is already recorded."""
    client = _redis()
    if client is None:
        return 0
    import redis

    pending, flushing = click_keys()
    if not client.exists(flushing):
        try:
            client.rename(pending, flushing)
        except redis.ResponseError:
            return 0  # no click since the last flush
    client.hsetnx(flushing, _BATCH_FIELD, uuid.uuid4().hex)
    fields = {k.decode(): v.decode() for k, v in client.hgetall(flushing).items()}
    batch = fields.pop(_BATCH_FIELD, "")
    if not batch:
        return 0  # another flush finished it meanwhile
    counts: dict[tuple[int, date], tuple[int, int]] = {}
    for field, value in fields.items():
        link_id, day, bot = field.split(":")
        key = (int(link_id), date.fromisoformat(day))
        clicks, bots = counts.get(key, (0, 0))
        counts[key] = (clicks, bots + int(value)) if bot == "1" else (clicks + int(value), bots)
    moved = 0
    with transaction.atomic():
        _row, new = ShortLinkClickBatch.objects.get_or_create(batch=batch)
        if new:
            _clicks_add(counts)
            moved = sum(clicks + bots for clicks, bots in counts.values())
            # The record of old batches is needed only until their hash is gone.
            ShortLinkClickBatch.objects.filter(
                flushed_at__lt=timezone.now() - timedelta(days=1)
            ).delete()
    client.eval(_DELETE_IF_BATCH, 1, flushing, _BATCH_FIELD, batch)
    return moved
