//! [`SessionLayer`]: makes the session available to handlers and writes back the
//! cookies that change.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::{HeaderMap, HeaderValue, Request, header};
use axum::response::Response;
use cookie::Cookie;
use tower::{Layer, Service};

use super::Loaded;
use crate::login::{Login, LoginError};
use crate::session::BoxFuture;
use crate::util::now;

impl Login {
    /// makes the session available and writes back cookies that change (idle timeout,
    /// refreshed tokens, ended sessions).
    pub fn layer(&self) -> SessionLayer {
        SessionLayer {
            login: self.clone(),
        }
    }
}

/// The per-request session state the layer shares with the extractors.
pub(crate) struct SessionSlot {
    pub(super) login: Login,
    pub(super) state: std::sync::Mutex<SlotState>,
    pub(super) loading: tokio::sync::Mutex<()>,
}

#[derive(Default)]
pub(super) struct SlotState {
    /// `None`: not loaded yet; `Some(None)`: no session.
    pub(super) loaded: Option<Option<Loaded>>,
    cookies: Vec<Cookie<'static>>,
    /// The session ended during the request: clear the cookies.
    ended: bool,
}

impl SessionSlot {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().expect("session slot lock")
    }

    pub(super) async fn get(&self, headers: &HeaderMap) -> Result<Option<Loaded>, LoginError> {
        let _loading = self.loading.lock().await;
        if let Some(loaded) = self.lock().loaded.clone() {
            return Ok(loaded);
        }
        let mut loaded = self.login.load(headers).await?;
        if let Some(l) = &mut loaded {
            // Extend the idle timeout, at most once a minute per session.
            let t = now();
            let every = (self.login.inner.sessions.idle.as_secs() / 8).clamp(1, 60);
            if t >= l.record.seen + every {
                std::sync::Arc::make_mut(&mut l.record).seen = t;
                let cookies = self.login.save(l).await?;
                self.push_cookies(cookies);
            }
        }
        self.lock().loaded = Some(loaded.clone());
        Ok(loaded)
    }

    pub(super) fn set(&self, loaded: Loaded) {
        self.lock().loaded = Some(Some(loaded));
    }

    pub(super) fn push_cookies(&self, cookies: Vec<Cookie<'static>>) {
        let mut s = self.lock();
        let names: Vec<String> = cookies.iter().map(|c| c.name().to_owned()).collect();
        s.cookies.retain(|c| !names.iter().any(|n| n == c.name()));
        s.cookies.extend(cookies);
    }

    pub(super) fn end(&self) {
        let mut s = self.lock();
        s.loaded = Some(None);
        s.ended = true;
    }
}

/// Makes the login session available to handlers; made by [`Login::layer`].
#[derive(Debug, Clone)]
pub struct SessionLayer {
    login: Login,
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            login: self.login.clone(),
        }
    }
}

/// The service of [`SessionLayer`].
#[derive(Debug, Clone)]
pub struct SessionService<S> {
    inner: S,
    login: Login,
}

impl<S, B> Service<Request<B>> for SessionService<S>
where
    S: Service<Request<B>, Response = Response>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let slot = Arc::new(SessionSlot {
            login: self.login.clone(),
            state: std::sync::Mutex::default(),
            loading: tokio::sync::Mutex::new(()),
        });
        // Kept to remove the session's cookies if it ends during the request.
        let sent: HeaderMap = request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .map(|v| (header::COOKIE, v.clone()))
            .collect();
        request.extensions_mut().insert(Arc::clone(&slot));
        let future = self.inner.call(request);
        let login = self.login.clone();
        Box::pin(async move {
            let mut response = future.await?;
            let state = std::mem::take(&mut *slot.lock());
            let cookies = if state.ended {
                login.inner.sessions.cookie.clear(&sent)
            } else {
                state.cookies
            };
            for cookie in cookies {
                if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            Ok(response)
        })
    }
}
