//! `GET {prefix}/{provider}/login` for a browser: the authorization request, with the
//! step-up a guard asks for, and the transaction cookie that waits for the callback.

use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::transaction::{AuthorizationRequest, Transaction};
use crate::login::redirect::see_other;
use crate::login::{Login, LoginError, TRANSACTION_TTL};

/// The login route's query: a browser's `return_to` and step-up, or a native client's
/// redirect URI, PKCE challenge, `state` and `nonce`.
#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    pub(crate) return_to: Option<String>,
    /// A native client's (RFC 8252), with its PKCE challenge, `state` and `nonce`.
    pub(crate) redirect_uri: Option<String>,
    pub(crate) code_challenge: Option<String>,
    pub(crate) code_challenge_method: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) nonce: Option<String>,
    /// A step-up login (RFC 9470), as the session guard asks for one.
    pub(crate) acr_values: Option<String>,
    pub(crate) max_age: Option<String>,
    pub(crate) prompt: Option<String>,
}

/// What a step-up login asks the provider for.
#[derive(Debug, Default, PartialEq, Eq)]
struct StepUpRequest {
    /// Space-separated, as the authorization request carries them.
    acr_values: Option<String>,
    max_age: Option<u64>,
    /// `prompt=login`: authenticate again even with a session at the provider.
    prompt_login: bool,
}

impl StepUpRequest {
    /// The step-up parameters of a login request: `acr_values` (printable words), a
    /// `max_age` in seconds (at most a year), and `prompt`, which may only be `login`.
    fn from_query(query: &LoginQuery) -> Result<Self, LoginError> {
        let acr_values = match query.acr_values.as_deref() {
            None => None,
            Some(v)
                if v.len() > 1024
                    || !v.bytes().all(|b| {
                        b == b' ' || (b.is_ascii_graphic() && b != b'"' && b != b'\\')
                    }) =>
            {
                return Err(LoginError::request(
                    "`acr_values` is a space-separated list of printable values",
                ));
            }
            Some(v) => Some(v.split_ascii_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|v| !v.is_empty()),
        };
        let max_age = match query.max_age.as_deref() {
            None => None,
            Some(v) => match v.parse::<u64>() {
                Ok(secs) if secs <= oauth2_syntax::MAX_DURATION.as_secs() => Some(secs),
                _ => {
                    return Err(LoginError::request(
                        "`max_age` is a number of seconds, at most a year",
                    ));
                }
            },
        };
        let prompt_login = match query.prompt.as_deref() {
            None => false,
            Some("login") => true,
            Some(_) => {
                return Err(LoginError::request(
                    "a login request may only ask for `prompt=login`",
                ));
            }
        };
        Ok(Self {
            acr_values,
            max_age,
            prompt_login,
        })
    }

    /// The authorization request's extra parameters: the provider's configured ones,
    /// with this request's in place of theirs (`login` joins a configured `prompt`).
    fn params<'a>(&'a self, configured: &'a [(String, String)]) -> Vec<(&'a str, String)> {
        let mut params: Vec<(&str, String)> = Vec::with_capacity(configured.len() + 3);
        let mut prompt = self.prompt_login.then(|| "login".to_owned());
        for (k, v) in configured {
            match k.as_str() {
                "acr_values" if self.acr_values.is_some() => {}
                "max_age" if self.max_age.is_some() => {}
                // `none` forbids the login that `login` asks for.
                "prompt" if self.prompt_login => {
                    let others = v
                        .split_ascii_whitespace()
                        .filter(|p| !matches!(*p, "login" | "none"));
                    prompt = Some(
                        std::iter::once("login")
                            .chain(others)
                            .collect::<Vec<_>>()
                            .join(" "),
                    );
                }
                _ => params.push((k.as_str(), v.clone())),
            }
        }
        if let Some(acr_values) = &self.acr_values {
            params.push(("acr_values", acr_values.clone()));
        }
        if let Some(max_age) = self.max_age {
            params.push(("max_age", max_age.to_string()));
        }
        if let Some(prompt) = prompt {
            params.push(("prompt", prompt));
        }
        params
    }
}

/// Logins of one provider that may wait at once in one browser.
const MAX_WAITING_LOGINS: usize = 4;

/// The names of the transaction cookies a request carries.
fn waiting_transactions(headers: &HeaderMap) -> Vec<String> {
    crate::http::cookies(headers)
        .map(|(name, _)| name)
        .filter(|n| n.starts_with("oauth2_tx_"))
        .map(str::to_owned)
        .collect()
}

