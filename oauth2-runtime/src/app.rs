//! [`App`]: the composition root. It builds the parts of an app's auth in the right
//! order over one [`KeyRegistry`]: the authenticator of bearer tokens and the browser
//! login, and the broker the login holds, whose tokens the authenticator then accepts. An issuer
//! used by both sides therefore has one discovery document and one key cache, by
//! construction: there is no registry to forget to share.
//!
//! `providers!` generates a typed wrapper over an `App`; by hand:
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use oauth2::login::{Login, LoginProvider, Session};
//! use oauth2::{App, Authenticated, Authenticator, Provider};
//!
//! async fn api(user: Authenticated) -> String { user.provider().to_owned() }
//! async fn page(Session(user): Session<Authenticated>) -> String { user.provider().to_owned() }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let issuer = "https://login.corp.example";
//! let app = App::builder()
//!     .bearer(Authenticator::builder().provider(Provider::builder("corp").issuer(issuer).audience("api")))
//!     .login(
//!         Login::builder()
//!             .base_url("https://app.example")
//!             .session_secret(std::env::var("SESSION_SECRET")?)
//!             .provider(LoginProvider::builder("corp").issuer(issuer).client_id("web")),
//!     )
//!     .build()?;
//! let router: Router = Router::new()
//!     .route("/api", get(api))
//!     .route("/page", get(page))
//!     .merge(app.router())
//!     .layer(app.layer());
//! # Ok(()) }
//! ```
//!
//! An `App<B, L>` has the sides it was given: `B` is [`Authenticator`] or `()`, `L` is
//! [`Login`] or `()`, so that [`App::authenticator`], [`App::login`] and the type of
//! [`App::layer`] are known at compile time.

use crate::authenticator::{Authenticator, AuthenticatorBuilder};
use crate::config::ConfigError;
use crate::jwks::KeyRegistry;
#[cfg(feature = "login")]
use crate::login::{Login, LoginBuilder, SessionLayer};

/// The name under which the authenticator accepts the broker's access tokens, as
/// `#[protect(provider = "broker")]` writes it.
pub const BROKER_PROVIDER: &str = oauth2_syntax::BROKER;

/// An app's auth: the authenticator of bearer tokens (`B` = [`Authenticator`]) and the
/// browser login (`L` = [`Login`]), either of them `()` when the app has no such side,
/// over one key registry. Cheap to clone.
#[derive(Clone, Debug)]
pub struct App<B, L> {
    bearer: B,
    #[cfg_attr(not(feature = "login"), allow(dead_code))]
    login: L,
    registry: KeyRegistry,
}

/// Builds an [`App`]: give it the configuration of each side it has, then
/// [`build`](Self::build) it.
#[must_use = "call `build()`"]
#[derive(Debug)]
pub struct AppBuilder<B, L> {
    bearer: B,
    login: L,
    registry: Option<KeyRegistry>,
}

impl App<(), ()> {
    /// An app without sides yet: add [`bearer`](AppBuilder::bearer) and/or
    /// [`login`](AppBuilder::login).
    pub fn builder() -> AppBuilder<(), ()> {
        AppBuilder {
            bearer: (),
            login: (),
            registry: None,
        }
    }
}

impl<L> AppBuilder<(), L> {
    /// The bearer-token side: the providers whose access tokens the app accepts.
    pub fn bearer(self, bearer: AuthenticatorBuilder) -> AppBuilder<AuthenticatorBuilder, L> {
        AppBuilder {
            bearer,
            login: self.login,
            registry: self.registry,
        }
    }
}

#[cfg(feature = "login")]
impl<B> AppBuilder<B, ()> {
    /// The browser-login side: the providers users log in with, sessions, and the
    /// broker when the login has one.
    pub fn login(self, login: LoginBuilder) -> AppBuilder<B, LoginBuilder> {
        AppBuilder {
            bearer: self.bearer,
            login,
            registry: self.registry,
        }
    }
}

impl<B, L> AppBuilder<B, L> {
    /// The key registry to register the issuers in, to share key caches with other
    /// parts of the program. Without it the app makes one (with the HTTP client given
    /// to either side, if any).
    pub fn registry(mut self, registry: KeyRegistry) -> Self {
        self.registry = Some(registry);
        self
    }
}

