from django.urls import path

from governance.views import tokens

urlpatterns = [
    path("me/tokens/", tokens.api_tokens_view, name="api_tokens"),
    path("me/tokens/<int:pk>/revoke/", tokens.api_token_revoke_view, name="api_token_revoke"),
]
