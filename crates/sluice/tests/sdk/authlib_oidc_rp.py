#!/usr/bin/env python3
"""An OpenID Connect relying party built on Authlib (pinned in authlib-requirements.txt).

Authlib, not this script, does the protocol: it fetches the discovery document, builds the
authorization URL (PKCE S256, state, nonce), checks the state of the callback, exchanges the
code, validates ID tokens (signature against the JWKS from `jwks_uri`, alg from
`id_token_signing_alg_values_supported`, iss, aud, exp, iat, nonce, azp, at_hash), calls
userinfo, refreshes, revokes (RFC 7009) and builds the RP-initiated logout URL. This script only
plays the user at Sluice's login page, with a cookie-keeping `requests.Session` standing in for
the browser, and reports what it saw.

It uses Authlib's framework-neutral client (`OAuth2Mixin` + `OpenIDMixin`, the classes that
Authlib's Flask, Django and Starlette clients wrap) so no web framework is needed. Plain http is
fine: Sluice runs on 127.0.0.1 and Authlib treats loopback as secure transport (RFC 8252 §7.3),
so AUTHLIB_INSECURE_TRANSPORT is not set.

Environment:
  SLUICE_URL           base URL, e.g. http://127.0.0.1:43123 (the issuer is SLUICE_URL + "/")
  RP_CLIENT_ID         the application
  RP_CLIENT_SECRET     its secret; empty for a public client
  RP_AUTH_METHOD       client_secret_basic | client_secret_post | none
  RP_REDIRECT_URI      registered callback (never loaded: the user's 302 is read, not followed)
  RP_LOGOUT_URI        one of the client's allowed logout URLs
  RP_USERNAME, RP_PASSWORD

Prints one JSON object on stdout; exits 1 with a traceback on the first failure.
"""

import base64
import json
import os
import sys
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.integrations.base_client import BaseApp, FrameworkIntegration, OAuthError
from authlib.integrations.base_client.sync_app import OAuth2Mixin
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.discovery import OpenIDProviderMetadata
from authlib.oidc.rpinitiated import OpenIDProviderMetadata as LogoutMetadata
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

BASE = os.environ["SLUICE_URL"].rstrip("/")
CLIENT_ID = os.environ["RP_CLIENT_ID"]
CLIENT_SECRET = os.environ.get("RP_CLIENT_SECRET") or None
AUTH_METHOD = os.environ["RP_AUTH_METHOD"]
REDIRECT_URI = os.environ["RP_REDIRECT_URI"]
LOGOUT_URI = os.environ["RP_LOGOUT_URI"]
SCOPE = "openid profile email offline_access"


class RelyingParty(OAuth2Mixin, OpenIDMixin, BaseApp):
    """Authlib's synchronous OAuth 2 / OpenID Connect client over `requests`."""

    client_cls = OAuth2Session


class NoFramework(FrameworkIntegration):
    """Token storage hooks of a web framework; this RP keeps its tokens in variables."""

    def update_token(self, token, refresh_token=None, access_token=None):
        pass


class Form(HTMLParser):
    """The first form of a page: its action and its named input values."""

    def __init__(self):
        super().__init__()
        self.action, self.fields, self.forms = None, {}, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms += 1
            if self.forms == 1:
                self.action = a.get("action")
        elif tag == "input" and self.forms == 1 and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def sign_in(browser, authorization_url, username, password):
    """The user's part: /authorize → login page → credentials → back to the application."""
    r = browser.get(authorization_url, allow_redirects=False)
    expect(r.status_code == 302, f"/authorize answered {r.status_code}: {r.text[:500]}")
    page_url = urljoin(authorization_url, r.headers["location"])
    r = browser.get(page_url, allow_redirects=False)
    expect(r.status_code == 200, f"login page answered {r.status_code}")
    form = Form()
    form.feed(r.text)
    expect("csrf" in form.fields, "the login form has a csrf field")
    fields = dict(form.fields, username=username, password=password)
    r = browser.post(urljoin(page_url, form.action or ""), data=fields, allow_redirects=False)
    expect(r.status_code == 302, f"login answered {r.status_code}: {r.text[:500]}")
    return r.headers["location"]