/// The one registry of an app: the one given to the app builder or to one of its sides
/// (two different ones are an error: the sides would fetch keys twice), or a new one
/// with the HTTP client of either side.
fn one_registry(
    app: Option<KeyRegistry>,
    sides: [(Option<&KeyRegistry>, Option<&reqwest::Client>); 2],
) -> Result<KeyRegistry, ConfigError> {
    let mut given = app.iter().chain(sides.iter().filter_map(|(r, _)| *r));
    let first = given.next();
    if let Some(first) = first
        && given.any(|other| !other.same_as(first))
    {
        return Err(ConfigError::Setting {
            field: "registry",
            problem: "the app and its sides name different key registries: an issuer would \
                      have two key caches; give one registry to `App::builder().registry(...)`"
                .into(),
        });
    }
    Ok(match (first, sides.iter().find_map(|(_, http)| *http)) {
        (Some(registry), _) => registry.clone(),
        (None, Some(client)) => KeyRegistry::with_http_client(client.clone()),
        (None, None) => KeyRegistry::new(),
    })
}

impl AppBuilder<AuthenticatorBuilder, ()> {
    /// Checks the configuration and starts loading keys in the background (so it must
    /// run inside a Tokio runtime).
    pub fn build(self) -> Result<App<Authenticator, ()>, ConfigError> {
        let b = &self.bearer;
        let registry = one_registry(self.registry, [b.shared(), (None, None)])?;
        Ok(App {
            bearer: self.bearer.registry(registry.clone()).build()?,
            login: (),
            registry,
        })
    }
}

#[cfg(feature = "login")]
impl AppBuilder<(), LoginBuilder> {
    /// Checks the configuration and starts loading keys in the background (so it must
    /// run inside a Tokio runtime).
    pub fn build(self) -> Result<App<(), Login>, ConfigError> {
        let registry = one_registry(self.registry, [(None, None), self.login.shared()])?;
        Ok(App {
            bearer: (),
            login: self.login.registry(registry.clone()).build()?,
            registry,
        })
    }
}

#[cfg(feature = "login")]
impl AppBuilder<AuthenticatorBuilder, LoginBuilder> {
    /// Checks the configuration and starts loading keys in the background (so it must
    /// run inside a Tokio runtime).
    ///
    /// The bearer side registers its issuers first, so that a provider of both sides
    /// loads its keys with the bearer provider's settings (refresh interval, cooldown,
    /// timeout); with a broker the login comes first instead, since it makes the broker
    /// whose tokens the authenticator then accepts as provider [`BROKER_PROVIDER`].
    pub fn build(self) -> Result<App<Authenticator, Login>, ConfigError> {
        let sides = [self.bearer.shared(), self.login.shared()];
        let registry = one_registry(self.registry, sides)?;
        let bearer = self.bearer.registry(registry.clone());
        let login = self.login.registry(registry.clone());
        #[cfg(feature = "broker")]
        if login.has_broker() {
            let login = login.build()?;
            let bearer = match login.broker() {
                Some(broker) => bearer.provider(broker.bearer_provider(BROKER_PROVIDER)),
                None => bearer,
            };
            return Ok(App {
                bearer: bearer.build()?,
                login,
                registry,
            });
        }
        Ok(App {
            bearer: bearer.build()?,
            login: login.build()?,
            registry,
        })
    }
}

impl<B, L> App<B, L> {
    /// The registry of every issuer's key cache and discovery document, shared by both
    /// sides.
    pub fn registry(&self) -> &KeyRegistry {
        &self.registry
    }
}

impl<L> App<Authenticator, L> {
    /// The bearer-token side: key caches and validation.
    pub fn authenticator(&self) -> &Authenticator {
        &self.bearer
    }

    /// A layer that requires a valid token on every path except the public ones, and
    /// also serves `#[protect]`.
    pub fn require_everywhere(&self) -> crate::AuthLayer {
        self.bearer.layer()
    }

    /// Waits until every bearer provider's keys are loaded.
    pub async fn ready(&self) {
        self.bearer.ready().await;
    }
}

impl App<Authenticator, ()> {
    /// The app's routes: the protected resource metadata when the authenticator has a
    /// resource (see [`crate::resource`]); merge them into the app's router.
    pub fn router<S>(&self) -> axum::Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        self.bearer.router()
    }

    /// The layer that lets `#[protect]` handlers and the extractors validate tokens;
    /// routes without `#[protect]` stay open.
    pub fn layer(&self) -> crate::AuthLayer {
        self.bearer.extension()
    }
}

