//! [`Audience`]: the accepted `aud` values of a provider.

/// The accepted audiences of a provider: one or many values.
///
/// Built from a string, an array or a vector of strings, so `.audience("api")` and
/// `.audience(["api", "cli"])` both work.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Audience(Vec<String>);

impl Audience {
    /// The accepted values.
    pub fn values(&self) -> &[String] {
        &self.0
    }

    /// Whether `value` is one of them.
    pub fn contains(&self, value: &str) -> bool {
        self.0.iter().any(|v| v == value)
    }
}

/// Reads the `aud` claim: one string or an array of strings.
impl<'de> serde::Deserialize<'de> for Audience {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(match OneOrMany::deserialize(deserializer)? {
            OneOrMany::One(one) => Self(vec![one]),
            OneOrMany::Many(many) => Self(many),
        })
    }
}

impl From<&str> for Audience {
    fn from(value: &str) -> Self {
        Self(vec![value.to_owned()])
    }
}

impl From<String> for Audience {
    fn from(value: String) -> Self {
        Self(vec![value])
    }
}

impl<S: Into<String>, const N: usize> From<[S; N]> for Audience {
    fn from(values: [S; N]) -> Self {
        Self(values.into_iter().map(Into::into).collect())
    }
}

impl<S: Into<String>> From<Vec<S>> for Audience {
    fn from(values: Vec<S>) -> Self {
        Self(values.into_iter().map(Into::into).collect())
    }
}

impl<S: Into<String> + Clone> From<&[S]> for Audience {
    fn from(values: &[S]) -> Self {
        Self(values.iter().cloned().map(Into::into).collect())
    }
}
