//! Where the telemetry lives: a SQLite file (`--db PATH` or `sqlite://PATH`, the default
//! `<root>/telemetry.db`) or a team's PostgreSQL (`--db postgres://…`).

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    /// A `postgres://` or `postgresql://` URL (a password in it, or in `PGPASSWORD`).
    Postgres(String),
}

impl Location {
    /// `postgres://…`/`postgresql://…`, `sqlite://PATH`, or a path.
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres(text.to_owned())
        } else {
            Location::File(PathBuf::from(
                text.strip_prefix("sqlite://").unwrap_or(text),
            ))
        }
    }

    /// The file, for a SQLite location.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::File(path) => Some(path),
            Location::Postgres(_) => None,
        }
    }
}

impl From<&Path> for Location {
    fn from(path: &Path) -> Location {
        Location::File(path.to_path_buf())
    }
}

impl From<&PathBuf> for Location {
    fn from(path: &PathBuf) -> Location {
        Location::File(path.clone())
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Location {
        Location::File(path)
    }
}

/// As [`fmt::Display`]: a password never shows.
impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

/// The path, or the URL without its password (safe to show and log).
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(path) => write!(f, "{}", path.display()),
            Location::Postgres(text) => match url::Url::parse(text) {
                Ok(mut url) => {
                    if url.password().is_some() {
                        let _ = url.set_password(Some("***"));
                    }
                    write!(f, "{url}")
                }
                Err(_) => f.write_str("postgres://(unparsable URL)"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert_eq!(
            Location::parse("a/telemetry.db"),
            Location::File("a/telemetry.db".into())
        );
        assert_eq!(
            Location::parse("sqlite:///x/t.db"),
            Location::File("/x/t.db".into())
        );
        let team = Location::parse("postgres://dash:s3cret@db.example:5432/team");
        assert!(matches!(team, Location::Postgres(_)));
        assert_eq!(team.to_string(), "postgres://dash:***@db.example:5432/team");
        assert!(!format!("{team:?}").contains("s3cret"));
    }
}