impl From<Authenticator> for App<Authenticator, ()> {
    fn from(authenticator: Authenticator) -> Self {
        Self {
            registry: authenticator.registry().clone(),
            bearer: authenticator,
            login: (),
        }
    }
}

#[cfg(feature = "login")]
impl<B> App<B, Login> {
    /// The browser-login side: providers, sessions, hook, broker.
    pub fn login(&self) -> &Login {
        &self.login
    }
}

#[cfg(feature = "login")]
impl App<(), Login> {
    /// The login routes (`{prefix}/{provider}/login`, `.../callback`,
    /// `{prefix}/logout`, `{prefix}/userinfo`, and those of the app's own endpoints and
    /// broker): merge them into the app's router.
    pub fn router<S>(&self) -> axum::Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        self.login.router()
    }

    /// The layer that lets handlers read the login session.
    pub fn layer(&self) -> SessionLayer {
        self.login.layer()
    }
}

#[cfg(feature = "login")]
impl App<Authenticator, Login> {
    /// The login routes (`{prefix}/{provider}/login`, `.../callback`,
    /// `{prefix}/logout`, `{prefix}/userinfo`, and those of the app's own endpoints and
    /// broker) and the protected resource metadata when the authenticator has a
    /// resource: merge them into the app's router.
    pub fn router<S>(&self) -> axum::Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        self.login.router().merge(self.bearer.router())
    }

    /// The layers that let `#[protect]` handlers and the extractors validate tokens and
    /// read login sessions; routes without `#[protect]` stay open.
    pub fn layer(&self) -> (crate::AuthLayer, SessionLayer) {
        (self.bearer.extension(), self.login.layer())
    }
}

#[cfg(feature = "utoipa")]
mod openapi {
    use super::App;
    use crate::Authenticator;
    use crate::discovery::DiscoveryError;
    use crate::openapi::SecuritySchemes;

    impl App<Authenticator, ()> {
        /// The OpenAPI security schemes of the bearer providers, by name (see
        /// [`crate::openapi`]).
        pub async fn openapi(&self) -> Result<SecuritySchemes, DiscoveryError> {
            Ok(SecuritySchemes::new().bearer(&self.bearer))
        }
    }

    #[cfg(feature = "login")]
    impl App<(), crate::login::Login> {
        /// The OpenAPI security schemes of the login providers and the session cookie;
        /// fetches the providers' discovery documents if not fetched yet.
        pub async fn openapi(&self) -> Result<SecuritySchemes, DiscoveryError> {
            SecuritySchemes::new().login(&self.login).await
        }
    }

    #[cfg(feature = "login")]
    impl App<Authenticator, crate::login::Login> {
        /// The OpenAPI security schemes of every provider (a provider of both sides
        /// keeps its bearer scheme) and the session cookie; fetches the login
        /// providers' discovery documents if not fetched yet.
        pub async fn openapi(&self) -> Result<SecuritySchemes, DiscoveryError> {
            SecuritySchemes::new()
                .bearer(&self.bearer)
                .login(&self.login)
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Provider;

    fn bearer() -> AuthenticatorBuilder {
        Authenticator::builder().provider(
            Provider::builder("corp")
                .issuer("https://login.corp.example")
                .audience("api"),
        )
    }

    #[tokio::test]
    async fn the_app_registers_the_issuer_in_the_registry_it_was_given() {
        let registry = KeyRegistry::new();
        let app = App::builder()
            .bearer(bearer())
            .registry(registry.clone())
            .build()
            .unwrap();
        assert!(app.registry().same_as(&registry));
        assert_eq!(registry.issuers(), ["https://login.corp.example"]);
    }

    #[tokio::test]
    async fn two_different_registries_are_refused() {
        let e = App::builder()
            .bearer(bearer().registry(KeyRegistry::new()))
            .registry(KeyRegistry::new())
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("different key registries"), "{e}");
        // The same one twice is one registry.
        let registry = KeyRegistry::new();
        let app = App::builder()
            .bearer(bearer().registry(registry.clone()))
            .registry(registry.clone())
            .build()
            .unwrap();
        assert!(app.registry().same_as(&registry));
    }
}
