//! [`Login::router`]: every route of the login, in one table. The handlers live with
//! their role: the relying party's in `rp/`, the app's own endpoints in `endpoints/`.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};

use super::Login;
use super::endpoints::native::NativeLogin;
use super::endpoints::{native, token};
use super::rp::start::LoginQuery;
use super::rp::{backchannel, callback, logout, start};

impl Login {
    /// The login routes under the prefix (default `/auth`): `/{provider}/login`,
    /// `/{provider}/callback`, `/logout` (`POST`, and `GET` only with
    /// [`allow_get_logout`](super::LoginBuilder::allow_get_logout)), `/userinfo`, and
    /// the token, device and back-channel logout routes of the providers that have
    /// them. Merge them into the app's router.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let prefix = &self.inner.site.prefix;
        let logout = if self.inner.site.get_logout {
            get(logout::logout).post(logout::logout)
        } else {
            post(logout::logout)
        };
        let router = Router::new()
            .route(&format!("{prefix}/{{provider}}/login"), get(login))
            .route(
                &format!("{prefix}/{{provider}}/callback"),
                get(callback::callback),
            )
            .route(&format!("{prefix}/{{provider}}/token"), post(token::token))
            .route(
                &format!("{prefix}/{{provider}}/device"),
                post(token::device),
            )
            .route(
                &format!("{prefix}/{{provider}}/backchannel-logout"),
                post(backchannel::backchannel_logout),
            )
            .route(&format!("{prefix}/logout"), logout)
            .route(&format!("{prefix}/userinfo"), get(logout::userinfo));
        #[cfg(feature = "broker")]
        let router = match &self.inner.broker {
            Some(broker) => {
                use super::endpoints::broker_grants;
                router
                    .route(&format!("{prefix}/token"), post(broker_grants::token))
                    .route(&format!("{prefix}/revoke"), post(broker_grants::revoke))
                    .merge(broker.router(prefix))
            }
            None => router,
        };
        router.with_state(self.clone())
    }
}

/// `GET {prefix}/{provider}/login`: a native client's login (RFC 8252) when the query
/// carries its `redirect_uri`, else a browser's. A browser whose login cannot start
/// gets the app's error page.
async fn login(
    State(login): State<Login>,
    Path(provider): Path<String>,
    Query(query): Query<LoginQuery>,
    headers: HeaderMap,
) -> Response {
    let started = match &query.redirect_uri {
        Some(redirect_uri) => {
            let client = NativeLogin {
                redirect_uri,
                code_challenge: query.code_challenge.as_deref(),
                code_challenge_method: query.code_challenge_method.as_deref(),
                state: query.state.as_deref(),
                nonce: query.nonce.as_deref(),
            };
            native::start(&login, &provider, &client).await
        }
        None => start::start(&login, &provider, &query, &headers).await,
    };
    started.unwrap_or_else(|e| login.failure(&headers, Some(&provider), e))
}
