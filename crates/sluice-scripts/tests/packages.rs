//! Operator-added pure-JS packages: lodash installed with npm, and small fake packages for the
//! loader's rules (confinement, allow list, caching, circular requires, built-ins first).

use serde_json::{Value, json};
use sluice_core::ports::{ScriptFailure, ScriptKind, ScriptRequest, ScriptRunner};
use sluice_scripts::modules::packages::Packages;
use sluice_scripts::{Limits, ScriptRuntime};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const LODASH: &str = "4.17.21";

fn runtime(packages: Packages) -> ScriptRuntime {
    ScriptRuntime::new(Limits {
        deadline: Duration::from_secs(20),
        ..Limits::default()
    })
    .with_packages(packages)
}

/// Runs `body` as the inside of `function (email, password, cb) { ... }`.
async fn run(rt: &ScriptRuntime, body: &str) -> Result<Value, ScriptFailure> {
    let source = format!("function login(email, password, cb) {{\n{body}\n}}");
    rt.run(ScriptRequest {
        tenant_id: "t".into(),
        connection: None,
        kind: ScriptKind::Login,
        source: source.into(),
        args: vec![json!("a@b.c"), json!("pw")],
        context: None,
        configuration: BTreeMap::new(),
    })
    .await
    .result
}

/// `{code, message}` of what `require(<expr>)` throws (or `{loaded: true}`).
async fn require_error(rt: &ScriptRuntime, expr: &str) -> Value {
    run(rt, &format!("try {{ require({expr}); cb(null, {{loaded: true}}); }} catch (e) {{ cb(null, {{code: e.code, message: e.message}}); }}"))
        .await
        .unwrap()
}

/// A fresh directory under the test target's temporary directory.
fn fresh_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "packages-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A directory with lodash installed by npm (once per target directory; test processes
/// install into a scratch directory and rename it into place). `None` without npm.
fn lodash_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("packages-lodash-{LODASH}"));
    if dir.join("node_modules/lodash/package.json").is_file() {
        return Some(dir);
    }
    let scratch = fresh_dir("npm");
    write(
        &scratch,
        "package.json",
        r#"{"name": "scratch", "private": true}"#,
    );
    let out = match Command::new("npm")
        .args([
            "install",
            &format!("lodash@{LODASH}"),
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
        ])
        .current_dir(&scratch)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("skipping: npm is not available ({e})");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "npm install failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Another test process may have won the race; either copy is complete.
    let _ = std::fs::rename(&scratch, &dir);
    let _ = std::fs::remove_dir_all(&scratch);
    Some(dir)
}

