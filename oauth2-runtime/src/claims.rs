//! The result of a successful validation: provider name, claims and scopes; and
//! [`FromClaims`], typed access to them (usually derived).
//!
//! ```
//! use oauth2::{Authenticated, Scopes};
//!
//! let auth = Authenticated::new("corp", serde_json::json!({
//!     "sub": "alice", "scope": "read write", "realm_access": {"roles": ["admin"]}
//! }));
//! assert_eq!(auth.provider(), "corp");
//! assert_eq!(auth.subject(), Some("alice"));
//! assert!(auth.scopes().contains_all(["read", "write"]));
//!
//! #[derive(serde::Deserialize)]
//! struct Claims { sub: String, #[serde(rename = "scope")] scopes: Scopes }
//! let claims: Claims = auth.deserialize().unwrap();
//! assert_eq!(claims.sub, "alice");
//! assert!(claims.scopes.contains("write"));
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde_json::{Map, Value};

/// A validated token: which provider issued it and its claims.
///
/// Put in the request extensions by the layer; also an extractor (see
/// [`extract`](crate::extract)). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Authenticated {
    provider: Arc<str>,
    /// Always a JSON object.
    claims: Arc<Value>,
}

impl Authenticated {
    /// Wraps claims validated elsewhere (tests, custom adapters).
    /// A non-object value is treated as no claims.
    pub fn new(provider: impl Into<Arc<str>>, claims: Value) -> Self {
        let claims = match claims {
            Value::Object(_) => claims,
            _ => Value::Object(Map::new()),
        };
        Self {
            provider: provider.into(),
            claims: Arc::new(claims),
        }
    }

    /// Claims already shared as an object (a session's), without copying them.
    #[cfg(feature = "login")]
    pub(crate) fn shared(provider: impl Into<Arc<str>>, claims: Arc<Value>) -> Self {
        if !claims.is_object() {
            return Self::new(provider, Value::Null);
        }
        Self {
            provider: provider.into(),
            claims,
        }
    }

    /// The name of the provider that issued the token.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// All claims as a JSON map.
    pub fn claims(&self) -> &Map<String, Value> {
        match &*self.claims {
            Value::Object(map) => map,
            _ => unreachable!("claims are always an object"),
        }
    }

    /// One claim.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims().get(name)
    }

    /// The party acting for the subject: `act.sub` (RFC 8693 §4.1), which a token
    /// obtained by token exchange carries to name the client that exchanged it (the
    /// API between the user and this one).
    pub fn actor(&self) -> Option<&str> {
        self.actors().next()
    }

    /// Every actor of the `act` chain, the current one first and then those before it
    /// (each `act` may nest the one it replaced); empty when the token has no `act`.
    pub fn actors(&self) -> impl Iterator<Item = &str> {
        let mut act = self.claims.get("act");
        std::iter::from_fn(move || {
            let current = act?;
            act = current.get("act");
            current.get("sub").and_then(Value::as_str)
        })
    }

    /// The thumbprint of the key a DPoP-bound token is bound to (`cnf.jkt`, RFC 9449
    /// §6): a token that has one was accepted with a proof of that key.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.claim("cnf")?.get("jkt")?.as_str()
    }

    /// The `sub` claim.
    pub fn subject(&self) -> Option<&str> {
        self.claim("sub").and_then(Value::as_str)
    }

    /// The granted scopes, from `scope` (space-separated) or `scp` (array or string).
    pub fn scopes(&self) -> Scopes {
        Scopes::from_claims(self.claims())
    }

    /// The claims as a typed value.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&*self.claims)
    }

    /// The claims as a typed value, with an error that says which claim is absent or
    /// does not fit (absent top-level claims are told apart by serde's own
    /// `missing_field`, not by reading a message).
    pub(crate) fn deserialize_claims<T: DeserializeOwned>(&self) -> Result<T, ClaimError> {
        T::deserialize(ClaimsDeserializer(self.claims())).map_err(|e| e.0)
    }
}

