#!/usr/bin/env python3
"""Drive Sluice's Management API with the official auth0-python SDK (6.8.0).

Proves JSON-shape compatibility: every call below goes through the SDK's own
request building and pydantic response parsing.

Environment:
  SLUICE_DOMAIN         host:port, e.g. localhost:43123 (the SDK always uses https://)
  SLUICE_CLIENT_ID      bootstrap client with a grant for https://<domain>/api/v2/
  SLUICE_CLIENT_SECRET
  SSL_CERT_FILE         CA bundle (PEM) for the server cert. The management client
                        and its token provider use httpx, which reads SSL_CERT_FILE.
  REQUESTS_CA_BUNDLE    CA bundle for auth0.authentication (uses `requests`).
  Setting either one is enough: this script copies it to the other.

Prints `ok <step>` per step; exits 0 on success, 1 on the first failure.
"""

import json
import os
import sys
import traceback

# --- CA bundle: must be settled before any httpx.Client is constructed --------
_ca = os.environ.get("SSL_CERT_FILE") or os.environ.get("REQUESTS_CA_BUNDLE")
if _ca:
    os.environ.setdefault("SSL_CERT_FILE", _ca)
    os.environ.setdefault("REQUESTS_CA_BUNDLE", _ca)

from auth0.authentication import GetToken  # noqa: E402
from auth0.authentication.exceptions import Auth0Error  # noqa: E402
from auth0.management import ManagementClient  # noqa: E402
from auth0.management.core.api_error import ApiError  # noqa: E402
from auth0.management.core.parse_error import ParsingError  # noqa: E402
import httpx  # noqa: E402  (SDK dependency; only used to report TokenProvider errors)

# Surface the first server error instead of letting the SDK retry
# (it retries 408/409/429/5xx and connection errors twice by default).
NO_RETRY = {"max_retries": 0}
MAX_PAGES = 50  # guard: offset pagers only stop on an empty page

LEGACY_DB = "sdk-legacy-db"
USERS_DB = "sdk-users"
USER_EMAIL = "sdk-user@example.com"
USER_PASSWORD = "Sdk-Passw0rd!"
SECRET = "s3cret-value"

LOGIN_V1 = (
    "function login(email, password, callback) {\n"
    "  callback(null, { user_id: email, email: email });\n"
    "}"
)
LOGIN_V2 = "function login(email, password, callback) {\n  callback(null, null);\n}"
GET_USER = "function getByEmail(email, callback) {\n  callback(null);\n}"


def legacy_options(login_script):
    return {
        "enabledDatabaseCustomization": True,
        "import_mode": True,
        "customScripts": {"login": login_script, "get_user": GET_USER},
        "configuration": {"API_KEY": SECRET},
    }


def env(name):
    value = os.environ.get(name)
    assert value, f"environment variable {name} is required"
    return value


def ok(step):
    print(f"ok {step}", flush=True)


