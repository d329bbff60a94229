//! Management API `clients` (applications): the writable body and the returned object.

use crate::JsonMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Writable fields of a client (`POST /api/v2/clients`, `PATCH /api/v2/clients/{id}`) and the
/// stored form. Fields Sluice acts on are typed; the others Auth0 accepts are stored and
/// returned verbatim.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    /// Allowed callback (redirect) URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callbacks: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_aliases: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_clients: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_logout_urls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    /// `none`, `client_secret_post` or `client_secret_basic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// `native`, `spa`, `regular_web`, `non_interactive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_first_party: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_conformant: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_configuration: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<JsonMap>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiate_login_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso_disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_origin_authentication: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_origin_auth: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_origin_loc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_login_page_on: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_login_page: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_login_page_preview: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addons: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_social_login: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_usage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_require_behavior: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_pushed_authorization_requests: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_proof_of_possession: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_logout: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_backchannel_logout: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_token_endpoint_ip_header_trusted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_authentication_methods: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_organization: Option<Value>,
    /// Write-only on create: operators may choose the secret (Auth0 allows it on PATCH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// A client as the Management API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    pub tenant: String,
    pub global: bool,
    /// Present only for callers with `read:client_keys`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(flatten)]
    pub body: ClientBody,
}
