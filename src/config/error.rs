//! Why a configuration cannot be loaded: [`ConfigError`], the files tried
//! ([`Attempt`], [`FileProblem`]) and where in a file ([`Position`]).

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in a file: 1-based line, and column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1, in characters.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` of `text`.
    pub(super) fn at(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position { line: before.matches('\n').count() + 1, column: before[line_start..].chars().count() + 1 }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a configuration file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileProblem {
    /// There is no such file.
    #[error("not found")]
    Missing,
    /// The file exists but may not be read.
    #[error("permission denied")]
    PermissionDenied,
    /// The path is a directory.
    #[error("is a directory, not a file")]
    IsDirectory,
    /// Any other read failure.
    #[error("cannot be read: {0}")]
    Io(std::io::Error),
    /// The file was read but is not UTF-8 text, as TOML must be.
    #[error("is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 {
        /// The offset of the first invalid byte.
        offset: usize,
    },
    /// The file was read but is not valid TOML.
    #[error("TOML syntax error at {position}: {message}")]
    Syntax {
        /// Where the parser stopped.
        position: Position,
        /// The parser's message.
        message: String,
    },
}

impl FileProblem {
    /// Whether the loader falls back to the default file after this problem: only when
    /// the file is missing or unreadable. A broken file is reported instead.
    pub fn falls_back(&self) -> bool {
        matches!(
            self,
            FileProblem::Missing
                | FileProblem::PermissionDenied
                | FileProblem::IsDirectory
                | FileProblem::Io(_)
        )
    }
}

/// A file that was tried, and why it could not be used.
#[derive(Debug)]
pub struct Attempt {
    /// The path tried.
    pub path: PathBuf,
    /// What was wrong with it.
    pub problem: FileProblem,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

/// A configuration that cannot be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No file could be used: every path tried, in order, and why it failed. The last
    /// one may be a file that was read but is broken (for example a syntax error); a
    /// broken file is not replaced by the default.
    #[error("no usable configuration file: {}", list(attempts.iter(), "; "))]
    Unusable {
        /// Every file tried, in order.
        attempts: Vec<Attempt>,
    },
    /// The file has keys the configuration type does not know (a typo, or a setting of
    /// another version); see [`Loader::allow_unknown_keys`](super::Loader::allow_unknown_keys).
    #[error(
        "{}: unknown key{} {} (a typo? unknown keys are refused unless allowed)",
        file.display(),
        if keys.len() == 1 { "" } else { "s" },
        list(keys.iter().map(|k| format!("`{k}`")), ", ")
    )]
    UnknownKeys {
        /// The file.
        file: PathBuf,
        /// Each unknown key's dotted path (`sockets.events.conect`).
        keys: Vec<String>,
    },
    /// A value is missing, has the wrong type, or breaks a rule (such as a socket that
    /// both binds and connects).
    #[error("{}", invalid(file, key, position, message, unknown_keys))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// The dotted path of the value at fault (`sockets.events.connect`), or of the
        /// table when the fault is between its keys (`sockets.events` for a socket with
        /// both `bind` and `connect`); empty for the top level.
        key: String,
        /// Where in the file, when known.
        position: Option<Position>,
        /// What is wrong.
        message: String,
        /// Unknown keys met before the error (often the cause: a misspelt required key).
        unknown_keys: Vec<String>,
    },
    /// A key file named in a `[sockets.NAME.security]` table (or its allowlist
    /// directory) is missing, unreadable or malformed; `source` names that file.
    #[error("{}: `{key}`: {source}", file.display())]
    KeyFile {
        /// The configuration file.
        file: PathBuf,
        /// The dotted path of the security table (`sockets.requests.security`).
        key: String,
        /// What is wrong with the key file, naming it.
        source: crate::security::KeyError,
    },
}

fn list<T: fmt::Display>(items: impl Iterator<Item = T>, separator: &str) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(separator)
}

fn invalid(file: &Path, key: &str, position: &Option<Position>, message: &str, unknown: &[String]) -> String {
    let mut s = file.display().to_string();
    if !key.is_empty() {
        s += &format!(": `{key}`");
    }
    if let Some(p) = position {
        s += &format!(" ({p})");
    }
    s += &format!(": {message}");
    if !unknown.is_empty() {
        s +=
            &format!(" (unknown keys in the file: {})", list(unknown.iter().map(|k| format!("`{k}`")), ", "));
    }
    s
}