/// Deserializes a claims map with [`ClaimDeError`], so that serde reports a missing
/// top-level field through [`de::Error::missing_field`].
struct ClaimsDeserializer<'a>(&'a Map<String, Value>);

/// A [`ClaimError`] as a serde error.
#[derive(Debug)]
struct ClaimDeError(ClaimError);

impl fmt::Display for ClaimDeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ClaimDeError {}

impl de::Error for ClaimDeError {
    fn custom<M: fmt::Display>(message: M) -> Self {
        Self(ClaimError::invalid("claims", message))
    }

    fn missing_field(field: &'static str) -> Self {
        Self(ClaimError::missing(field))
    }
}

impl<'a> Deserializer<'a> for ClaimsDeserializer<'a> {
    type Error = ClaimDeError;

    fn deserialize_any<V: de::Visitor<'a>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(ClaimsAccess {
            entries: self.0.iter(),
            value: None,
        })
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct ClaimsAccess<'a> {
    entries: serde_json::map::Iter<'a>,
    value: Option<(&'a str, &'a Value)>,
}

impl<'a> de::MapAccess<'a> for ClaimsAccess<'a> {
    type Error = ClaimDeError;

    fn next_key_seed<K: de::DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((name, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some((name, value));
        seed.deserialize(de::value::StrDeserializer::<ClaimDeError>::new(name))
            .map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'a>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let (name, value) = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a claim's value was read twice"))?;
        seed.deserialize(value)
            .map_err(|e| ClaimDeError(ClaimError::invalid(name.to_owned(), e)))
    }
}

/// A type built from a validated token's claims: what `#[protect(claims = T)]` and
/// [`Protected`](crate::guard::Protected) hand to a handler.
///
/// Derive it with `#[derive(oauth2::FromClaims)]`: each field reads the claim of its
/// name, or the one given by `#[claim(rename = "...")]`, or a nested one by
/// `#[claim(path = "a.b")]`; `Option<T>` fields and `#[claim(default)]` fields may be
/// absent; `#[claim(scopes)]` reads `scope` (a string) or `scp` (an array). A claim that
/// is absent or has the wrong type gives a [`ClaimError`] that names it, which the
/// extractor turns into 401 `invalid_token`.
///
/// ```
/// use oauth2::{Authenticated, FromClaims, Scopes};
///
/// #[derive(FromClaims)]
/// struct User {
///     sub: String,
///     email: Option<String>,
///     #[claim(rename = "preferred_username")]
///     username: String,
///     #[claim(path = "realm_access.roles", default)]
///     roles: Vec<String>,
///     #[claim(scopes)]
///     scopes: Scopes,
/// }
///
/// let auth = Authenticated::new("corp", serde_json::json!({
///     "sub": "alice", "preferred_username": "al", "scope": "read write",
///     "realm_access": {"roles": ["admin"]},
/// }));
/// let user = User::from_claims(&auth).unwrap();
/// assert_eq!((user.sub.as_str(), user.username.as_str()), ("alice", "al"));
/// assert_eq!((user.email, user.roles), (None, vec!["admin".to_owned()]));
/// assert!(user.scopes.contains("write"));
///
/// let err = User::from_claims(&Authenticated::new("corp", serde_json::json!({"sub": "bob"})));
/// assert_eq!(err.err().unwrap().to_string(), "token has no `preferred_username` claim");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from token claims",
    label = "`{Self}` does not implement `FromClaims`",
    note = "add `#[derive(oauth2::FromClaims)]` to the definition of `{Self}`"
)]
pub trait FromClaims: Sized {
    /// Reads `Self` from the claims of a validated token.
    fn from_claims(auth: &Authenticated) -> Result<Self, ClaimError>;
}

/// The claims as they are, with the provider's name: for guards that need no type.
impl FromClaims for Authenticated {
    fn from_claims(auth: &Authenticated) -> Result<Self, ClaimError> {
        Ok(auth.clone())
    }
}

/// A claim that a [`FromClaims`] type needs is absent or has the wrong type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimError {
    claim: Cow<'static, str>,
    /// `None` when the claim is absent.
    problem: Option<String>,
}

