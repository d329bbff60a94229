//! Operator-added pure-JS packages: a directory the operator fills with `npm install`, from
//! which scripts may `require` the packages named in an allow list ([`Packages`]).
//!
//! Every file access is here, confined to that directory: paths are normalised lexically
//! (`.`/`..` segments, never above the directory), absolute paths, NUL and backslashes are
//! refused, and each file is canonicalised before it is read so a symlink cannot lead outside.
//! Only `.js`, `.cjs` and `.json` files are read, at most [`MAX_FILE_BYTES`] each.
//!
//! Resolution follows Node's CommonJS algorithm, restricted to the directory:
//! - a bare request `pkg` or `pkg/sub` looks in `node_modules` directories from the requiring
//!   file's directory upwards, stopping at the package directory; from a script, only the
//!   top-level `node_modules` is searched;
//! - a package directory loads its `package.json` `exports` target for the subpath (conditions
//!   `require`, `node`, `default`, in the object's order; `*` patterns), else its `main`, else
//!   `index.js`/`index.json`; a subpath not listed in `exports` falls back to the file on disk;
//! - a file request `X` tries `X`, `X.js`, `X.json`, then `X` as a directory;
//! - relative requests (`./x`, `../y`) are resolved against the requiring file's directory;
//!   absolute ones only inside the virtual root [`VIRTUAL_ROOT`] (from package files, e.g.
//!   `__dirname + '/x'`).
//!
//! Modules are identified by their canonical path (symlinks followed, as Node does), given to
//! JavaScript as `/packages/<path>` so no host path is revealed.
//!
//! Policy: a script may require a package only if its top-level name (`lodash`, `@scope/name`)
//! is in the allow list, and then any file inside that package (a subpath cannot climb out of
//! it). Files of packages may require anything inside the directory: the allow list gates what
//! scripts reach, and transitive dependencies the operator installed are loadable by the
//! packages that depend on them. Host modules and forbidden built-ins are decided before this
//! module is asked (in the prelude's `require`), so they win over packages of the same name.

use crate::egress::ModuleEnv;
use rquickjs::context::EvalOptions;
use rquickjs::{Ctx, Exception, Function, Object, Value};
use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Where the package directory appears to JavaScript (`__filename`, stack traces).
pub const VIRTUAL_ROOT: &str = "/packages";
/// The largest package file read.
pub const MAX_FILE_BYTES: u64 = 5 * 1024 * 1024;
/// The extensions of files that may be read.
const EXTENSIONS: &[&str] = &[".js", ".cjs", ".json"];
/// The `exports` conditions matched, whichever comes first in the object.
const CONDITIONS: &[&str] = &["require", "node", "default"];

/// The operator's package directory and the packages scripts may require from it.
#[derive(Debug, Clone)]
pub struct Packages {
    /// The directory, canonicalised.
    root: PathBuf,
    allow: BTreeSet<String>,
}