def dump(model):
    """JSON-able dict of an SDK response model (wire names, extras kept)."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def collect(pager, what):
    """Iterate every page of an SDK pager, guarding against a server that
    ignores the page/from parameters (the SDK would then loop forever)."""
    items, pages = [], 0
    for page in pager.iter_pages():
        pages += 1
        assert pages <= MAX_PAGES, f"{what}: pagination did not terminate after {MAX_PAGES} pages"
        items.extend(page.items or [])
    return items


def main():
    domain = env("SLUICE_DOMAIN")
    client_id = env("SLUICE_CLIENT_ID")
    client_secret = env("SLUICE_CLIENT_SECRET")
    audience = f"https://{domain}/api/v2/"

    # a. token via the authentication module (requests, JSON body, client_secret_post)
    tok = GetToken(domain, client_id, client_secret=client_secret).client_credentials(audience)
    assert isinstance(tok, dict), f"token response is not a JSON object: {tok!r}"
    access_token = tok.get("access_token")
    assert access_token, f"no access_token in token response: {tok!r}"
    assert str(tok.get("token_type", "")).lower() == "bearer", f"token_type: {tok!r}"
    assert isinstance(tok.get("expires_in"), int), f"expires_in must be an int: {tok!r}"
    ok("token")

    mgmt = ManagementClient(domain=domain, token=access_token)

    # b. create a custom-database connection
    created = mgmt.connections.create(
        name=LEGACY_DB,
        strategy="auth0",
        options=legacy_options(LOGIN_V1),
        request_options=NO_RETRY,
    )
    conn_id = created.id
    assert conn_id, f"create connection returned no id: {dump(created)}"
    assert created.name == LEGACY_DB, f"create connection name: {created.name!r}"
    assert created.strategy == "auth0", f"create connection strategy: {created.strategy!r}"
    ok("connection-create")

    # c. read it back by id (raw response too, to scan the wire JSON for the secret)
    raw = mgmt.connections.with_raw_response.get(conn_id, request_options=NO_RETRY)
    got = raw.data
    wire = raw._response.text
    assert got.id == conn_id, f"get connection id: {got.id!r} != {conn_id!r}"
    assert got.name == LEGACY_DB, f"get connection name: {got.name!r}"
    assert got.strategy == "auth0", f"get connection strategy: {got.strategy!r}"
    opts = got.options or {}
    scripts = opts.get("customScripts") or {}
    assert scripts.get("login") == LOGIN_V1, f"customScripts.login: {scripts.get('login')!r}"
    assert scripts.get("get_user") == GET_USER, f"customScripts.get_user: {scripts.get('get_user')!r}"
    assert opts.get("import_mode") is True, f"options.import_mode: {opts.get('import_mode')!r}"
    assert opts.get("enabledDatabaseCustomization") is True, (
        f"options.enabledDatabaseCustomization: {opts.get('enabledDatabaseCustomization')!r}"
    )
    assert "API_KEY" in (opts.get("configuration") or {}), f"options.configuration: {opts.get('configuration')!r}"
    assert SECRET not in wire, f"configuration secret leaked in GET /connections/{conn_id}: {wire}"
    assert SECRET not in json.dumps(dump(created)), "configuration secret leaked in POST /connections response"
    ok("connection-get")

    # d. PATCH options with a changed login script, then read back
    updated = mgmt.connections.update(conn_id, options=legacy_options(LOGIN_V2), request_options=NO_RETRY)
    upd_scripts = (updated.options or {}).get("customScripts") or {}
    assert upd_scripts.get("login") == LOGIN_V2, f"PATCH response customScripts.login: {upd_scripts.get('login')!r}"
    assert SECRET not in json.dumps(dump(updated)), "configuration secret leaked in PATCH response"
    again = mgmt.connections.get(conn_id, request_options=NO_RETRY)
    again_scripts = (again.options or {}).get("customScripts") or {}
    assert again_scripts.get("login") == LOGIN_V2, f"customScripts.login after PATCH: {again_scripts.get('login')!r}"
    assert (again.options or {}).get("import_mode") is True, "import_mode lost after PATCH"
    ok("connection-update")

    # e. list connections (checkpoint pager: {"connections": [...], "next": ...})
    conns = collect(mgmt.connections.list(request_options=NO_RETRY), "connections")
    by_name = {c.name: c for c in conns}
    assert LEGACY_DB in by_name, f"{LEGACY_DB} not in connections list: {sorted(by_name)}"
    assert by_name[LEGACY_DB].id == conn_id, f"listed id {by_name[LEGACY_DB].id!r} != {conn_id!r}"
    ok("connection-list")

    # f. plain database connection + user, search, get, totals/pagination
    users_conn = mgmt.connections.create(
        name=USERS_DB, strategy="auth0", options={"passwordPolicy": "none"}, request_options=NO_RETRY
    )
    assert users_conn.id and users_conn.name == USERS_DB, f"create {USERS_DB}: {dump(users_conn)}"
    ok("users-connection-create")

    user = mgmt.users.create(
        connection=USERS_DB, email=USER_EMAIL, password=USER_PASSWORD, request_options=NO_RETRY
    )
    assert user.user_id and user.user_id.startswith("auth0|"), f"create user user_id: {user.user_id!r}"
    assert user.email == USER_EMAIL, f"create user email: {user.email!r}"
    user_json = dump(user)
    assert "password" not in user_json and USER_PASSWORD not in json.dumps(user_json), (
        f"create user response exposes the password: {user_json}"
    )
    ok("user-create")

    found = mgmt.users.list(q=f'email:"{USER_EMAIL}"', search_engine="v3", request_options=NO_RETRY)
    hits = found.items or []
    assert len(hits) == 1, f"search q=email returned {len(hits)} users: {[dump(u) for u in hits]}"
    hit = hits[0]
    assert hit.user_id and hit.user_id.startswith("auth0|"), f"search user_id: {hit.user_id!r}"
    assert hit.user_id == user.user_id, f"search user_id {hit.user_id!r} != created {user.user_id!r}"
    assert hit.email == USER_EMAIL, f"search email: {hit.email!r}"
    assert found.response.total == 1, f"search total: {dump(found.response)}"
    ok("user-search")

    fetched = mgmt.users.get(hit.user_id, request_options=NO_RETRY)
    assert fetched.user_id == hit.user_id, f"get user user_id: {fetched.user_id!r}"
    assert fetched.email == USER_EMAIL, f"get user email: {fetched.email!r}"
    idents = fetched.identities or []
    assert any(i.connection == USERS_DB for i in idents), f"identities lack {USERS_DB}: {dump(fetched)}"
    ok("user-get")

    first = mgmt.users.list(page=0, per_page=1, include_totals=True, request_options=NO_RETRY)
    body = first.response
    assert body.users is not None, f"users list lacks 'users': {dump(body)}"
    assert body.start == 0, f"users list start: {dump(body)}"
    assert body.limit == 1, f"users list limit: {dump(body)}"
    assert body.length == len(first.items or []) == 1, f"users list length: {dump(body)}"
    assert body.total is not None and body.total >= 1, f"users list total: {dump(body)}"
    everyone = collect(mgmt.users.list(per_page=1, include_totals=True, request_options=NO_RETRY), "users")
    assert len(everyone) == int(body.total), f"paged {len(everyone)} users, total says {body.total}"
    assert len({u.user_id for u in everyone}) == len(everyone), "pagination returned duplicate users"
    assert user.user_id in {u.user_id for u in everyone}, "created user missing from paged listing"
    ok("user-list-totals")

    # g. bootstrap client and its grant
    clients = collect(mgmt.clients.list(include_totals=True, request_options=NO_RETRY), "clients")
    assert client_id in {c.client_id for c in clients}, (
        f"bootstrap client {client_id} not in clients list: {[c.client_id for c in clients]}"
    )
    ok("clients-list")

    grants = collect(mgmt.client_grants.list(request_options=NO_RETRY), "client_grants")
    mine = [g for g in grants if g.client_id == client_id]
    assert mine, f"no client grant for {client_id}: {[dump(g) for g in grants]}"
    assert any(g.audience == audience for g in mine), (
        f"no grant for {client_id} with audience {audience}: {[dump(g) for g in mine]}"
    )
    ok("client-grants-list")

    # The 6.x recommended path: ManagementClient fetching its own token
    # (TokenProvider: httpx, form-encoded POST /oauth/token, needs expires_in).
    auto = ManagementClient(domain=domain, client_id=client_id, client_secret=client_secret)
    again_conn = auto.connections.get(conn_id, request_options=NO_RETRY)
    assert again_conn.name == LEGACY_DB, f"token-provider client get connection: {dump(again_conn)}"
    ok("token-provider")

    return 0


def report(exc):
    print(f"FAIL: {type(exc).__name__}: {exc}", file=sys.stderr)
    if isinstance(exc, (ApiError, ParsingError)):
        print(f"  status: {exc.status_code}", file=sys.stderr)
        print(f"  body: {exc.body!r}", file=sys.stderr)
        if getattr(exc, "cause", None) is not None:
            print(f"  parse error: {exc.cause}", file=sys.stderr)
    elif isinstance(exc, httpx.HTTPStatusError):
        print(f"  status: {exc.response.status_code}", file=sys.stderr)
        print(f"  body: {exc.response.text!r}", file=sys.stderr)
    elif isinstance(exc, Auth0Error):
        print(f"  status: {exc.status_code} error: {exc.error_code} message: {exc.message}", file=sys.stderr)
        if exc.content is not None:
            print(f"  body: {exc.content!r}", file=sys.stderr)
    traceback.print_exc(file=sys.stderr)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001
        report(e)
        sys.exit(1)