impl ClaimError {
    /// The claim `name` (a dotted path for nested claims) is absent.
    pub fn missing(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            claim: name.into(),
            problem: None,
        }
    }

    /// The claim `name` is there but does not fit: `problem` says how.
    pub fn invalid(name: impl Into<Cow<'static, str>>, problem: impl fmt::Display) -> Self {
        Self {
            claim: name.into(),
            problem: Some(problem.to_string()),
        }
    }

    /// The claim's name, or its dotted path.
    pub fn claim(&self) -> &str {
        &self.claim
    }

    /// Whether the claim is absent (rather than of the wrong type).
    pub fn is_missing(&self) -> bool {
        self.problem.is_none()
    }
}

impl fmt::Display for ClaimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            None => write!(f, "token has no `{}` claim", self.claim),
            Some(problem) => write!(f, "claim `{}` is invalid: {problem}", self.claim),
        }
    }
}

impl std::error::Error for ClaimError {}

/// A set of OAuth scopes.
///
/// Deserializes from a space-separated string (`scope`) or an array of strings (`scp`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a space-separated scope string, as `scope` claims and token responses
    /// write them (RFC 6749 §3.3).
    pub fn parse(scope: &str) -> Self {
        scope.split_ascii_whitespace().collect()
    }

    /// Reads `scope`, else `scp`, from claims.
    pub fn from_claims(claims: &Map<String, Value>) -> Self {
        claims
            .get("scope")
            .or_else(|| claims.get("scp"))
            .and_then(|v| Self::deserialize(v).ok())
            .unwrap_or_default()
    }

    /// Whether `scope` was granted.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    /// Whether every one of `scopes` was granted.
    pub fn contains_all<'a>(&self, scopes: impl IntoIterator<Item = &'a str>) -> bool {
        scopes.into_iter().all(|s| self.contains(s))
    }

    /// The scopes among `required` that were not granted.
    pub fn missing<'a>(&self, required: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        required.into_iter().filter(|s| !self.contains(s)).collect()
    }

    /// Iterates over the granted scopes.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The number of granted scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no scope was granted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Scopes that imply others, app-wide: with `mcp:admin` implying `mcp:tools` and
/// `mcp:deploy`, a token granted `mcp:admin` passes every check that needs either
/// (`#[protect(scopes = ...)]`, [`RequireScopes`](crate::RequireScopes), the MCP
/// operation rules). Implication is transitive. Set with
/// [`AuthenticatorBuilder::scope_implies`](crate::AuthenticatorBuilder::scope_implies).
///
/// ```
/// use oauth2::claims::{ScopeHierarchy, Scopes};
///
/// let hierarchy = ScopeHierarchy::default()
///     .imply("mcp:admin", ["mcp:tools", "mcp:deploy"])
///     .imply("mcp:tools", ["mcp:read"]);
/// let granted = Scopes::parse("mcp:admin");
/// assert!(hierarchy.grants(&granted, "mcp:read"));
/// assert_eq!(hierarchy.missing(&granted, ["mcp:deploy", "billing"]), ["billing"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeHierarchy(Vec<(String, String)>);

impl ScopeHierarchy {
    /// `scope` implies each of `implied`.
    #[must_use]
    pub fn imply<I, S>(mut self, scope: impl Into<String>, implied: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scope = scope.into();
        for implied in implied {
            self.0.push((scope.clone(), implied.into()));
        }
        self
    }

    /// Whether `granted` holds `scope`, or a scope that implies it.
    pub fn grants(&self, granted: &Scopes, scope: &str) -> bool {
        if granted.contains(scope) {
            return true;
        }
        // Walk up from `scope` to the scopes that imply it, each once.
        let mut seen = vec![scope];
        let mut next = 0;
        while let Some(&wanted) = seen.get(next) {
            next += 1;
            for (over, under) in &self.0 {
                if under == wanted && !seen.contains(&over.as_str()) {
                    if granted.contains(over) {
                        return true;
                    }
                    seen.push(over);
                }
            }
        }
        false
    }

