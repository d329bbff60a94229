//! Rendering: the template environment (built once per server), the tenant's branding, the
//! security headers every page carries, and the mapping of a flow's error to the message a
//! user sees (script errors and internals become a generic message; the detail is logged).

use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use minijinja::{Environment, Value, context};
use sluice_core::{Core, TenantCtx};

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("signup.html", include_str!("../../templates/signup.html")),
    ("forgot.html", include_str!("../../templates/forgot.html")),
    ("reset.html", include_str!("../../templates/reset.html")),
    ("message.html", include_str!("../../templates/message.html")),
    (
        "form_post.html",
        include_str!("../../templates/form_post.html"),
    ),
];

/// Auth0's default primary colour and page background.
const DEFAULT_PRIMARY: &str = "#635dff";
const DEFAULT_BACKGROUND: &str = "#eef1f5";

/// The compiled templates.
pub struct Pages {
    env: Environment<'static>,
}

impl Default for Pages {
    fn default() -> Self {
        Self::new()
    }
}

fn is_colour(s: &str) -> bool {
    let hex = s.strip_prefix('#').unwrap_or("");
    matches!(hex.len(), 3 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The branding of a tenant's pages: `friendly_name`, `picture_url` and
/// `universal_login.colors.{primary,page_background}` from its settings.
pub async fn brand(core: &Core, t: &TenantCtx) -> Value {
    let settings = core.tenant_settings(t).await.unwrap_or_default();
    let s = |k: &str| settings.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let colour = |k: &str, d: &str| {
        settings
            .get("universal_login")
            .and_then(|u| u.get("colors"))
            .and_then(|c| c.get(k))
            .and_then(|v| v.as_str())
            .filter(|v| is_colour(v))
            .unwrap_or(d)
            .to_string()
    };
    let logo = s("picture_url").filter(|u| u.starts_with("https://") || u.starts_with("http://"));
    context! {
        name => s("friendly_name").unwrap_or_else(|| t.name.clone()),
        logo => logo,
        primary => colour("primary", DEFAULT_PRIMARY),
        background => colour("page_background", DEFAULT_BACKGROUND),
    }
}

impl Pages {
    pub fn new() -> Self {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .expect("the built-in templates compile");
        }
        Pages { env }
    }

    /// Renders `name` with `ctx` as an HTML page with the pages' security headers.
    pub fn render(&self, status: StatusCode, name: &str, ctx: Value) -> Response {
        let html = match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, template = name, "page rendering failed");
                return (StatusCode::INTERNAL_SERVER_ERROR, "Internal error.").into_response();
            }
        };
        let mut r = (status, Html(html)).into_response();
        let h = r.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
        h.insert("x-frame-options", HeaderValue::from_static("DENY"));
        h.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        let csp = if name == "form_post.html" {
            "default-src 'none'; script-src 'unsafe-inline'; form-action *"
        } else {
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; form-action 'self'; frame-ancestors 'none'"
        };
        h.insert("content-security-policy", HeaderValue::from_static(csp));
        r
    }

    /// A page with one message (an error or a status).
    pub async fn message(
        &self,
        core: &Core,
        t: &TenantCtx,
        status: StatusCode,
        title: &str,
        error: Option<&str>,
        ok: Option<&str>,
    ) -> Response {
        let brand = brand(core, t).await;
        self.render(
            status,
            "message.html",
            context! { brand, title, error, status => ok },
        )
    }
}

/// Lets the forms of a page end in a redirect to the application at `redirect_uri`: browsers
/// check `form-action` on every redirect that follows a form submission, so with `'self'`
/// alone the sign-in's redirect to the application's callback is blocked.
pub fn allow_form_redirect(mut r: Response, redirect_uri: &str) -> Response {
    let Some(source) = csp_source(redirect_uri) else {
        return r;
    };
    let h = r.headers_mut();
    let csp = h
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.replace(
                "form-action 'self'",
                &format!("form-action 'self' {source}"),
            )
        });
    if let Some(v) = csp.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