/// Lexically normalises the '/'-separated `path` appended to `base` (already normalised):
/// drops empty and `.` segments and resolves `..`. `None` if the result would climb above the
/// root, or either contains NUL or a backslash. The result has no leading or trailing '/'.
fn normalize(base: &str, path: &str) -> Option<String> {
    if [base, path].iter().any(|s| s.contains(['\0', '\\'])) {
        return None;
    }
    let mut out: Vec<&str> = Vec::new();
    for seg in base.split('/').chain(path.split('/')) {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    Some(out.join("/"))
}

/// `dir/name`, for a normalised `dir` (possibly the root, "").
fn child(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Whether the normalised `path` is `dir` or inside it.
fn within(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn has_extension(path: &str) -> bool {
    EXTENSIONS.iter().any(|e| path.ends_with(e))
}

fn is_relative(request: &str) -> bool {
    request == "." || request == ".." || request.starts_with("./") || request.starts_with("../")
}

/// Splits a bare request into its package name (`pkg`, `@scope/pkg`) and subpath (possibly
/// empty). `None` for relative or absolute requests and malformed names.
pub fn parse_bare(request: &str) -> Option<(&str, &str)> {
    if request.starts_with(['.', '/']) || request.contains(['\0', '\\']) {
        return None;
    }
    let end = if request.starts_with('@') {
        let first = request.find('/')?;
        request[first + 1..]
            .find('/')
            .map_or(request.len(), |i| first + 1 + i)
    } else {
        request.find('/').unwrap_or(request.len())
    };
    let name = &request[..end];
    let sub = request.get(end + 1..).unwrap_or("");
    let last = name.rsplit('/').next().unwrap_or("");
    let scope_ok = !name.starts_with('@') || name.find('/').is_some_and(|i| i > 1);
    if last.is_empty() || last == "." || last == ".." || !scope_ok {
        return None;
    }
    Some((name, sub))
}

/// The target of `key` (`.` or `./sub`) in a package's `exports`, if it names one.
fn exports_target(exports: &Json, key: &str) -> Option<String> {
    let map = match exports {
        Json::Object(m) if m.keys().next().is_some_and(|k| k.starts_with('.')) => m,
        _ => {
            return if key == "." {
                conditional(exports)
            } else {
                None
            };
        }
    };
    if let Some(v) = map.get(key) {
        return conditional(v);
    }
    // Patterns ("./features/*.js"): the longest matching prefix wins.
    let mut best: Option<(usize, &Json, &str)> = None;
    for (k, v) in map {
        let Some((pre, post)) = k.split_once('*') else {
            continue;
        };
        if key.len() >= pre.len() + post.len()
            && key.starts_with(pre)
            && key.ends_with(post)
            && best.is_none_or(|b| pre.len() > b.0)
        {
            best = Some((pre.len(), v, &key[pre.len()..key.len() - post.len()]));
        }
    }
    let (_, v, matched) = best?;
    conditional(v).map(|t| t.replace('*', matched))
}

/// A target (string, array of fallbacks, or conditions object) as a `./` path.
fn conditional(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => s.starts_with("./").then(|| s.clone()),
        Json::Array(a) => a.iter().find_map(conditional),
        Json::Object(o) => o
            .iter()
            .filter(|(k, _)| CONDITIONS.contains(&k.as_str()))
            .find_map(|(_, v)| conditional(v)),
        _ => None,
    }
}

impl Packages {
    /// The packages in `dir` (which must exist) that scripts may require: `allow` holds
    /// top-level package names (`lodash`, `@scope/name`).
    pub fn new<S: Into<String>>(
        dir: impl AsRef<Path>,
        allow: impl IntoIterator<Item = S>,
    ) -> Result<Packages, String> {
        let dir = dir.as_ref();
        let root = fs::canonicalize(dir)
            .map_err(|e| format!("package directory {}: {e}", dir.display()))?;
        if !root.is_dir() {
            return Err(format!(
                "package directory {} is not a directory",
                dir.display()
            ));
        }
        let mut names = BTreeSet::new();
        for name in allow {
            let name: String = name.into();
            if parse_bare(&name) != Some((name.as_str(), "")) {
                return Err(format!(
                    "'{name}' in the package allow list is not a package name"
                ));
            }
            names.insert(name);
        }
        Ok(Packages { root, allow: names })
    }

    /// The package directory (canonical).
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// Whether a script may require `request`, a bare request whose package is allow-listed.
    pub fn allowed(&self, request: &str) -> bool {
        parse_bare(request).is_some_and(|(name, _)| self.allow.contains(name))
    }

    /// The canonical root-relative path of `rel` and its metadata, if it exists inside the
    /// directory once symlinks are followed.
    fn confined(&self, rel: &str) -> Option<(String, fs::Metadata)> {
        let canon = fs::canonicalize(self.root.join(rel)).ok()?;
        let inner = canon.strip_prefix(&self.root).ok()?;
        let mut segs = Vec::new();
        for c in inner.components() {
            match c {
                Component::Normal(s) => segs.push(s.to_str()?),
                _ => return None,
            }
        }
        let meta = fs::metadata(&canon).ok()?;
        Some((segs.join("/"), meta))
    }

    /// The canonical path of the loadable file `rel`, if it is one.
    fn file(&self, rel: &str) -> Option<String> {
        if !has_extension(rel) {
            return None;
        }
        let (canon, meta) = self.confined(rel)?;
        (meta.is_file() && has_extension(&canon)).then_some(canon)
    }

    fn load_as_file(&self, x: &str) -> Option<String> {
        self.file(x)
            .or_else(|| self.file(&format!("{x}.js")))
            .or_else(|| self.file(&format!("{x}.json")))
    }

    fn load_index(&self, x: &str) -> Option<String> {
        self.file(&child(x, "index.js"))
            .or_else(|| self.file(&child(x, "index.json")))
    }

    fn package_json(&self, dir: &str) -> Option<Json> {
        let text = self.read(&child(dir, "package.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn load_as_dir(&self, x: &str) -> Option<String> {
        let main = self.package_json(x).and_then(|pj| match pj.get("main") {
            Some(Json::String(m)) if !m.is_empty() => Some(m.clone()),
            _ => None,
        });
        if let Some(m) = main.and_then(|m| normalize(x, &m))
            && let Some(f) = self.load_as_file(&m).or_else(|| self.load_index(&m))
        {
            return Some(f);
        }
        self.load_index(x)
    }

    fn load_path(&self, x: &str) -> Option<String> {
        self.load_as_file(x).or_else(|| self.load_as_dir(x))
    }

    /// `name` (with `sub`) from the `node_modules` directory `nm`. The subpath cannot leave
    /// the package's directory.
    fn load_node_module(&self, nm: &str, name: &str, sub: &str) -> Option<String> {
        let pkg = child(nm, name);
        let x = normalize(&pkg, sub)?;
        if !within(&x, &pkg) {
            return None;
        }
        if let Some(exports) = self
            .package_json(&pkg)
            .and_then(|pj| pj.get("exports").cloned())
        {
            let key = if sub.is_empty() {
                ".".to_string()
            } else {
                format!("./{sub}")
            };
            if let Some(f) = exports_target(&exports, &key)
                .and_then(|t| normalize(&pkg, &t))
                .filter(|t| within(t, &pkg))
                .and_then(|t| self.file(&t))
            {
                return Some(f);
            }
        }
        self.load_path(&x)
    }

    /// Node's lookup through `node_modules` directories from `dir` up to the root.
    fn node_modules_lookup(&self, dir: &str, name: &str, sub: &str) -> Option<String> {
        let segs: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
        (0..=segs.len()).rev().find_map(|i| {
            if i > 0 && segs[i - 1] == "node_modules" {
                return None;
            }
            let nm = child(&segs[..i].join("/"), "node_modules");
            self.load_node_module(&nm, name, sub)
        })
    }

    /// Resolves `request` made by the package file `parent` (a virtual file name as returned
    /// by this function), or by a script (`None`: allow-listed bare requests only). Returns the
    /// virtual file name of the module, `/packages/<canonical path>`.
    pub fn resolve(&self, request: &str, parent: Option<&str>) -> Option<String> {
        if request.is_empty() || request.contains(['\0', '\\']) {
            return None;
        }
        let rel = match parent {
            None => {
                let (name, sub) = parse_bare(request)?;
                if !self.allow.contains(name) {
                    return None;
                }
                self.load_node_module("node_modules", name, sub)?
            }
            Some(parent) => {
                let parent = normalize("", parent.strip_prefix(VIRTUAL_ROOT)?.strip_prefix('/')?)?;
                let dir = parent.rsplit_once('/').map_or("", |(d, _)| d);
                if is_relative(request) {
                    self.load_path(&normalize(dir, request)?)?
                } else if let Some(abs) = request.strip_prefix(VIRTUAL_ROOT) {
                    if !abs.is_empty() && !abs.starts_with('/') {
                        return None;
                    }
                    self.load_path(&normalize("", abs)?)?
                } else if request.starts_with('/') {
                    return None;
                } else {
                    let (name, sub) = parse_bare(request)?;
                    self.node_modules_lookup(dir, name, sub)?
                }
            }
        };
        Some(format!("{VIRTUAL_ROOT}/{rel}"))
    }

    /// The text of the package file at `rel`, a path relative to the directory: normalised,
    /// confined to the directory (symlinks included), a `.js`/`.cjs`/`.json` file of at most
    /// [`MAX_FILE_BYTES`], UTF-8.
    pub fn read(&self, rel: &str) -> Result<String, String> {
        let invalid = || format!("invalid package file path '{rel}'");
        if rel.starts_with('/') {
            return Err(invalid());
        }
        let norm = normalize("", rel).ok_or_else(invalid)?;
        let canon = self
            .file(&norm)
            .ok_or_else(|| format!("no package file '{rel}'"))?;
        let path = self.root.join(&canon);
        let too_large = || format!("package file '{rel}' is larger than {MAX_FILE_BYTES} bytes");
        let meta = fs::metadata(&path).map_err(|e| format!("package file '{rel}': {e}"))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        fs::File::open(&path)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| format!("package file '{rel}': {e}"))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(too_large());
        }
        let text =
            String::from_utf8(bytes).map_err(|_| format!("package file '{rel}' is not UTF-8"))?;
        Ok(match text.strip_prefix('\u{feff}') {
            Some(t) => t.to_string(),
            None => text,
        })
    }
}

/// `host.packages.load(filename)`: a `.json` file's text, or a JavaScript file compiled as
/// `(function (exports, require, module, __filename, __dirname) { ... })` under its name.
fn load<'js>(ctx: &Ctx<'js>, packages: &Packages, filename: &str) -> rquickjs::Result<Value<'js>> {
    let rel = filename
        .strip_prefix(VIRTUAL_ROOT)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(|| {
            Exception::throw_message(ctx, &format!("invalid package file '{filename}'"))
        })?;
    let text = packages
        .read(rel)
        .map_err(|e| Exception::throw_message(ctx, &e))?;
    if rel.ends_with(".json") {
        return Ok(rquickjs::String::from_str(ctx.clone(), &text)?.into_value());
    }
    // A shebang line is dropped but its line kept, so line numbers in errors stay the file's.
    let body = match text.strip_prefix("#!") {
        Some(rest) => rest.find('\n').map_or("", |i| &rest[i..]),
        None => text.as_str(),
    };
    let source =
        format!("(function (exports, require, module, __filename, __dirname) {{{body}\n}})");
    let mut opts = EvalOptions::default();
    opts.global = true;
    opts.strict = false;
    opts.filename = Some(filename.to_string());
    ctx.eval_with_options(source, opts)
}

