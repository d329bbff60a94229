//! Auth0 PATCH semantics for Management API resources: top-level keys present in the body
//! replace the stored ones (a `null` clears an optional field); nested objects are replaced
//! whole (Auth0 replaces `options` of a connection entirely).

use crate::JsonMap;
use serde::{Serialize, de::DeserializeOwned};

/// Applies `patch` over `current` and parses the result back into `T`, so the merged value is
/// validated by the same rules as a create body.
pub fn merge_top_level<T: Serialize + DeserializeOwned>(
    current: &T,
    patch: JsonMap,
) -> Result<T, serde_json::Error> {
    let mut base = match serde_json::to_value(current)? {
        serde_json::Value::Object(m) => m,
        _ => JsonMap::new(),
    };
    for (k, v) in patch {
        if v.is_null() {
            base.remove(&k);
        } else {
            base.insert(k, v);
        }
    }
    serde_json::from_value(serde_json::Value::Object(base))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct T {
        #[serde(skip_serializing_if = "Option::is_none")]
        a: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        b: Option<serde_json::Value>,
    }

    #[test]
    fn present_keys_replace_null_clears_nested_replaced_whole() {
        let cur = T {
            a: Some("x".into()),
            b: Some(serde_json::json!({"k": 1, "j": 2})),
        };
        let patch = serde_json::json!({"a": null, "b": {"k": 3}});
        let out = merge_top_level(&cur, patch.as_object().unwrap().clone()).unwrap();
        assert_eq!(
            out,
            T {
                a: None,
                b: Some(serde_json::json!({"k": 3}))
            }
        );
    }

    #[test]
    fn unknown_key_in_patch_is_rejected() {
        let cur = T { a: None, b: None };
        let patch = serde_json::json!({"nope": 1});
        assert!(merge_top_level(&cur, patch.as_object().unwrap().clone()).is_err());
    }
}
