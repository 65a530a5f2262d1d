//! Names the commit the relay is built from, for `relay_build_info{commit}` and
//! `relay --version`: `RELAY_BUILD_COMMIT` if set (a container build without `.git`),
//! else `git rev-parse HEAD`, else "unknown". Cargo reruns this when the checked-out
//! commit moves.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=RELAY_BUILD_COMMIT");
    let commit = std::env::var("RELAY_BUILD_COMMIT").ok().filter(|c| !c.trim().is_empty()).or_else(|| {
        // HEAD, the branch it points to and the packed refs: whichever exists.
        let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"]), git(&["rev-parse", "--git-path", "packed-refs"])];
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watched.push(git(&["rev-parse", "--git-path", &branch]));
        }
        for path in watched.into_iter().flatten() {
            if Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
        git(&["rev-parse", "--short=12", "HEAD"])
    });
    println!("cargo:rustc-env=RELAY_COMMIT={}", commit.unwrap_or_else(|| "unknown".to_owned()));
}
