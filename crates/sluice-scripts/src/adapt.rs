//! Source adapters for Rules, Hooks and Actions. The runtime calls one function expression
//! with positional arguments and a callback (the database-script contract); these wrap each
//! extensibility form into such a function without moving the author's first line, so line
//! numbers in errors stay the author's own:
//!
//! - Rule: `function (user, context, callback)` gets an `auth0` object whose
//!   `users.updateAppMetadata` / `updateUserMetadata` record what to persist; the result is
//!   `{user, context, persist}`.
//! - Hook: `module.exports = function (...)` (Auth0's webtask form), called with the trigger's
//!   arguments; the result is the callback's own.
//! - Action: `exports.onExecute<Trigger> = async (event, api) => {...}`; `api` records what the
//!   handler asks (claims, scopes, metadata, deny) and the result is that record. The parts of
//!   Auth0's `api` that Sluice cannot honour (`multifactor`, `authentication`, `redirect`) exist
//!   and record their use under `unsupported`, so that the core refuses the login instead of
//!   issuing tokens without what the action required.

use sluice_core::ports::{ScriptKind, Trigger};
use std::borrow::Cow;

/// The function expression the runtime compiles for `kind`.
pub fn adapt(kind: ScriptKind, source: &str) -> Cow<'_, str> {
    match kind {
        ScriptKind::Rule => Cow::Owned(rule(source)),
        ScriptKind::Hook(t) => Cow::Owned(hook(t, source)),
        ScriptKind::Action(t) => Cow::Owned(action(t, source)),
        _ => Cow::Borrowed(source),
    }
}

fn rule(source: &str) -> String {
    // Everything before the author's text stays on its first line.
    format!(
        "function (user, context, callback) {{ var __persist = {{}}; var auth0 = {{ users: {{ \
updateAppMetadata: function (id, md) {{ __persist.app_metadata = md === undefined ? null : md; return Promise.resolve(); }}, \
updateUserMetadata: function (id, md) {{ __persist.user_metadata = md === undefined ? null : md; return Promise.resolve(); }} }} }}; \
var __rule = ({source}\n); \
return __rule(user, context, function (err, u, c) {{ if (err) return callback(err); \
callback(null, {{ user: u === undefined ? user : u, context: c === undefined ? context : c, persist: __persist }}); }}); }}"
    )
}

fn module_prelude() -> &'static str {
    "var module = { exports: {} }; var exports = module.exports; (function (module, exports) { "
}

fn hook(t: Trigger, source: &str) -> String {
    let params = if t == Trigger::CredentialsExchange {
        "a0, a1, a2, a3"
    } else {
        "a0, a1"
    };
    format!(
        "function ({params}, cb) {{ {prelude}{source}\n}})(module, exports); \
var __hook = module.exports; \
if (typeof __hook !== 'function') throw new TypeError('a hook must set module.exports to a function'); \
return __hook({params}, cb); }}",
        prelude = module_prelude()
    )
}

fn action(t: Trigger, source: &str) -> String {
    let handler = t.action_handler();
    format!(
        "function (event, callback) {{ {prelude}{source}\n}})(module, exports); \
var __h = (module.exports && module.exports.{handler}) || exports.{handler}; \
var __r = {{ id_token: {{}}, access_token: {{}}, app_metadata: {{}}, user_metadata: {{}}, deny: null, scopes_added: [], scopes_removed: [], unsupported: [] }}; \
var __claim = function (o) {{ return function (k, v) {{ o[String(k)] = v === undefined ? null : v; }}; }}; \
var __no = function (what) {{ return function () {{ if (__r.unsupported.indexOf(what) < 0) __r.unsupported.push(what); return ''; }}; }}; \
var api = {{ \
idToken: {{ setCustomClaim: __claim(__r.id_token) }}, \
accessToken: {{ setCustomClaim: __claim(__r.access_token), addScope: function (s) {{ __r.scopes_added.push(String(s)); }}, removeScope: function (s) {{ __r.scopes_removed.push(String(s)); }} }}, \
access: {{ deny: function (a, b) {{ __r.deny = b === undefined ? {{ code: null, reason: String(a) }} : {{ code: String(a), reason: String(b) }}; }} }}, \
user: {{ setAppMetadata: __claim(__r.app_metadata), setUserMetadata: __claim(__r.user_metadata) }}, \
multifactor: {{ enable: __no('api.multifactor.enable') }}, \
authentication: {{ challengeWith: __no('api.authentication.challengeWith'), challengeWithAny: __no('api.authentication.challengeWithAny'), enrollWith: __no('api.authentication.enrollWith'), enrollWithAny: __no('api.authentication.enrollWithAny'), recordMethod: __no('api.authentication.recordMethod') }}, \
redirect: {{ sendUserTo: __no('api.redirect.sendUserTo'), encodeToken: __no('api.redirect.encodeToken'), validateToken: __no('api.redirect.validateToken') }} }}; \
Promise.resolve().then(function () {{ return typeof __h === 'function' ? __h(event, api) : undefined; }}) \
.then(function () {{ callback(null, __r); }}, function (e) {{ callback(e); }}); }}",
        prelude = module_prelude()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authors_first_line_stays_the_first_line() {
        for kind in [
            ScriptKind::Rule,
            ScriptKind::Hook(Trigger::CredentialsExchange),
            ScriptKind::Action(Trigger::PostLogin),
        ] {
            let src = "function (a) {\n  return 1;\n}";
            let out = adapt(kind, src);
            let first = out.lines().next().unwrap();
            assert!(first.ends_with("function (a) {"), "{kind:?}: {first}");
            assert_eq!(out.lines().nth(1), Some("  return 1;"));
        }
        assert_eq!(adapt(ScriptKind::Login, "x"), "x");
    }
}
