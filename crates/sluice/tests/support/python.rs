//! Python virtualenvs for the tests that drive Sluice with third-party Python libraries: one per
//! pinned requirements file, under the target directory, created on first use and reused while
//! the requirements file is unchanged. A file lock keeps concurrent test processes (nextest runs
//! each test in its own) from building the same virtualenv at once.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python interpreter of virtualenv `name` (a directory under `CARGO_TARGET_TMPDIR`) with
/// `requirements` (relative to the crate) installed by pip.
pub fn venv(name: &str, requirements: &str) -> PathBuf {
    let reqs = Path::new(env!("CARGO_MANIFEST_DIR")).join(requirements);
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let venv = tmp.join(name);
    let python = venv.join("bin/python");
    let stamp = venv.join("installed.txt");
    let wanted = std::fs::read_to_string(&reqs).unwrap();
    let lock = std::fs::File::create(tmp.join(format!("{name}.lock"))).unwrap();
    lock.lock().unwrap();
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let st = Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv)
            .status()
            .expect("python3 is installed");
        assert!(st.success(), "python3 -m venv failed");
        let out = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&reqs)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pip install failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&stamp, &wanted).unwrap();
    }
    python
}