/// The natives behind the prelude's package loader (`host.packages`): `configured`,
/// `allowed(request)`, `resolve(request, parent | null)` and `load(filename)`. Without a
/// package directory nothing resolves.
pub fn natives<'js>(ctx: &Ctx<'js>, env: &ModuleEnv) -> rquickjs::Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;
    let packages: Option<Arc<Packages>> = env.packages.clone();
    o.set("configured", packages.is_some())?;
    let p = packages.clone();
    o.set(
        "allowed",
        Function::new(ctx.clone(), move |request: String| {
            p.as_ref().is_some_and(|p| p.allowed(&request))
        })?,
    )?;
    let p = packages.clone();
    o.set(
        "resolve",
        Function::new(
            ctx.clone(),
            move |request: String, parent: Option<String>| {
                p.as_ref()
                    .and_then(|p| p.resolve(&request, parent.as_deref()))
            },
        )?,
    )?;
    o.set(
        "load",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, filename: String| match &packages {
                Some(p) => load(&ctx, p, &filename),
                None => Err(Exception::throw_message(&ctx, "no package directory")),
            },
        )?,
    )?;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_resolves_dots_and_refuses_escapes() {
        assert_eq!(normalize("a/b", "../c/./d").as_deref(), Some("a/c/d"));
        assert_eq!(normalize("", "a//b/").as_deref(), Some("a/b"));
        assert_eq!(normalize("a", "..").as_deref(), Some(""));
        assert_eq!(normalize("a", "../.."), None);
        assert_eq!(normalize("", "a\0b"), None);
        assert_eq!(normalize("", "a\\..\\b"), None);
    }

    #[test]
    fn bare_requests_split_into_name_and_subpath() {
        assert_eq!(parse_bare("lodash"), Some(("lodash", "")));
        assert_eq!(parse_bare("lodash/fp/map"), Some(("lodash", "fp/map")));
        assert_eq!(parse_bare("@s/p/x.js"), Some(("@s/p", "x.js")));
        assert_eq!(parse_bare("@s"), None);
        assert_eq!(parse_bare("@/p"), None);
        assert_eq!(parse_bare("./x"), None);
        assert_eq!(parse_bare("/etc/passwd"), None);
        assert_eq!(parse_bare(".."), None);
        assert!(within("a/b", "a") && within("a", "a") && !within("ab", "a"));
    }

    #[test]
    fn exports_pick_require_conditions_and_patterns() {
        let e: Json = serde_json::json!({
            ".": {"import": "./esm.mjs", "require": "./cjs.js"},
            "./feat/*": {"default": "./lib/*.js"},
            "./feat/x/*": "./special/*.js",
        });
        assert_eq!(exports_target(&e, ".").as_deref(), Some("./cjs.js"));
        assert_eq!(
            exports_target(&e, "./feat/a").as_deref(),
            Some("./lib/a.js")
        );
        assert_eq!(
            exports_target(&e, "./feat/x/b").as_deref(),
            Some("./special/b.js")
        );
        assert_eq!(exports_target(&e, "./nope"), None);
        let s: Json = serde_json::json!("./main.js");
        assert_eq!(exports_target(&s, ".").as_deref(), Some("./main.js"));
        assert_eq!(exports_target(&s, "./x"), None);
    }
}
