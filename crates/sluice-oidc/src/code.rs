//! The end of an authorization: post-login extensibility, the SSO session of a fresh sign-in,
//! and the authorization code for the application ([`Oidc::authorization_complete`]). Codes
//! are stored under the SHA-256 of the code and redeemed once by
//! [`super::grants::authorization_code`].

use crate::Oidc;
use crate::authorize::AuthorizeRequest;
use crate::refresh::artifact_key;
use serde::{Deserialize, Serialize};
use sluice_core::clients::StoredClient;
use sluice_core::error::CoreError;
use sluice_core::error::OAuthErrorKind;
use sluice_core::extend::run::{LoginExtras, PostLogin};
use sluice_core::model::UserRecord;
use sluice_core::ports::{Artifact, ArtifactKind};
use sluice_core::tenant::TenantCtx;
use sluice_crypto::random;
use sluice_types::User;

/// How long a code can wait to be exchanged.
pub const CODE_LIFETIME: i64 = 300;

#[derive(Serialize, Deserialize)]
pub(crate) struct Stored {
    pub(crate) request: AuthorizeRequest,
    pub(crate) auth_time: i64,
    pub(crate) session_id: Option<String>,
    pub(crate) connection: String,
    /// Claims Rules and Actions added at login.
    #[serde(default)]
    pub(crate) extras: LoginExtras,
}

pub(crate) fn invalid_code() -> CoreError {
    CoreError::oauth(OAuthErrorKind::InvalidGrant, "Invalid authorization code")
}

/// Where the user goes back to: the application's redirect URI and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizeResponse {
    pub redirect_uri: String,
    pub response_mode: Option<String>,
    pub params: Vec<(String, String)>,
}

/// How the user of an authorization signed in.
#[derive(Debug, Clone, Copy)]
pub enum SignIn<'a> {
    /// Just now, on the login page, to this connection: a new SSO session is opened.
    Fresh { connection: &'a str },
    /// Earlier, through the SSO session `id`.
    Session {
        id: &'a str,
        auth_time: i64,
        connection: &'a str,
    },
}

/// Where an authorization ends.
#[derive(Debug)]
pub enum Completion {
    /// Post-login extensibility denied the login: the application gets the error.
    Denied(AuthorizeResponse),
    /// The code for the application, and the cookie of the SSO session opened for a fresh
    /// sign-in.
    Granted {
        response: AuthorizeResponse,
        session_cookie: Option<String>,
    },
}

/// What `/authorize` does with a validated request.
#[derive(Debug)]
pub enum AuthorizeNext {
    /// The SSO session answered: Rules and Actions ran again, and the application gets a code
    /// (or their denial).
    Completed(Completion),
    /// `prompt=none` without a usable session: `login_required` for the application.
    LoginRequired(AuthorizeResponse),
    /// No database connection the login pages could use for this client (said on a page).
    NoLoginConnection(CoreError),
    /// The user signs in (or, with `screen_hint=signup`, up) on the login pages.
    SignIn { signup: bool },
}

impl Oidc {
    /// Decides what `/authorize` does after validation. The SSO session (its cookie, if the
    /// browser sent one) answers unless the application asks for a fresh login
    /// (`prompt=login`), its authentication is older than `max_age`, it is of another
    /// connection than the one asked for, or that connection is not enabled for the client.
    /// Otherwise `prompt=none` is `login_required`, and anything else goes to the login pages.
    #[allow(clippy::too_many_arguments)]
    pub async fn authorize_next(
        &self,
        t: &TenantCtx,
        request: &AuthorizeRequest,
        client: &StoredClient,
        session_cookie: Option<&str>,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<AuthorizeNext, CoreError> {
        let prompts: Vec<&str> = request
            .prompt
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        if !prompts.contains(&"login")
            && let Some(cookie) = session_cookie
            && let Some(session) = self.session_find(t, cookie).await?
            && request
                .max_age
                .is_none_or(|m| session.auth_time + m >= self.core.now())
            && request
                .connection
                .as_deref()
                .is_none_or(|c| c == session.connection)
            && self
                .connection_for_client(t, client, &session.connection)
                .await
                .is_ok()
        {
            let sign_in = SignIn::Session {
                id: &session.id,
                auth_time: session.auth_time,
                connection: &session.connection,
            };
            let done = self
                .authorization_complete(
                    t,
                    request,
                    client,
                    session.user.clone(),
                    sign_in,
                    ip,
                    user_agent,
                )
                .await?;
            return Ok(AuthorizeNext::Completed(done));
        }
        if prompts.contains(&"none") {
            let mut params = vec![
                ("error".to_string(), "login_required".to_string()),
                (
                    "error_description".to_string(),
                    "Login required".to_string(),
                ),
            ];
            if let Some(st) = &request.state {
                params.push(("state".into(), st.clone()));
            }
            return Ok(AuthorizeNext::LoginRequired(AuthorizeResponse {
                redirect_uri: request.redirect_uri.clone(),
                response_mode: request.response_mode.clone(),
                params,
            }));
        }
        // The pages need a database connection for this client: fail early, on the page.
        if let Err(e) = self
            .login_connection(t, client, request.connection.as_deref())
            .await
        {
            return Ok(AuthorizeNext::NoLoginConnection(e));
        }
        Ok(AuthorizeNext::SignIn {
            signup: request.screen_hint.as_deref() == Some("signup"),
        })
    }

    /// Issues a code for `user` and returns where to send the browser.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn code_issue(
        &self,
        t: &TenantCtx,
        request: &AuthorizeRequest,
        user: &User,
        auth_time: i64,
        session_id: Option<&str>,
        connection: &str,
        extras: LoginExtras,
    ) -> Result<AuthorizeResponse, CoreError> {
        let code = random::random_token(32);
        let now = self.core.now();
        let stored = Stored {
            request: request.clone(),
            auth_time,
            session_id: session_id.map(str::to_string),
            connection: connection.to_string(),
            extras,
        };
        self.core
            .store
            .artifact_insert(&Artifact {
                tenant_id: t.id.clone(),
                kind: ArtifactKind::Code,
                key: artifact_key(&code),
                family: random::random_hex(24),
                user_id: Some(user.user_id.clone()),
                client_id: Some(request.client_id.clone()),
                body: sluice_core::model::to_body(&stored)?,
                created_at: now,
                expires_at: now + CODE_LIFETIME,
                used_at: None,
            })
            .await?;
        let mut params = vec![("code".to_string(), code)];
        if let Some(s) = &request.state {
            params.push(("state".into(), s.clone()));
        }
        Ok(AuthorizeResponse {
            redirect_uri: request.redirect_uri.clone(),
            response_mode: request.response_mode.clone(),
            params,
        })
    }

