"""X through the pages: the organization's own X app, connecting an account on X's
consent page (the test server), the callback, and the monthly budget of API calls."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from accounts.models import AccountStatus, ApiCallBudget, ChannelAccount, NetworkApp
from accounts.tests.flows import authorization_url
from governance.models import AuditEvent

CALLBACK = "/accounts/x/callback/"


def save_app(client, app, plan="pay_per_use"):
    return client.post(
        "/accounts/apps/x/",
        {"client_id": app.client_id, "client_secret": app.client_secret, "plan": plan},
    )


def test_an_admin_enters_the_app_with_steps_and_the_callback_on_the_page(
    client, personas, login, x_server, settings
):
    settings.SITE_URL = "https://govsocial.example.fi"
    login(client, personas.alice)
    page = client.get("/accounts/apps/x/").content.decode()
    assert "https://govsocial.example.fi/accounts/x/callback/" in page
    assert "OAuth 2.0" in page and "offline.access" in page

    app = x_server.create_app()
    response = save_app(client, app)

    assert response.status_code == 302
    stored = NetworkApp.objects.get(organization=personas.org, network="x")
    assert stored.client_secret == app.client_secret
    assert stored.options == {"plan": "pay_per_use"}
    page = client.get("/accounts/apps/x/").content.decode()
    assert app.client_secret not in page
    assert AuditEvent.objects.filter(action="network_app.created").count() == 1
    # The secret is kept when the form leaves it empty.
    client.post("/accounts/apps/x/", {"client_id": app.client_id, "plan": "enterprise"})
    stored.refresh_from_db()
    assert stored.client_secret == app.client_secret
    assert stored.options == {"plan": "enterprise"}


def test_only_admins_set_up_the_app_and_a_bad_plan_is_an_error(client, personas, login, x_server):
    login(client, personas.carol)
    assert client.get("/accounts/apps/x/").status_code == 403
    login(client, personas.alice)
    response = client.post(
        "/accounts/apps/x/", {"client_id": "abc", "client_secret": "s", "plan": "free-lunch"}
    )
    assert response.status_code == 400
    assert not NetworkApp.objects.exists()


def test_without_an_app_the_connect_page_says_what_to_do(client, personas, login, x_server):
    login(client, personas.alice)
    page = client.get("/accounts/connect/x/").content.decode()
    assert "none is set up yet" in page
    assert 'href="/accounts/apps/x/"' in page
    response = client.post("/accounts/connect/x/")
    assert response.status_code == 400
    assert "X app is not set up yet" in response.content.decode()


def test_the_whole_flow_connects_an_active_x_account(client, personas, login, x_server):
    login(client, personas.alice)
    app = x_server.create_app(redirect_uris=["http://testserver/accounts/x/callback/"])
    save_app(client, app)

    response = client.post("/accounts/connect/x/")
    url = authorization_url(response)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(x_server.authorize_url)
    assert query["redirect_uri"] == ["http://testserver/accounts/x/callback/"]
    assert query["code_challenge_method"] == ["S256"]
    answer = x_server.approve(url)
    back = client.get(f"{CALLBACK}?{urlencode(answer)}")

    account = ChannelAccount.objects.get(network="x")
    assert back["Location"] == f"/accounts/{account.pk}/"
    assert account.status == AccountStatus.ACTIVE
    assert account.handle == "@KaupunkiX"
    assert account.credentials["refresh_token"] in x_server.refresh_tokens
    detail = client.get(back["Location"]).content.decode()
    assert "@KaupunkiX is connected." in detail
    assert "API calls this month" in detail
    assert "0 calls so far this month" in detail
    # Checking the connection reads the profile: one call, counted for this account.
    client.post(f"/accounts/{account.pk}/check/")
    detail = client.get(back["Location"]).content.decode()
    assert "1 call so far this month" in detail
    assert "<code>GET /2/users/me</code></th><td>1</td>" in detail


def test_a_denied_or_forged_answer_connects_nothing(client, personas, login, x_server):
    login(client, personas.alice)
    app = x_server.create_app()
    save_app(client, app)
    url = authorization_url(client.post("/accounts/connect/x/"))
    denied = client.get(f"{CALLBACK}?{urlencode(x_server.approve(url, deny=True))}")
    assert denied.status_code == 400
    assert "cancelled at X" in denied.content.decode()
    url = authorization_url(client.post("/accounts/connect/x/"))
    answer = x_server.approve(url)
    forged = client.get(f"{CALLBACK}?{urlencode({**answer, 'state': 'forged'})}")
    assert "does not match a connect started here" in forged.content.decode()
    assert not ChannelAccount.objects.filter(network="x").exists()


def test_an_admin_sets_a_budget_and_the_page_says_when_it_is_spent(
    client, personas, login, x_server
):
    login(client, personas.alice)
    save_app(client, x_server.create_app())
    url = authorization_url(client.post("/accounts/connect/x/"))
    client.get(f"{CALLBACK}?{urlencode(x_server.approve(url))}")
    account = ChannelAccount.objects.get(network="x")
    client.post(f"/accounts/{account.pk}/check/")
    client.post(f"/accounts/{account.pk}/check/")

    response = client.post(f"/accounts/{account.pk}/budget/", {"monthly_calls": "2"})

    assert response.status_code == 302
    assert ApiCallBudget.objects.get(account=account).monthly_calls == 2
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "The monthly budget is spent." in page
    assert "Publishing goes on." in page
    bad = client.post(f"/accounts/{account.pk}/budget/", {"monthly_calls": "-5"}, follow=True)
    assert "The budget was not saved" in bad.content.decode()
    client.post(f"/accounts/{account.pk}/budget/", {"monthly_calls": ""})
    assert not ApiCallBudget.objects.filter(account=account).exists()

    login(client, personas.charlie)
    assert client.post(f"/accounts/{account.pk}/budget/", {"monthly_calls": "9"}).status_code == 404


def test_reconnecting_an_x_account_goes_through_x_again(client, personas, login, x_server):
    login(client, personas.alice)
    save_app(client, x_server.create_app())
    client.get(
        f"{CALLBACK}?{urlencode(x_server.approve(authorization_url(client.post('/accounts/connect/x/'))))}"
    )
    account = ChannelAccount.objects.get(network="x")
    ChannelAccount.objects.filter(pk=account.pk).update(status=AccountStatus.NEEDS_RECONNECT)

    response = client.post(f"/accounts/{account.pk}/reconnect/")
    assert response["Location"] == f"/accounts/connect/x/?account={account.pk}"
    page = client.get(response["Location"]).content.decode()
    assert f'name="account" value="{account.pk}"' in page
    url = authorization_url(client.post("/accounts/connect/x/", {"account": str(account.pk)}))
    back = client.get(f"{CALLBACK}?{urlencode(x_server.approve(url))}")

    assert back["Location"] == f"/accounts/{account.pk}/"
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert ChannelAccount.objects.filter(network="x").count() == 1


def test_the_app_page_speaks_finnish(client, personas, login, x_server):
    personas.alice.preferred_language = "fi"
    personas.alice.save(update_fields=["preferred_language"])
    login(client, personas.alice)
    page = client.get("/accounts/apps/x/", HTTP_ACCEPT_LANGUAGE="fi").content.decode()
    assert "Organisaatiosi X-sovellus" in page
    assert "ladata kuvia ja niiden kuvauksia" in page
    assert "Käytön mukaan laskutettava (itsepalvelu)" in page