/// A browser's login: 303 to the provider's authorization endpoint (or, with PAR, to
/// its `request_uri`) with `state`, `nonce`, PKCE and any step-up the query asks for;
/// the transaction waits in its own encrypted cookie.
pub(crate) async fn start(
    login: &Login,
    provider: &str,
    query: &LoginQuery,
    headers: &HeaderMap,
) -> Result<Response, LoginError> {
    let p = login.find(provider)?;
    let endpoints = p
        .endpoints(&login.inner.upstream.registry)
        .await
        .map_err(|e| LoginError::unavailable(e.to_string()))?;
    let return_to = query
        .return_to
        .as_deref()
        .and_then(|r| login.safe_return_to(r));
    let step_up = StepUpRequest::from_query(query)?;
    let mut tx =
        Transaction::new(provider, return_to).map_err(|e| LoginError::server(e.to_string()))?;
    tx.acr_values.clone_from(&step_up.acr_values);
    tx.max_age = step_up.max_age;
    let owned = step_up.params(&p.inner.params);
    let mut params: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The code exchange will carry a proof of the login's DPoP key: bind the code to
    // that key too (RFC 9449 §10), so that a stolen code is useless without it.
    if let Some(key) = p.inner.dpop.as_deref().filter(|_| endpoints.dpop) {
        params.retain(|(k, _)| *k != "dpop_jkt");
        params.push(("dpop_jkt", key.jkt()));
    }
    let redirect_uri = login.redirect_uri(provider);
    let url = AuthorizationRequest {
        endpoint: endpoints.authorization.as_str(),
        client_id: &p.inner.client_id,
        redirect_uri: &redirect_uri,
        scope: &p.inner.scope,
        extra: &params,
    }
    .url(&tx)
    .map_err(|e| LoginError::server(e.to_string()))?;
    let url = match p.inner.par.endpoint(endpoints)? {
        Some(par) => super::par::push(&login.inner.upstream.http, p, endpoints, par, &url).await?,
        None => url,
    };
    let mut cookies = login
        .transaction_cookie(provider, &tx.state)
        .seal(&tx, TRANSACTION_TTL)
        .map_err(|e| LoginError::server(e.to_string()))?;
    // Abandoned logins leave cookies until they expire; past a few, drop the older ones
    // so that the browser's Cookie header stays small.
    let waiting = waiting_transactions(headers);
    if waiting.len() >= MAX_WAITING_LOGINS {
        for name in waiting {
            let mut removal = login.transaction_cookie(provider, "").clear_named(name);
            removal.make_removal();
            cookies.push(removal);
        }
    }
    Ok(see_other(url.as_str(), cookies))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn query(acr_values: Option<&str>, max_age: Option<&str>, prompt: Option<&str>) -> LoginQuery {
        LoginQuery {
            return_to: None,
            redirect_uri: None,
            code_challenge: None,
            code_challenge_method: None,
            state: None,
            nonce: None,
            acr_values: acr_values.map(str::to_owned),
            max_age: max_age.map(str::to_owned),
            prompt: prompt.map(str::to_owned),
        }
    }

    #[test]
    fn step_up_parameters_are_checked() {
        let ok = StepUpRequest::from_query(&query(Some(" mfa  hwk "), Some("300"), Some("login")));
        assert_eq!(
            ok.unwrap(),
            StepUpRequest {
                acr_values: Some("mfa hwk".into()),
                max_age: Some(300),
                prompt_login: true
            }
        );
        assert_eq!(
            StepUpRequest::from_query(&query(None, None, None)).unwrap(),
            StepUpRequest::default()
        );
        for bad in [
            query(Some("a\"b"), None, None),
            query(Some("caf\u{e9}"), None, None),
            query(None, Some("-1"), None),
            query(None, Some("5m"), None),
            query(None, Some("99999999999"), None),
            query(None, None, Some("none")),
            query(None, None, Some("consent")),
        ] {
            let e = StepUpRequest::from_query(&bad).unwrap_err();
            assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        }
    }

    #[test]
    fn step_up_parameters_replace_the_configured_ones() {
        let configured = [
            ("prompt".to_owned(), "none consent".to_owned()),
            ("acr_values".to_owned(), "pwd".to_owned()),
            ("audience".to_owned(), "api".to_owned()),
        ];
        let step_up = StepUpRequest {
            acr_values: Some("mfa".into()),
            max_age: Some(60),
            prompt_login: true,
        };
        let params = step_up.params(&configured);
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("audience", "api"),
                ("acr_values", "mfa"),
                ("max_age", "60"),
                ("prompt", "login consent")
            ]
        );
        // Nothing asked: the configured parameters as they are.
        let nothing = StepUpRequest::default();
        let plain = nothing.params(&configured);
        assert_eq!(plain.len(), 3);
        assert_eq!(plain[0], ("prompt", "none consent".to_owned()));
    }
}