def silent(browser, authorization_url):
    """`prompt=none`: the answer comes straight back to the application."""
    r = browser.get(authorization_url, allow_redirects=False)
    expect(r.status_code == 302, f"prompt=none answered {r.status_code}")
    return r.headers["location"]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rejected(rp, token_response, nonce, claims_options):
    """The exception class name Authlib raises on this token response, or None if accepted."""
    try:
        rp.parse_id_token(token_response, nonce=nonce, claims_options=claims_options)
    except (JoseError, ValueError) as e:
        return type(e).__name__
    return None


def main():
    rp = RelyingParty(
        NoFramework("sluice"),
        name="sluice",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        server_metadata_url=f"{BASE}/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": AUTH_METHOD,
        },
    )
    out = {}

    # Discovery, checked against OpenID Connect Discovery 1.0 / RFC 8414 and RP-initiated
    # logout metadata by Authlib's own validators.
    metadata = rp.load_server_metadata()
    OpenIDProviderMetadata({k: v for k, v in metadata.items() if k != "_loaded_at"}).validate(
        metadata_classes=[LogoutMetadata]
    )
    issuer = metadata["issuer"]
    out["issuer"] = issuer
    # Authlib checks only `iss` by default; the audience must be this client (OIDC Core 3.1.3.7).
    claims_options = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": CLIENT_ID},
    }

    # Authorization code + PKCE.
    browser = requests.Session()
    auth = rp.create_authorization_url(redirect_uri=REDIRECT_URI)
    sent = query(auth["url"])
    out["authorization_request"] = {
        k: sent.get(k) is not None
        for k in ("state", "nonce", "code_challenge", "code_challenge_method")
    }
    expect(sent.get("code_challenge_method") == "S256", f"PKCE S256 in {auth['url']}")
    back = sign_in(browser, auth["url"], os.environ["RP_USERNAME"], os.environ["RP_PASSWORD"])
    expect(back.startswith(REDIRECT_URI + "?"), f"back to the application: {back}")
    token = rp.fetch_access_token(
        redirect_uri=REDIRECT_URI,
        authorization_response=back,
        state=auth["state"],
        code_verifier=auth["code_verifier"],
    )
    out["token_type"] = token.get("token_type")
    expect("refresh_token" in token, "offline_access gives a refresh token")

    # The ID token: signature via jwks_uri, iss, aud, exp, iat, nonce, azp, at_hash.
    id_claims = rp.parse_id_token(token, nonce=auth["nonce"], claims_options=claims_options)
    header = json.loads(base64.urlsafe_b64decode(token["id_token"].split(".")[0] + "=="))
    out["id_token"] = {
        "alg": header.get("alg"),
        "kid": header.get("kid"),
        "sub": id_claims["sub"],
        "email": id_claims.get("email"),
        "name": id_claims.get("name"),
        "aud": id_claims["aud"],
        "nonce_ok": id_claims.get("nonce") == auth["nonce"],
        "auth_time": id_claims.get("auth_time"),
        "at_hash": "at_hash" in id_claims,
    }

    # Userinfo with the access token.
    ui = rp.userinfo(token=token)
    out["userinfo"] = {"sub": ui["sub"], "email": ui.get("email")}
    out["userinfo_sub_matches"] = ui["sub"] == id_claims["sub"]

    # The library must refuse what it should: a tampered payload, a foreign key under Sluice's
    # kid, alg none, another nonce, another audience.
    h, p, s = token["id_token"].split(".")
    payload = json.loads(base64.urlsafe_b64decode(p + "=="))
    forged = dict(payload, sub="auth0|someone-else")
    intruder = RSAKey.generate_key(2048, parameters={"kid": header.get("kid")})
    out["rejected"] = {
        "tampered_payload": rejected(
            rp,
            dict(token, id_token=f"{h}.{b64url(json.dumps(forged).encode())}.{s}"),
            auth["nonce"],
            claims_options,
        ),
        "foreign_key": rejected(
            rp,
            dict(
                token,
                id_token=jwt.encode({"alg": "RS256", "kid": header.get("kid")}, payload, intruder),
            ),
            auth["nonce"],
            claims_options,
        ),
        "alg_none": rejected(
            rp,
            dict(token, id_token=f"{b64url(json.dumps({'alg': 'none'}).encode())}.{p}."),
            auth["nonce"],
            claims_options,
        ),
        "wrong_nonce": rejected(rp, token, "another-nonce", claims_options),
        "wrong_audience": rejected(
            rp, token, auth["nonce"], dict(claims_options, aud={"essential": True, "value": "x"})
        ),
    }

    # Single sign-on: prompt=none with the browser's session cookie gives a new code at once.
    auth2 = rp.create_authorization_url(redirect_uri=REDIRECT_URI, prompt="none")
    back2 = silent(browser, auth2["url"])
    token2 = rp.fetch_access_token(
        redirect_uri=REDIRECT_URI,
        authorization_response=back2,
        state=auth2["state"],
        code_verifier=auth2["code_verifier"],
    )
    sso = rp.parse_id_token(token2, nonce=auth2["nonce"], claims_options=claims_options)
    out["sso_same_sub"] = sso["sub"] == id_claims["sub"]

    # Refresh: a new refresh token (rotation) and a valid ID token for the same user.
    session = OAuth2Session(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_endpoint_auth_method=AUTH_METHOD,
    )
    refreshed = session.refresh_token(
        metadata["token_endpoint"], refresh_token=token["refresh_token"]
    )
    out["refresh_rotated"] = refreshed["refresh_token"] != token["refresh_token"]
    if "id_token" in refreshed:
        # OIDC Core 12.2: same iss, sub, aud; no nonce to expect.
        again = rp.parse_id_token(refreshed, nonce=None, claims_options=claims_options)
        out["refresh_id_token_sub_matches"] = again["sub"] == id_claims["sub"]
    ui = rp.userinfo(token=refreshed)
    out["refresh_userinfo_sub_matches"] = ui["sub"] == id_claims["sub"]

    # Revocation (RFC 7009) of the new refresh token; it no longer refreshes.
    r = session.revoke_token(
        metadata["revocation_endpoint"],
        token=refreshed["refresh_token"],
        token_type_hint="refresh_token",
    )
    out["revoke_status"] = r.status_code
    try:
        session.refresh_token(metadata["token_endpoint"], refresh_token=refreshed["refresh_token"])
        out["revoked_refresh"] = "accepted"
    except OAuthError as e:
        out["revoked_refresh"] = e.error

    # RP-initiated logout with id_token_hint, post_logout_redirect_uri and state.
    logout = rp.create_logout_url(
        post_logout_redirect_uri=LOGOUT_URI, id_token_hint=token["id_token"]
    )
    r = browser.get(logout["url"], allow_redirects=False)
    location = r.headers.get("location", "")
    out["logout"] = {
        "status": r.status_code,
        "location": location.split("?")[0],
        "state_ok": query(location).get("state") == logout["state"],
    }
    # The session is gone: prompt=none now answers login_required, with the state.
    auth3 = rp.create_authorization_url(redirect_uri=REDIRECT_URI, prompt="none")
    back3 = silent(browser, auth3["url"])
    # An error response has no code: the application reads `error`, as Authlib's framework
    # clients do before they call the token endpoint.
    out["after_logout"] = query(back3).get("error")
    out["after_logout_state_ok"] = query(back3).get("state") == auth3["state"]

    print(json.dumps(out, indent=2, sort_keys=True))


if __name__ == "__main__":
    try:
        main()
    except Exception:
        import traceback

        traceback.print_exc()
        sys.exit(1)