/// The CSP source of a redirect URI: its origin for http(s) (`https://app.example.com:8443`),
/// its scheme for a native application's custom scheme (`com.example.app:`).
fn csp_source(redirect_uri: &str) -> Option<String> {
    let uri: http::Uri = redirect_uri.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let source = if scheme == "http" || scheme == "https" {
        let a = uri.authority()?;
        match a.port_u16() {
            Some(p) => format!("{scheme}://{}:{p}", a.host()),
            None => format!("{scheme}://{}", a.host()),
        }
    } else {
        format!("{scheme}:")
    };
    let safe = |c: char| c.is_ascii_alphanumeric() || "+-.:/[]".contains(c);
    source.chars().all(safe).then_some(source)
}

pub use crate::error::{generic, user_message};

#[cfg(test)]
mod tests {
    use super::*;

    fn brand() -> Value {
        context! { name => "Acme <Corp>", logo => None::<String>, primary => "#635dff", background => "#eef1f5" }
    }

    #[test]
    fn every_page_renders_and_escapes_what_it_shows() {
        let p = Pages::new();
        let evil = "<script>alert(1)</script>";
        for (name, ctx) in [
            (
                "login.html",
                context! { brand => brand(), title => "Welcome", state => "s t", csrf => "c", username => evil, error => evil, identifier_label => "Email address", identifier_type => "email", signup_allowed => true },
            ),
            (
                "signup.html",
                context! { brand => brand(), title => "Sign up", state => "s", csrf => "c", email => evil, username => "", error => None::<String>, requires_username => true, policy => "At least 6 characters." },
            ),
            (
                "forgot.html",
                context! { brand => brand(), title => "Forgot", state => "s", csrf => "c", email => evil, sent => true },
            ),
            (
                "reset.html",
                context! { brand => brand(), title => "Reset", ticket => "t", error => evil, policy => "x" },
            ),
            (
                "message.html",
                context! { brand => brand(), title => "Done", status => evil },
            ),
            (
                "form_post.html",
                context! { action => "https://app/cb", params => vec![("code", evil)] },
            ),
        ] {
            let r = p.render(StatusCode::OK, name, ctx);
            assert_eq!(r.status(), StatusCode::OK, "{name} renders");
            let csp = r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(csp.contains("default-src 'none'"), "{name}: {csp}");
        }
        let r = p.render(StatusCode::OK, "login.html", context! { brand => brand(), title => "Welcome", state => "s t", csrf => "c", username => evil, error => evil });
        let body = futures_body(r);
        assert!(!body.contains("<script>alert"), "user input is escaped");
        assert!(
            body.contains("state=s%20t"),
            "the state is URL-encoded in form actions"
        );
        assert!(body.contains("Acme &lt;Corp&gt;"));
    }

    #[test]
    fn forms_may_redirect_to_the_application_origin_only() {
        let page = || {
            Pages::new().render(
                StatusCode::OK,
                "message.html",
                context! { brand => brand(), title => "t" },
            )
        };
        let csp = |r: Response| {
            r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_string()
        };
        for (uri, wanted) in [
            (
                "https://app.example.com/callback?x=1",
                "form-action 'self' https://app.example.com;",
            ),
            (
                "http://user@127.0.0.1:8080/cb",
                "form-action 'self' http://127.0.0.1:8080;",
            ),
            (
                "com.example.app://callback",
                "form-action 'self' com.example.app:;",
            ),
            ("https://a.example;script-src *", "form-action 'self';"),
            ("not a uri", "form-action 'self';"),
        ] {
            let got = csp(allow_form_redirect(page(), uri));
            assert!(got.contains(wanted), "{uri}: {got}");
        }
    }

    fn futures_body(r: Response) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = rt
            .block_on(axum::body::to_bytes(r.into_body(), usize::MAX))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}