    /// Rules and post-login Actions for a browser sign-in. A denial or failure is an error
    /// for the application (`Err` holds where to send the browser).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn authorize_post_login(
        &self,
        t: &TenantCtx,
        request: &AuthorizeRequest,
        client: &StoredClient,
        user: &mut UserRecord,
        connection: &str,
        session_id: Option<&str>,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<Result<LoginExtras, AuthorizeResponse>, CoreError> {
        let mut query = sluice_types::JsonMap::new();
        query.insert("client_id".into(), request.client_id.clone().into());
        query.insert("redirect_uri".into(), request.redirect_uri.clone().into());
        query.insert("scope".into(), request.scope.clone().into());
        if let Some(a) = &request.audience {
            query.insert("audience".into(), a.clone().into());
        }
        let r = self
            .core
            .post_login(
                t,
                user,
                PostLogin {
                    client,
                    connection,
                    protocol: "oidc-basic-profile",
                    ip,
                    user_agent,
                    query,
                    scope: &request.scope,
                    audience: request.audience.as_deref(),
                    session_id,
                },
            )
            .await;
        match r {
            Ok(extras) => Ok(Ok(extras)),
            Err(CoreError::OAuth { kind, description }) => {
                let mut params = vec![
                    ("error".to_string(), kind.code().to_string()),
                    ("error_description".to_string(), description),
                ];
                if let Some(s) = &request.state {
                    params.push(("state".into(), s.clone()));
                }
                Ok(Err(AuthorizeResponse {
                    redirect_uri: request.redirect_uri.clone(),
                    response_mode: request.response_mode.clone(),
                    params,
                }))
            }
            Err(e) => Err(e),
        }
    }

    /// The one post-login sequence of an authorization, for a user who just signed in on the
    /// login page and for one who arrives with an SSO session alike: Rules and post-login
    /// Actions (which may deny), then — for a fresh sign-in — a new SSO session, then the code
    /// for the application.
    #[allow(clippy::too_many_arguments)]
    pub async fn authorization_complete(
        &self,
        t: &TenantCtx,
        request: &AuthorizeRequest,
        client: &StoredClient,
        mut user: UserRecord,
        sign_in: SignIn<'_>,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<Completion, CoreError> {
        let (connection, session_id) = match sign_in {
            SignIn::Fresh { connection } => (connection, None),
            SignIn::Session { id, connection, .. } => (connection, Some(id)),
        };
        let extras = match self
            .authorize_post_login(
                t, request, client, &mut user, connection, session_id, ip, user_agent,
            )
            .await?
        {
            Ok(x) => x,
            Err(denied) => return Ok(Completion::Denied(denied)),
        };
        let (auth_time, sid, session_cookie) = match sign_in {
            SignIn::Fresh { connection } => {
                let (cookie, session) = self.session_create(t, &user, connection).await?;
                (session.auth_time, session.id, Some(cookie))
            }
            SignIn::Session { id, auth_time, .. } => (auth_time, id.to_string(), None),
        };
        let response = self
            .code_issue(
                t,
                request,
                &user.profile,
                auth_time,
                Some(&sid),
                connection,
                extras,
            )
            .await?;
        Ok(Completion::Granted {
            response,
            session_cookie,
        })
    }
}
