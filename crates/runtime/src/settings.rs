//! Settings read from the environment, under one policy for every worker and every layer
//! (engine, idempotency, metrics, logging, each worker's own):
//!
//! - unset, or blank (SAM writes `""` for an empty parameter): the documented default;
//! - set to something that cannot be read: a [`ConfigError`] naming the variable, its value
//!   and what it should be, so the function fails its cold start with that message
//!   instead of running on a default the operator did not choose.
//!
//! Before this, a bad `IDEMPOTENCY_TTL_SECONDS` or `LOG_DEBUG_SAMPLE_RATE` was silently
//! the default while a bad `MAX_CONCURRENCY` stopped the function, and the thumbnail
//! generator's settings answered a `String`.

use std::str::FromStr;

/// Why the environment could not be read as a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or blank.
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    /// A variable is set to something unusable.
    #[error("environment variable {name} has an invalid value {value:?}: {expected}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it should have been.
        expected: &'static str,
    },
    /// A variable whose value its own reader refused, for the reader's reason (a list of
    /// thumbnail sizes names the item at fault).
    #[error("environment variable {name} has an invalid value {value:?}: {reason}")]
    Refused {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// The reader's error.
        reason: String,
    },
}

/// Settings read through a lookup: the process environment in a Lambda, the template's
/// resolved environment in the local stack, a map in tests.
pub struct Env<F> {
    lookup: F,
}

impl Env<fn(&str) -> Option<String>> {
    /// The process environment.
    pub fn process() -> Self {
        Self {
            lookup: |name| std::env::var(name).ok(),
        }
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// Settings read through `lookup`.
    pub fn new(lookup: F) -> Self {
        Self { lookup }
    }

    /// The value, trimmed; `None` when unset or blank.
    pub fn text(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// The value of a variable the function cannot run without.
    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.text(name).ok_or(ConfigError::Missing(name))
    }

    /// The value parsed as `T` and accepted by `valid`; `None` when unset.
    pub fn parsed<T: FromStr>(
        &self,
        name: &'static str,
        expected: &'static str,
        valid: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, ConfigError> {
        let Some(value) = self.text(name) else {
            return Ok(None);
        };
        match value.parse::<T>() {
            Ok(parsed) if valid(&parsed) => Ok(Some(parsed)),
            _ => Err(ConfigError::Invalid {
                name,
                value,
                expected,
            }),
        }
    }

    /// The value read by `read`, whose error says what is wrong with it; `None` when unset.
    pub fn read_with<T, E: std::fmt::Display>(
        &self,
        name: &'static str,
        read: impl Fn(&str) -> Result<T, E>,
    ) -> Result<Option<T>, ConfigError> {
        let Some(value) = self.text(name) else {
            return Ok(None);
        };
        match read(&value) {
            Ok(read) => Ok(Some(read)),
            Err(error) => Err(ConfigError::Refused {
                name,
                reason: error.to_string(),
                value,
            }),
        }
    }

    /// A count or size above zero, or `default` when unset.
    pub fn positive<T: FromStr + Default + PartialOrd>(
        &self,
        name: &'static str,
        default: T,
    ) -> Result<T, ConfigError> {
        Ok(self
            .parsed(name, "a positive integer", |n: &T| *n > T::default())?
            .unwrap_or(default))
    }

    /// One of `choices` by its name, or `default` when unset.
    pub fn choice<T: Copy>(
        &self,
        name: &'static str,
        choices: &[(&str, T)],
        expected: &'static str,
        default: T,
    ) -> Result<T, ConfigError> {
        let Some(value) = self.text(name) else {
            return Ok(default);
        };
        choices
            .iter()
            .find(|(choice, _)| *choice == value)
            .map(|(_, chosen)| *chosen)
            .ok_or(ConfigError::Invalid {
                name,
                value,
                expected,
            })
    }

    /// A comma-separated list (`MEDIA_BUCKETS=a, b`): trimmed, empty entries dropped;
    /// empty when unset.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.text(name).map(|v| name_list(&v)).unwrap_or_default()
    }
}

/// A comma-separated list setting (`MEDIA_BUCKETS=a, b`): trimmed, empty entries dropped.
pub fn name_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A lookup over fixed pairs, for tests of settings.
pub fn lookup_in(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_unset_and_values_are_trimmed() {
        let env = Env::new(lookup_in(&[("A", "  "), ("B", " x ")]));
        assert_eq!(env.text("A"), None);
        assert_eq!(env.text("B").as_deref(), Some("x"));
        assert_eq!(env.required("A"), Err(ConfigError::Missing("A")));
        assert_eq!(env.positive("A", 7usize), Ok(7));
    }

    #[test]
    fn unreadable_values_are_errors_that_name_the_variable() {
        let env = Env::new(lookup_in(&[
            ("N", "0"),
            ("M", "many"),
            ("MODE", "sideways"),
        ]));
        for name in ["N", "M"] {
            let error = env.positive(name, 3u32).expect_err(name);
            assert!(matches!(error, ConfigError::Invalid { name: n, .. } if n == name));
        }
        let error = env
            .choice("MODE", &[("up", 1), ("down", 2)], "up or down", 1)
            .expect_err("not a choice");
        assert_eq!(
            error.to_string(),
            "environment variable MODE has an invalid value \"sideways\": up or down"
        );
    }

    #[test]
    fn lists_are_trimmed_and_skip_empty_entries() {
        assert_eq!(name_list(" a, b ,,c "), vec!["a", "b", "c"]);
        assert!(name_list("").is_empty());
        assert!(Env::new(lookup_in(&[])).list("L").is_empty());
    }
}
