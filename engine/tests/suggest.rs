//! `suggest` on temporary workspace folders.

use std::fs;
use std::path::Path;
use std::time::Duration;

use procdeck_engine::suggest::{suggestions, Suggestion, MAX_FILE_BYTES};

fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(path, text).expect("write");
    }
    dir
}

/// (source, name, command) triples, for short assertions.
fn triples(dir: &Path) -> Vec<(String, String, String)> {
    suggestions(dir)
        .into_iter()
        .map(
            |Suggestion {
                 source,
                 name,
                 command,
             }| (source, name, command),
        )
        .collect()
}

fn commands(dir: &Path) -> Vec<String> {
    suggestions(dir).into_iter().map(|s| s.command).collect()
}

const PACKAGE: &str = r#"{
  "name": "web",
  "scripts": {
    "dev": "vite",
    "build": "vite build",
    "prebuild": "rm -rf dist",
    "postinstall": "patch-package",
    "test:unit": "vitest",
    "dev server": "node server.js",
    "weird": 42
  }
}"#;

#[test]
fn package_json_scripts_in_file_order_without_hooks() {
    let dir = folder(&[("package.json", PACKAGE)]);
    assert_eq!(
        triples(dir.path()),
        vec![
            ("package.json".into(), "dev".into(), "npm run dev".into()),
            (
                "package.json".into(),
                "build".into(),
                "npm run build".into()
            ),
            (
                "package.json".into(),
                "test:unit".into(),
                "npm run test:unit".into()
            ),
            (
                "package.json".into(),
                "dev server".into(),
                "npm run 'dev server'".into()
            ),
        ]
    );
}