    /// The scopes among `required` that `granted` holds neither directly nor through
    /// a scope that implies them.
    pub fn missing<'a>(
        &self,
        granted: &Scopes,
        required: impl IntoIterator<Item = &'a str>,
    ) -> Vec<&'a str> {
        required
            .into_iter()
            .filter(|s| !self.grants(granted, s))
            .collect()
    }

    /// Every scope named, implying or implied.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.0.iter().flat_map(|(a, b)| [a.as_str(), b.as_str()])
    }

    /// Whether no scope implies another.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<S: Into<String>> FromIterator<S> for Scopes {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self(iter.into_iter().map(Into::into).collect())
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Scopes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a space-separated string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scopes, E> {
                Ok(Scopes::parse(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Scopes, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(Scopes(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scopes, E> {
                Ok(Scopes::default())
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scopes(v: Value) -> Scopes {
        Scopes::from_claims(v.as_object().unwrap())
    }

    #[test]
    fn the_act_chain_names_the_current_actor_first() {
        let auth = Authenticated::new(
            "p",
            json!({"sub": "alice", "act": {"sub": "orders-api", "act": {"sub": "web"}}}),
        );
        assert_eq!(auth.actor(), Some("orders-api"));
        assert_eq!(auth.actors().collect::<Vec<_>>(), ["orders-api", "web"]);
        let direct = Authenticated::new("p", json!({"sub": "alice"}));
        assert_eq!(direct.actor(), None);
        assert_eq!(direct.actors().count(), 0);
    }

    #[test]
    fn scope_string_and_scp_array() {
        assert!(scopes(json!({"scope": "a  b\tc"})).contains_all(["a", "b", "c"]));
        assert!(scopes(json!({"scp": ["x", "y"]})).contains_all(["x", "y"]));
        assert!(scopes(json!({"scp": "x y"})).contains("y"));
        assert!(scopes(json!({})).is_empty());
        assert!(scopes(json!({"scope": 5})).is_empty());
        assert_eq!(scopes(json!({"scope": "a"})).missing(["a", "b"]), ["b"]);
    }

    #[test]
    fn typed_claims_say_which_claim_is_absent_or_wrong() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct User {
            sub: String,
            email: Option<String>,
            age: u8,
        }
        let read = |v: Value| Authenticated::new("p", v).deserialize_claims::<User>();
        let user = read(json!({"sub": "a", "age": 3, "extra": [1]})).unwrap();
        assert_eq!((user.sub.as_str(), user.email), ("a", None));
        let missing = read(json!({"age": 3})).unwrap_err();
        assert!(missing.is_missing());
        assert_eq!(missing.to_string(), "token has no `sub` claim");
        let wrong = read(json!({"sub": "a", "age": "three"})).unwrap_err();
        assert!(!wrong.is_missing());
        assert_eq!(wrong.claim(), "age");
        assert!(wrong.to_string().contains("expected u8"), "{wrong}");
    }

    #[test]
    fn implied_scopes_pass_transitively_and_cycles_end() {
        let h = ScopeHierarchy::default()
            .imply("admin", ["write"])
            .imply("write", ["read"])
            .imply("read", ["admin"]);
        assert!(h.grants(&Scopes::parse("admin"), "read"));
        assert!(
            h.grants(&Scopes::parse("read"), "admin"),
            "a cycle makes them equal"
        );
        assert!(!h.grants(&Scopes::parse("other"), "read"));
        let h = ScopeHierarchy::default().imply("admin", ["write"]);
        assert!(
            !h.grants(&Scopes::parse("write"), "admin"),
            "never downwards"
        );
        assert_eq!(
            h.missing(&Scopes::parse("admin"), ["write", "read"]),
            ["read"]
        );
    }

    #[test]
    fn a_space_separated_scope_string_parses_once() {
        let parsed = Scopes::parse("a  b\tc");
        assert_eq!(parsed.iter().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(Scopes::parse("").is_empty());
    }

    #[test]
    fn non_object_claims_become_empty() {
        let a = Authenticated::new("p", json!([1, 2]));
        assert!(a.claims().is_empty());
    }
}
