//! Shell syntax shared by the engine and its fronts: quoting a word for the shell that runs
//! command lines, and which names are environment variable names.

/// Quotes `word` for the shell that runs command lines (bash, or cmd on Windows) unless it only
/// holds characters the shell leaves alone.
pub fn quote(word: &str) -> String {
    crate::platform::quote_word(word)
}

/// A name a shell can export: ASCII letters, digits and `_`, not starting with a digit.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn quotes_only_what_bash_would_read_differently() {
        assert_eq!(quote("test:unit"), "test:unit");
        assert_eq!(quote("a=b,c@d%e+f"), "a=b,c@d%e+f");
        assert_eq!(quote("dev server"), "'dev server'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("a;rm -rf /"), "'a;rm -rf /'");
        assert_eq!(quote("$HOME"), "'$HOME'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn env_names() {
        for good in ["PATH", "_", "_x1", "a"] {
            assert!(is_env_name(good), "{good}");
        }
        for bad in ["", "1A", "A-B", "A B", "BASH_FUNC_f%%", "É"] {
            assert!(!is_env_name(bad), "{bad}");
        }
    }
}