#[test]
fn the_lock_file_picks_the_package_manager() {
    for (lock, runner) in [
        ("pnpm-lock.yaml", "pnpm"),
        ("yarn.lock", "yarn"),
        ("bun.lockb", "bun"),
        ("bun.lock", "bun"),
        ("package-lock.json", "npm"),
    ] {
        let dir = folder(&[
            ("package.json", r#"{"scripts":{"dev":"vite"}}"#),
            (lock, ""),
        ]);
        assert_eq!(
            commands(dir.path()),
            vec![format!("{runner} run dev")],
            "{lock}"
        );
    }
}

#[test]
fn a_byte_order_mark_is_tolerated_like_npm_does() {
    let dir = folder(&[(
        "package.json",
        "\u{feff}{\"scripts\":{\"start\":\"node .\"}}",
    )]);
    assert_eq!(commands(dir.path()), vec!["npm run start"]);
}

#[test]
fn the_package_manager_field_wins_over_lock_files() {
    let dir = folder(&[
        (
            "package.json",
            r#"{"packageManager":"pnpm@9.1.0","scripts":{"dev":"vite"}}"#,
        ),
        ("yarn.lock", ""),
    ]);
    assert_eq!(commands(dir.path()), vec!["pnpm run dev"]);
}

#[test]
fn malformed_package_json_gives_nothing_and_others_still_count() {
    for bad in [
        "{\"scripts\": {\"dev\": \"vite\"",
        "[1, 2, 3]",
        "{\"scripts\": [\"dev\"]}",
        "",
        "\u{feff}{}",
        &"[".repeat(100_000),
    ] {
        let dir = folder(&[("package.json", bad), ("Procfile", "web: node app.js\n")]);
        assert_eq!(commands(dir.path()), vec!["node app.js"], "{:.40}", bad);
    }
    let dir = folder(&[("package.json", r#"{"name":"no-scripts"}"#)]);
    assert_eq!(suggestions(dir.path()), vec![]);
}

#[test]
fn procfile_lines() {
    let dir = folder(&[(
        "Procfile",
        "# comment\nweb: bundle exec puma -C config/puma.rb\r\n\nworker:   sidekiq -q default  \nbad name: x\nempty:\nno colon here\nweb: duplicate\nrelease_1: ./release.sh a:b\n",
    )]);
    assert_eq!(
        triples(dir.path()),
        vec![
            (
                "Procfile".into(),
                "web".into(),
                "bundle exec puma -C config/puma.rb".into()
            ),
            (
                "Procfile".into(),
                "worker".into(),
                "sidekiq -q default".into()
            ),
            (
                "Procfile".into(),
                "release_1".into(),
                "./release.sh a:b".into()
            ),
        ]
    );
}

#[test]
fn makefile_targets() {
    let dir = folder(&[(
        "Makefile",
        ".PHONY: dev test\nCC := gcc\nall: build\n\t$(CC) -o app main.c\ndev:\n\t./app\n%.o: %.c\n\t$(CC) -c $<\n.hidden:\ntest:\n",
    )]);
    // `build` is only a prerequisite here, not a rule of this Makefile.
    assert_eq!(
        commands(dir.path()),
        vec!["make all", "make dev", "make test"]
    );
    assert!(suggestions(dir.path())
        .iter()
        .all(|s| s.source == "Makefile"));
}

#[test]
fn gnu_makefile_is_preferred_like_make_does() {
    let dir = folder(&[("GNUmakefile", "gnu:\n"), ("Makefile", "plain:\n")]);
    assert_eq!(commands(dir.path()), vec!["make gnu"]);
}

#[test]
fn cargo_package_with_main() {
    let dir = folder(&[
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\n",
        ),
        ("src/main.rs", "fn main() {}\n"),
    ]);
    assert_eq!(
        triples(dir.path()),
        vec![
            ("Cargo.toml".into(), "run".into(), "cargo run".into()),
            ("Cargo.toml".into(), "test".into(), "cargo test".into()),
            ("Cargo.toml".into(), "build".into(), "cargo build".into()),
        ]
    );
}

#[test]
fn cargo_library_has_no_run() {
    let dir = folder(&[
        ("Cargo.toml", "[package]\nname = \"lib\"\n"),
        ("src/lib.rs", ""),
    ]);
    assert_eq!(commands(dir.path()), vec!["cargo test", "cargo build"]);
}

#[test]
fn cargo_several_binaries() {
    let toml = "[package]\nname = \"tools\"\n\n[[bin]]\nname = \"server\"\npath = \"src/server.rs\"\n\n[[bin]]\nname = \"cli\"\npath = \"src/cli.rs\"\n";
    let dir = folder(&[
        ("Cargo.toml", toml),
        ("src/main.rs", ""),
        ("src/bin/migrate.rs", ""),
        ("src/bin/seed/main.rs", ""),
    ]);
    // Without default-run, a bare `cargo run` fails with several binaries.
    assert_eq!(
        commands(dir.path()),
        vec![
            "cargo run --bin server",
            "cargo run --bin cli",
            "cargo run --bin tools",
            "cargo run --bin migrate",
            "cargo run --bin seed",
            "cargo test",
            "cargo build"
        ]
    );
    let with_default = toml.replace(
        "name = \"tools\"\n",
        "name = \"tools\"\ndefault-run = \"server\"\n",
    );
    let dir = folder(&[("Cargo.toml", &with_default)]);
    assert_eq!(
        commands(dir.path()),
        vec![
            "cargo run",
            "cargo run --bin server",
            "cargo run --bin cli",
            "cargo test",
            "cargo build"
        ]
    );
}

#[test]
fn cargo_single_bin_section_and_autobins_off() {
    let dir = folder(&[(
        "Cargo.toml",
        "[package]\nname = \"x\"\nautobins = false\n[[bin]]\nname = \"only\"\npath = \"main.rs\"\n",
    ), ("src/main.rs", "")]);
    assert_eq!(
        commands(dir.path()),
        vec!["cargo run", "cargo test", "cargo build"]
    );
}

#[test]
fn cargo_virtual_workspace_and_malformed_manifest() {
    let dir = folder(&[("Cargo.toml", "[workspace]\nmembers = [\"a\"]\n")]);
    assert_eq!(commands(dir.path()), vec!["cargo test", "cargo build"]);
    for bad in [
        "[package\nname = 1",
        "[package]\nname = \"a\"\nname = \"b\"\n",
        "= = =",
    ] {
        let dir = folder(&[("Cargo.toml", bad), ("src/main.rs", "")]);
        assert_eq!(suggestions(dir.path()), vec![], "{bad}");
    }
    // Not a Cargo manifest at all (a TOML file with neither table).
    let dir = folder(&[("Cargo.toml", "title = \"x\"\n")]);
    assert_eq!(suggestions(dir.path()), vec![]);
}

#[test]
fn all_sources_together_in_order() {
    let dir = folder(&[
        ("package.json", r#"{"scripts":{"dev":"vite"}}"#),
        ("Procfile", "web: node app.js\n"),
        ("Makefile", "deploy:\n"),
        ("Cargo.toml", "[package]\nname = \"a\"\n"),
        ("src/main.rs", ""),
    ]);
    let sources: Vec<String> = suggestions(dir.path())
        .into_iter()
        .map(|s| s.source)
        .collect();
    assert_eq!(
        sources,
        vec![
            "package.json",
            "Procfile",
            "Makefile",
            "Cargo.toml",
            "Cargo.toml",
            "Cargo.toml"
        ]
    );
}

#[test]
fn huge_binary_and_special_files_are_skipped_without_blocking() {
    let big = format!(
        "{{\"scripts\":{{\"dev\":\"vite\"}},\"pad\":\"{}\"}}",
        "x".repeat(MAX_FILE_BYTES as usize)
    );
    let dir = folder(&[("package.json", &big), ("Makefile", "ok:\n")]);
    assert_eq!(commands(dir.path()), vec!["make ok"]);

    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("Procfile"), [0xff, 0xfe, b':', 0, 1, 2]).expect("write");
    fs::write(dir.path().join("Cargo.toml"), [0u8, 159, 146, 150]).expect("write");
    fs::create_dir(dir.path().join("Makefile")).expect("a folder named Makefile");
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join("package.json"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    // A reader that opened the FIFO would block until a writer came: wait for the answer on
    // another thread, and unblock such a reader (by opening the FIFO for writing) before failing.
    let path = dir.path().to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let _ = tx.send(suggestions(&path));
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(found) => assert_eq!(found, vec![]),
        Err(_) => {
            let _ = fs::OpenOptions::new()
                .write(true)
                .open(dir.path().join("package.json"));
            let _ = reader.join();
            panic!("suggestions blocked on a FIFO named package.json");
        }
    }
    reader.join().expect("the suggestions thread");
}

#[test]
fn missing_or_empty_folders_offer_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(suggestions(dir.path()), vec![]);
    assert_eq!(suggestions(&dir.path().join("nope")), vec![]);
}
