"""The developer platforms whose apps an organization registers itself.

Public bodies register their own apps on Meta, X, LinkedIn and the others, so that
no vendor holds their accounts' keys. Each platform here says what an admin must
create in the platform's developer console, which permissions to ask for and what
each one enables, and the address to register for the sign-in callback. The
"Network apps" page (``accounts:network_apps``) reads this table; the connect flows
read the stored ``NetworkApp``.

Adding a platform: one entry in ``PLATFORMS``. ``networks`` names the channel
networks (connector names) the app serves: one Meta app connects Facebook Pages and
Instagram accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Permission:
    """A permission (scope) the app asks for, and what stops working without it."""

    name: str
    enables: str | Promise
    required: bool = True


@dataclass(frozen=True)
class SecretField:
    """Another secret of the app beside its id and secret (a webhook verify token)."""

    key: str
    label: str | Promise
    help_text: str | Promise = ""


@dataclass(frozen=True)
class Platform:
    key: str
    label: str | Promise
    networks: tuple[str, ...]
    console_url: str
    steps: tuple[str | Promise, ...]
    permissions: tuple[Permission, ...] = ()
    # Our callback address, relative to SITE_URL, to register in the console.
    redirect_path: str = ""
    # Where the platform delivers webhooks, relative to SITE_URL ("" when none).
    webhook_path: str = ""
    # Empty: "App id" and "App secret".
    client_id_label: str | Promise = ""
    client_secret_label: str | Promise = ""
    extra_secrets: tuple[SecretField, ...] = field(default=())


PLATFORMS: dict[str, Platform] = {
    "meta": Platform(
        key="meta",
        label=_("Meta (Facebook Pages and Instagram)"),
        networks=("facebook", "instagram"),
        console_url="https://developers.facebook.com/apps/",
        steps=(
            _(
                "Sign in to Meta for Developers with the organization's business account "
                "and create an app of the type Business."
            ),
            _("Add the products Facebook Login for Business, Webhooks and Instagram."),
            _(
                "Under Facebook Login, add the redirect address below to the valid OAuth "
                "redirect URIs."
            ),
            _(
                "Ask for the permissions listed below in App Review, and complete the "
                "business verification that Meta requires for them."
            ),
            _(
                "Copy the app id and the app secret (App settings, Basic) into the form "
                "below. Choose a webhook verify token and enter the same one in the Webhooks "
                "product with the webhook address below."
            ),
        ),
        redirect_path="/accounts/meta/callback/",
        webhook_path="/inbox/webhooks/meta/",
        extra_secrets=(
            SecretField(
                "webhook_verify_token",
                _("Webhook verify token"),
                _("Any long random text; Meta sends it back when you subscribe the webhook."),
            ),
        ),
    ),
    "threads": Platform(
        key="threads",
        label=_("Threads"),
        networks=("threads",),
        console_url="https://developers.facebook.com/apps/",
        steps=(
            _("In Meta for Developers, create an app with the use case Access the Threads API."),
            _("Add the redirect address below to the Threads app's redirect callback URLs."),
            _("Ask for the permissions listed below."),
            _(
                "Copy the Threads app id and Threads app secret (they differ from the "
                "Facebook app's) into the form below."
            ),
        ),
        redirect_path="/accounts/threads/callback/",
        client_id_label=_("Threads app id"),
        client_secret_label=_("Threads app secret"),
    ),
    "x": Platform(
        key="x",
        label=_("X"),
        networks=("x",),
        console_url="https://developer.x.com/en/portal/dashboard",
        steps=(
            _("In the X developer portal, create a project and an app in it."),
            _(
                "Under User authentication settings, choose OAuth 2.0, the app type Web App "
                "(a confidential client), and the permissions Read and write and Direct "
                "messages."
            ),
            _("Add the redirect address below as the callback URI."),
            _("Copy the OAuth 2.0 client id and client secret into the form below."),
        ),
        redirect_path="/accounts/x/callback/",
        client_id_label=_("Client id"),
        client_secret_label=_("Client secret"),
    ),
    "linkedin": Platform(
        key="linkedin",
        label=_("LinkedIn"),
        networks=("linkedin",),
        console_url="https://www.linkedin.com/developers/apps",
        steps=(
            _(
                "In LinkedIn's developer portal, create an app and link it to the "
                "organization's LinkedIn page."
            ),
            _("Request the Community Management API product for the app."),
            _("Under Auth, add the redirect address below to the authorized redirect URLs."),
            _("Copy the client id and the primary client secret into the form below."),
        ),
        redirect_path="/accounts/linkedin/callback/",
        client_id_label=_("Client id"),
        client_secret_label=_("Client secret"),
    ),
    "tiktok": Platform(
        key="tiktok",
        label=_("TikTok"),
        networks=("tiktok",),
        console_url="https://developers.tiktok.com/apps/",
        steps=(
            _("In TikTok for Developers, create an app for the web."),
            _("Add the products Login Kit and Content Posting API (with Direct Post)."),
            _("Under Login Kit, add the redirect address below as a redirect URI."),
            _(
                "Ask for the permissions listed below. Until TikTok has audited the app, "
                "TikTok only allows private posts."
            ),
            _("Copy the client key and client secret into the form below."),
        ),
        permissions=(
            Permission("user.info.basic", _("read the account's name")),
            Permission(
                "user.info.stats", _("read the account's follower and video counts"), required=False
            ),
            Permission("video.publish", _("post videos directly")),
            Permission("video.upload", _("upload videos"), required=False),
            Permission("video.list", _("read the account's public videos and their statistics")),
        ),
        redirect_path="/accounts/tiktok/callback/",
        client_id_label=_("Client key"),
        client_secret_label=_("Client secret"),
    ),
    "google": Platform(
        key="google",
        label=_("Google (YouTube)"),
        networks=("youtube",),
        console_url="https://console.cloud.google.com/apis/credentials",
        steps=(
            _("In the Google Cloud console, create a project and enable the YouTube Data API v3."),
            _(
                "Configure the OAuth consent screen (External, or Internal for a Workspace "
                "organization) and add the YouTube scopes listed below."
            ),
            _(
                "Create an OAuth client id of the type Web application and add the redirect "
                "address below to its authorized redirect URIs."
            ),
            _("Copy the client id and the client secret into the form below."),
        ),
        permissions=(
            Permission("https://www.googleapis.com/auth/youtube.upload", _("upload videos")),
            Permission(
                "https://www.googleapis.com/auth/youtube.force-ssl",
                _("add captions and thumbnails, and answer comments"),
            ),
            Permission(
                "https://www.googleapis.com/auth/youtube.readonly",
                _("read the channel, its uploads and their statistics"),
            ),
        ),
        redirect_path="/accounts/youtube/callback/",
        client_id_label=_("Client id"),
        client_secret_label=_("Client secret"),
    ),
}


def platform_get(key: str) -> Platform | None:
    return PLATFORMS.get(key)


def platform_for_network(network: str) -> Platform | None:
    """The platform whose app connects channel accounts of ``network``."""
    for platform in PLATFORMS.values():
        if network in platform.networks:
            return platform
    return None