/// A fixture directory, removed when the test ends.
struct Fixture {
    base: PathBuf,
    root: PathBuf,
    outside: PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// The fake packages, each exercising one loader rule, in `root`; `outside` is a sibling
/// directory the loader must never read.
fn fixture() -> Fixture {
    let base = fresh_dir("fake");
    let root = base.join("root");
    let outside = base.join("outside");
    let nm = "node_modules";
    // Outside the package directory: code that records that it ran.
    write(
        &outside,
        "secret.js",
        "globalThis.LEAKED = true; module.exports = 'secret';",
    );
    write(&outside, "pkg/package.json", r#"{"main": "index.js"}"#);
    write(
        &outside,
        "pkg/index.js",
        "globalThis.LEAKED = true; module.exports = 'outside';",
    );
    write(
        &root,
        "secret.js",
        "globalThis.ROOT_SECRET = true; module.exports = 'root';",
    );
    write(
        &root,
        &format!("{nm}/boom/index.js"),
        "globalThis.booms = (globalThis.booms || 0) + 1; exports.partial = true; throw new Error('boom ' + globalThis.booms);",
    );
    write(
        &root,
        &format!("{nm}/klass/index.js"),
        "class Klass { constructor() { this.n = 3; } times(x) { return x * this.n; } }\nmodule.exports = new Klass();\nmodule.exports.Klass = Klass;",
    );
    write(
        &root,
        &format!("{nm}/lazy/index.js"),
        "module.exports = { light: 1, get heavy() { globalThis.heavyRan = true; return 42; } };",
    );
    write(
        &root,
        &format!("{nm}/circ/package.json"),
        r#"{"name": "circ", "main": "./lib/a"}"#,
    );
    write(
        &root,
        &format!("{nm}/circ/lib/a.js"),
        "exports.a1 = true;\nconst b = require('./b');\nexports.bSaw = b.saw;\nexports.a2 = true;\nexports.same = require('./b.js') === b;",
    );
    write(
        &root,
        &format!("{nm}/circ/lib/b.js"),
        "const a = require('./a');\nexports.saw = { a1: a.a1, a2: a.a2 === undefined ? 'undefined' : a.a2 };",
    );
    write(
        &root,
        &format!("{nm}/norm/index.js"),
        "const x = require('./a/../b/c.js'); const y = require('./b/c'); const z = require(__dirname + '/b/c');\nmodule.exports = { same: x === y && y === z, data: require('./data').v, file: __filename, dir: __dirname };",
    );
    write(
        &root,
        &format!("{nm}/norm/b/c.js"),
        "module.exports = { c: 1 };",
    );
    write(&root, &format!("{nm}/norm/data.json"), "{\"v\": [1, 2]}");
    write(
        &root,
        &format!("{nm}/sneaky/index.js"),
        "module.exports = require('fs');",
    );
    write(
        &root,
        &format!("{nm}/sneaky/cp.js"),
        "module.exports = require('node:child_process');",
    );
    write(
        &root,
        &format!("{nm}/climber/index.js"),
        r#"
const codes = {};
for (const r of ['../../secret.js', '../../../outside/secret.js', '../../../../../../etc/passwd', '/etc/passwd', '/packages/../outside/secret.js', 'evil', 'evilfile']) {
  try { require(r); codes[r] = 'loaded'; } catch (e) { codes[r] = e.code; }
}
codes.rootSecret = require('../../secret.js');
module.exports = codes;"#,
    );
    // Transitive dependencies: hoisted (not allow-listed) and nested.
    write(
        &root,
        &format!("{nm}/outer/index.js"),
        "module.exports = { inner: require('inner'), nested: require('dep'), events: typeof require('events'), util: typeof require('util').format };",
    );
    write(
        &root,
        &format!("{nm}/outer/node_modules/dep/index.js"),
        "module.exports = 'nested dep';",
    );
    write(
        &root,
        &format!("{nm}/inner/index.js"),
        "module.exports = 'hoisted inner';",
    );
    write(
        &root,
        &format!("{nm}/dep/index.js"),
        "module.exports = 'WRONG: hoisted dep';",
    );
    // A package named like a host module: the host module wins.
    write(
        &root,
        &format!("{nm}/events/index.js"),
        "globalThis.fakeEvents = true; module.exports = 'fake events';",
    );
    // `exports` with conditions and subpaths, a scoped package.
    write(
        &root,
        &format!("{nm}/withexports/package.json"),
        r#"{"exports": {".": {"import": "./esm.mjs", "require": "./cjs.js"}, "./feature": "./lib/feature.js", "./package.json": "./package.json"}}"#,
    );
    write(
        &root,
        &format!("{nm}/withexports/esm.mjs"),
        "export default 1;",
    );
    write(
        &root,
        &format!("{nm}/withexports/cjs.js"),
        "module.exports = 'cjs';",
    );
    write(
        &root,
        &format!("{nm}/withexports/lib/feature.js"),
        "module.exports = 'feature';",
    );
    write(
        &root,
        &format!("{nm}/@scope/pkg/package.json"),
        r#"{"main": "lib/main"}"#,
    );
    write(
        &root,
        &format!("{nm}/@scope/pkg/lib/main.js"),
        "module.exports = 'scoped';",
    );
    write(
        &root,
        &format!("{nm}/syntax/index.js"),
        "module.exports = {;",
    );
    // Symlinks out of the directory: a package directory and a single file.
    std::os::unix::fs::symlink(outside.join("pkg"), root.join(nm).join("evil")).unwrap();
    std::fs::create_dir_all(root.join(nm).join("evilfile")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("secret.js"),
        root.join(nm).join("evilfile/index.js"),
    )
    .unwrap();
    Fixture {
        base,
        root,
        outside,
    }
}

const FAKES: &[&str] = &[
    "boom",
    "klass",
    "lazy",
    "circ",
    "norm",
    "sneaky",
    "climber",
    "outer",
    "events",
    "withexports",
    "@scope/pkg",
    "syntax",
    "evil",
    "evilfile",
];

#[tokio::test]
async fn lodash_loads_from_the_package_directory() {
    let Some(dir) = lodash_dir() else { return };
    let rt = runtime(Packages::new(&dir, ["lodash"]).unwrap());
    let r = run(&rt, r#"
      const _ = require('lodash');
      const src = { a: { b: [1, { c: 5 }] } };
      const copy = _.cloneDeep(src);
      cb(null, {
        version: _.VERSION,
        chunk: _.chunk([1, 2, 3, 4, 5], 2),
        get: _.get(src, 'a.b[1].c'),
        missing: _.get(src, 'a.x.y', 'dflt'),
        template: _.template('hello <%= user %>, <%- html %>!')({ user: 'ann', html: '<b>' }),
        deep: copy !== src && copy.a.b[1] !== src.a.b[1] && _.isEqual(copy, src),
        pinned: require('lodash@4.17.21') === _ && require('lodash') === _,
        fp: require('lodash/fp').map((x) => x * 2)([1, 2, 3]),
        sub: require('lodash/chunk') === require('lodash/chunk.js') && require('lodash/chunk')([1, 2, 3], 2),
      });
    "#).await.unwrap();
    assert_eq!(
        r,
        json!({
            "version": LODASH, "chunk": [[1, 2], [3, 4], [5]], "get": 5, "missing": "dflt",
            "template": "hello ann, &lt;b&gt;!", "deep": true, "pinned": true, "fp": [2, 4, 6],
            "sub": [[1, 2], [3]],
        })
    );
    // Cached per container: the second invocation gets the same instance without reloading.
    let r = run(&rt, "globalThis.mark = globalThis.mark || require('lodash'); cb(null, globalThis.mark === require('lodash'));").await;
    assert_eq!(r, Ok(json!(true)));
}

#[tokio::test]
async fn lodash_subpaths_cannot_climb_out_of_the_package() {
    let Some(dir) = lodash_dir() else { return };
    let rt = runtime(Packages::new(&dir, ["lodash"]).unwrap());
    for spec in [
        "'lodash/../../../x'",
        "'lodash/../../package.json'",
        "'lodash/../lodash/../../package.json'",
        "'../../etc/passwd'",
        "'./node_modules/lodash'",
        "'/etc/passwd'",
        &format!(
            "{:?}",
            dir.join("node_modules/lodash/lodash.js")
                .display()
                .to_string()
        ),
        "'lodash\\\\..\\\\..\\\\package.json'",
        "'lodash/\\u0000'",
    ] {
        let r = require_error(&rt, spec).await;
        assert_eq!(r["code"], "MODULE_NOT_FOUND", "{spec}: {r}");
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .starts_with("Cannot find module"),
            "{spec}: {r}"
        );
    }
}

#[tokio::test]
async fn packages_outside_the_allow_list_are_refused() {
    let f = fixture();
    let root = &f.root;
    let rt = runtime(Packages::new(root, ["outer"]).unwrap());
    for spec in ["inner", "inner@1.0.0", "klass/index.js", "dep"] {
        let r = require_error(&rt, &format!("'{spec}'")).await;
        assert_eq!(r["code"], "MODULE_NOT_FOUND", "{spec}");
        let m = r["message"].as_str().unwrap();
        assert!(
            m.starts_with(&format!("Cannot find module '{spec}'")) && m.contains("allow list"),
            "{spec}: {m}"
        );
    }
    // Transitive dependencies need no allow-listing; nested node_modules win over hoisted ones,
    // and host modules over packages.
    let r = run(&rt, "cb(null, require('outer'));").await;
    assert_eq!(
        r,
        Ok(
            json!({"inner": "hoisted inner", "nested": "nested dep", "events": "function", "util": "function"})
        )
    );
    // An allow-listed package that is not installed is simply not found.
    let rt = runtime(Packages::new(root, ["absent"]).unwrap());
    let r = require_error(&rt, "'absent'").await;
    assert_eq!(
        r,
        json!({"code": "MODULE_NOT_FOUND", "message": "Cannot find module 'absent'"})
    );
    // Malformed allow lists are refused up front.
    assert!(Packages::new(root, ["../x"]).is_err());
    assert!(Packages::new(root, ["lodash/fp"]).is_err());
    assert!(Packages::new(root.join("nope"), ["x"]).is_err());
}

#[tokio::test]
async fn traversal_and_symlinks_out_of_the_directory_fail_and_read_nothing() {
    let f = fixture();
    let (root, outside) = (&f.root, &f.outside);
    let rt = runtime(Packages::new(root, FAKES.iter().copied()).unwrap());
    for spec in [
        "'evil'".to_string(),
        "'evilfile'".to_string(),
        "'evilfile/index.js'".to_string(),
        "'../outside/secret.js'".to_string(),
        "'/packages/secret.js'".to_string(),
        format!("{:?}", outside.join("secret.js").display().to_string()),
        "'climber/../../secret.js'".to_string(),
        "'climber/../../../outside/secret'".to_string(),
    ] {
        let r = require_error(&rt, &spec).await;
        assert_eq!(r["code"], "MODULE_NOT_FOUND", "{spec}: {r}");
    }
    // From inside a package: relative climbs stop at the directory (the root's own files are
    // reachable), absolute paths only inside the virtual root.
    let r = run(
        &rt,
        "cb(null, { codes: require('climber'), leaked: globalThis.LEAKED === true });",
    )
    .await
    .unwrap();
    assert_eq!(
        r,
        json!({"codes": {
            "../../secret.js": "loaded",
            "../../../outside/secret.js": "MODULE_NOT_FOUND",
            "../../../../../../etc/passwd": "MODULE_NOT_FOUND",
            "/etc/passwd": "MODULE_NOT_FOUND",
            "/packages/../outside/secret.js": "MODULE_NOT_FOUND",
            "evil": "MODULE_NOT_FOUND",
            "evilfile": "MODULE_NOT_FOUND",
            "rootSecret": "root",
        }, "leaked": false})
    );
    // The native reader refuses the same paths on its own.
    let p = Packages::new(root, ["x"]).unwrap();
    for rel in [
        "../outside/secret.js",
        "/etc/passwd",
        "node_modules/evilfile/index.js",
        "node_modules/evil/index.js",
        "a\0.js",
        "node_modules/withexports/esm.mjs",
    ] {
        assert!(p.read(rel).is_err(), "{rel}");
    }
    assert!(
        p.read("node_modules/x/../klass/./index.js")
            .unwrap()
            .contains("class Klass")
    );
}

#[tokio::test]
async fn a_module_that_throws_is_not_cached() {
    let f = fixture();
    let root = &f.root;
    let rt = runtime(Packages::new(root, FAKES.iter().copied()).unwrap());
    let body = "const out = []; for (let i = 0; i < 2; i++) { try { require('boom'); out.push('loaded'); } catch (e) { out.push(e.message); } } cb(null, out);";
    assert_eq!(run(&rt, body).await, Ok(json!(["boom 1", "boom 2"])));
    // The next invocation in the same container runs it again too.
    assert_eq!(run(&rt, body).await, Ok(json!(["boom 3", "boom 4"])));
    // A syntax error is an ordinary, catchable error each time.
    let r = run(&rt, "const out = []; for (let i = 0; i < 2; i++) { try { require('syntax'); } catch (e) { out.push(e.name); } } cb(null, out);").await;
    assert_eq!(r, Ok(json!(["SyntaxError", "SyntaxError"])));
}

#[tokio::test]
async fn exports_keep_prototypes_and_getters_stay_lazy() {
    let f = fixture();
    let root = &f.root;
    let rt = runtime(Packages::new(root, FAKES.iter().copied()).unwrap());
    let r = run(&rt, r#"
      const k = require('klass');
      const l = require('lazy');
      const ranAtRequire = globalThis.heavyRan === true;
      cb(null, { times: k.times(5), proto: k instanceof k.Klass, ranAtRequire, light: l.light, heavy: l.heavy, ranAfter: globalThis.heavyRan === true });
    "#).await;
    assert_eq!(
        r,
        Ok(
            json!({"times": 15, "proto": true, "ranAtRequire": false, "light": 1, "heavy": 42, "ranAfter": true})
        )
    );
}

#[tokio::test]
async fn circular_requires_see_partial_exports_like_node() {
    let f = fixture();
    let root = &f.root;
    let rt = runtime(Packages::new(root, FAKES.iter().copied()).unwrap());
    let r = run(&rt, "cb(null, require('circ'));").await;
    assert_eq!(
        r,
        Ok(json!({"a1": true, "bSaw": {"a1": true, "a2": "undefined"}, "a2": true, "same": true}))
    );
}

#[tokio::test]
async fn paths_are_normalised_and_files_resolve_like_node() {
    let f = fixture();
    let root = &f.root;
    let rt = runtime(Packages::new(root, FAKES.iter().copied()).unwrap());
    let r = run(&rt, r#"
      const n = require('norm');
      cb(null, {
        n,
        sameFromScript: require('norm/b/c') === require('norm/b/../b/c.js') && require('norm/b/c.js') === require('norm/./b/c'),
        json: require('norm/data.json'),
        exportsMain: require('withexports'),
        exportsSub: require('withexports/feature'),
        scoped: require('@scope/pkg') === 'scoped' && require('@scope/pkg@2.0.0') === 'scoped',
      });
    "#).await.unwrap();
    assert_eq!(
        r,
        json!({
            "n": {"same": true, "data": [1, 2], "file": "/packages/node_modules/norm/index.js", "dir": "/packages/node_modules/norm"},
            "sameFromScript": true, "json": {"v": [1, 2]}, "exportsMain": "cjs", "exportsSub": "feature", "scoped": true,
        })
    );
}

#[tokio::test]
async fn host_modules_win_and_forbidden_ones_stay_forbidden() {
    let f = fixture();
    let root = &f.root;
    let rt = runtime(Packages::new(root, FAKES.iter().copied()).unwrap());
    let r = run(&rt, "const E = require('events'); cb(null, { fn: typeof E, fake: globalThis.fakeEvents === true });").await;
    assert_eq!(r, Ok(json!({"fn": "function", "fake": false})));
    for spec in ["'sneaky'", "'sneaky/cp'"] {
        let r = require_error(&rt, spec).await;
        assert_eq!(r["code"], "MODULE_NOT_FOUND", "{spec}");
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .contains("not available to action scripts"),
            "{spec}: {r}"
        );
    }
    // Without a package directory nothing changes for unknown modules.
    let plain = ScriptRuntime::new(Limits::default());
    let r = require_error(&plain, "'lodash'").await;
    assert_eq!(
        r,
        json!({"code": "MODULE_NOT_FOUND", "message": "Cannot find module 'lodash'"})
    );
}
