//! Pushed authorization requests (RFC 9126): the login sends its authorization request
//! to the provider over the back channel, with client authentication, and the browser
//! goes to the provider with only the `request_uri` it got back. The request's
//! parameters (`state`, `nonce`, the PKCE challenge, `redirect_uri`, scopes, step-up)
//! then never pass through the browser, cannot be altered there, and the provider knows
//! the client asked for them.

use axum::http::StatusCode;
use serde::Deserialize;
use url::Url;

use crate::login::provider::Endpoints;
use crate::login::tokens::{Answer, post_form, printable};
use crate::login::{LoginError, LoginProvider, PushedAuthorization};

impl PushedAuthorization {
    /// The endpoint to push to, if this login pushes; an error when this setting and the
    /// provider's metadata cannot both be met.
    pub(crate) fn endpoint(self, endpoints: &Endpoints) -> Result<Option<&Url>, LoginError> {
        match (self, &endpoints.par) {
            (Self::Never, _) if endpoints.par_required => Err(LoginError::server(
                "the provider accepts only pushed authorization requests \
                 (require_pushed_authorization_requests), but this login turns them off",
            )),
            (Self::Never, _) => Ok(None),
            (Self::Required, None) => Err(LoginError::server(
                "pushed authorization requests are required, but the provider's metadata has \
                 no pushed_authorization_request_endpoint",
            )),
            (Self::Auto | Self::Required, par) => Ok(par.as_ref()),
        }
    }
}

/// The provider's answer (RFC 9126 §2.2); its `expires_in` is the provider's to
/// enforce.
#[derive(Deserialize)]
struct Pushed {
    request_uri: String,
}

/// Pushes the parameters of `authorize` (an authorization request URL built for
/// `endpoints.authorization`) to `par` with the client's authentication; returns the
/// URL to send the browser to: the authorization endpoint with `client_id` and the
/// `request_uri` only.
pub(crate) async fn push(
    http: &reqwest::Client,
    p: &LoginProvider,
    endpoints: &Endpoints,
    par: &Url,
    authorize: &Url,
) -> Result<Url, LoginError> {
    // The parameters the request added; the endpoint's own query stays on the URL.
    let own = endpoints.authorization.query_pairs().count();
    let pairs: Vec<(String, String)> = authorize.query_pairs().into_owned().skip(own).collect();
    let form: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let bytes = match post_form(http, p, endpoints.client_auth, par, &form, None).await? {
        Answer::Ok(bytes) => bytes,
        Answer::Refused(e) => {
            return Err(LoginError::new(
                StatusCode::BAD_GATEWAY,
                "pushed_authorization_failed",
                match e.error_description {
                    Some(d) => format!(
                        "the provider refused the pushed authorization request: {}: {}",
                        printable(&e.error),
                        printable(&d)
                    ),
                    None => format!(
                        "the provider refused the pushed authorization request: {}",
                        printable(&e.error)
                    ),
                },
            ));
        }
    };
    let pushed: Pushed = serde_json::from_slice(&bytes)
        .ok()
        .filter(|p: &Pushed| !p.request_uri.is_empty())
        .ok_or_else(|| {
            LoginError::new(
                StatusCode::BAD_GATEWAY,
                "pushed_authorization_failed",
                "the provider's pushed authorization response has no request_uri",
            )
        })?;
    let mut url = endpoints.authorization.clone();
    url.query_pairs_mut()
        .append_pair("client_id", &p.inner.client_id)
        .append_pair("request_uri", &pushed.request_uri);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::login::ClientAuth;

    fn endpoints(par: Option<&str>, required: bool) -> Endpoints {
        let url = |u: &str| Url::parse(u).unwrap();
        Endpoints {
            authorization: url("https://op.example/authorize"),
            token: url("https://op.example/token"),
            userinfo: None,
            end_session: None,
            device: None,
            revocation: None,
            par: par.map(url),
            par_required: required,
            client_auth: ClientAuth::SecretBasic,
            dpop: false,
            iss_required: false,
        }
    }

    #[test]
    fn the_macro_knows_every_mode() {
        use PushedAuthorization::*;
        let modes = [Auto, Required, Never];
        for mode in modes {
            // Breaks when a variant is added without its `providers!` name.
            match mode {
                Auto | Required | Never => {}
            }
        }
        let variants: Vec<String> = modes.iter().map(|m| format!("{m:?}")).collect();
        let names: Vec<&str> = oauth2_syntax::PUSHED_AUTHORIZATION_MODES
            .values
            .iter()
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(variants, names);
    }

    #[test]
    fn the_setting_and_the_metadata_decide_together() {
        use PushedAuthorization::*;
        let advertised = endpoints(Some("https://op.example/par"), false);
        let absent = endpoints(None, false);
        let required = endpoints(Some("https://op.example/par"), true);
        let url = |r: Result<Option<&Url>, LoginError>| r.unwrap().map(Url::to_string);
        assert_eq!(
            url(Auto.endpoint(&advertised)).as_deref(),
            Some("https://op.example/par")
        );
        assert_eq!(url(Auto.endpoint(&absent)), None);
        assert_eq!(url(Never.endpoint(&advertised)), None);
        assert_eq!(
            url(Required.endpoint(&required)).as_deref(),
            Some("https://op.example/par")
        );
        let e = Required.endpoint(&absent).unwrap_err();
        assert!(
            e.description()
                .contains("no pushed_authorization_request_endpoint"),
            "{e}"
        );
        let e = Never.endpoint(&required).unwrap_err();
        assert!(
            e.description()
                .contains("require_pushed_authorization_requests"),
            "{e}"
        );
    }
}
