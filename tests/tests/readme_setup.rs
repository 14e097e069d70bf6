//! The README's `[dependencies]` lines (TOML, which doctests cannot check): the versions are
//! the ones this workspace builds with, and every feature named exists.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

use std::path::Path;

fn read(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap()
}

/// The README's ```toml block.
fn dependencies_block() -> String {
    let readme = read("README.md");
    let start = readme.find("```toml\n").expect("a ```toml block") + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    readme[start..end].to_owned()
}

/// `major.minor` of a version requirement like `"0.49"` or `"0.1.0"`.
fn major_minor(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

#[test]
fn the_readme_dependencies_are_the_versions_built_here() {
    let block = dependencies_block();
    let line = |name: &str| {
        block
            .lines()
            .find(|line| line.starts_with(&format!("{name} = ")))
            .unwrap_or_else(|| panic!("no `{name} = ` line in\n{block}"))
            .to_owned()
    };
    let quoted = |line: &str| line.split('"').nth(1).unwrap().to_owned();
    let workspace = read("Cargo.toml");
    let sentry = workspace
        .lines()
        .find(|line| line.starts_with("sentry = "))
        .unwrap();
    assert_eq!(
        major_minor(&quoted(&line("sentry"))),
        major_minor(&quoted(sentry))
    );
    let version = workspace
        .lines()
        .find(|line| line.starts_with("version = "))
        .unwrap();
    assert_eq!(
        major_minor(&quoted(&line("sentry-runtime-metrics"))),
        major_minor(&quoted(version))
    );
}

#[test]
fn every_feature_the_readme_names_exists() {
    let block = dependencies_block();
    let manifest = read("sentry-runtime-metrics/Cargo.toml");
    let features = &manifest[manifest.find("[features]").unwrap()..];
    let features = &features[..features.find("\n[").unwrap_or(features.len())];
    let mut named = 0;
    for line in block.lines().filter(|line| line.contains("features = [")) {
        let list = &line[line.find('[').unwrap() + 1..line.find(']').unwrap()];
        for feature in list.split(',').map(|f| f.trim().trim_matches('"')) {
            named += 1;
            assert!(
                features
                    .lines()
                    .any(|l| l.starts_with(&format!("{feature} = "))),
                "feature `{feature}` of the README is not one of the library's"
            );
        }
    }
    assert!(
        named >= 2,
        "the README names the optional features: {block}"
    );
}
