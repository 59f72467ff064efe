//! A scripted browser for login flows: an HTTP client with a cookie jar that follows
//! redirects one by one and fills in the interop provider's login and consent pages.

use std::sync::Arc;
use std::time::Duration;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Response, StatusCode};
use url::Url;

/// A client with its own cookie jar; does not follow redirects by itself. A clone is
/// the same browser (another tab: the same jar).
#[derive(Clone)]
pub struct Browser {
    /// The client, sending the jar's cookies.
    pub client: reqwest::Client,
    /// The cookie jar.
    pub jar: Arc<Jar>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

/// The absolute URL of a response's `Location`.
pub fn location(response: &Response) -> String {
    let location = response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("{} has no Location", response.url()))
        .to_str()
        .unwrap();
    response.url().join(location).unwrap().to_string()
}

impl Browser {
    /// A browser with an empty jar.
    pub fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(Arc::clone(&jar))
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Self { client, jar }
    }

    /// GET `url`.
    pub async fn get(&self, url: &str) -> Response {
        self.client.get(url).send().await.unwrap()
    }

    /// POST `url` as a browser submits a form of the same site (`Origin`,
    /// `Sec-Fetch-Site: same-origin`).
    pub async fn post_form(&self, url: &str) -> Response {
        let origin = url::Url::parse(url).unwrap().origin().ascii_serialization();
        self.client
            .post(url)
            .header("origin", origin)
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .unwrap()
    }

    /// GET `url` as a browser's navigation (`Accept: text/html`).
    pub async fn navigate(&self, url: &str) -> Response {
        self.client
            .get(url)
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .send()
            .await
            .unwrap()
    }

    /// The `Cookie` header the jar sends to `url`.
    pub fn cookies(&self, url: &str) -> String {
        self.jar
            .cookies(&Url::parse(url).unwrap())
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    /// Follows a login from the app's redirect to the provider until the provider sends
    /// the browser back to `app`: signs in as `user` and allows access on the way.
    /// Returns the callback URL, not yet fetched.
    pub async fn authorize(&self, to_provider: &str, app: &str, user: &str) -> String {
        self.through_provider(to_provider, app, Some(user), "")
            .await
    }

    /// Like [`authorize`](Self::authorize), with a one-time code on the login page: the
    /// provider then authenticates with acr `urn:example:loa:2` instead of `loa:1`.
    pub async fn authorize_with_otp(&self, to_provider: &str, app: &str, user: &str) -> String {
        self.through_provider(to_provider, app, Some(user), "123456")
            .await
    }

    /// Like [`authorize`](Self::authorize), but cancels on the login page.
    pub async fn cancel(&self, to_provider: &str, app: &str) -> String {
        self.through_provider(to_provider, app, None, "").await
    }

    async fn through_provider(
        &self,
        start: &str,
        app: &str,
        user: Option<&str>,
        otp: &str,
    ) -> String {
        let mut url = start.to_owned();
        for _ in 0..20 {
            if url.starts_with(app) {
                return url;
            }
            let response = self.get(&url).await;
            let status = response.status();
            if status.is_redirection() {
                url = location(&response);
                continue;
            }
            assert_eq!(status, StatusCode::OK, "{url}");
            let page = Url::parse(&url).unwrap();
            let html = response.text().await.unwrap();
            let form = |action: &str| page.join(&format!("{}/{action}", page.path())).unwrap();
            let request = match (html.contains("<h1>Sign in"), user) {
                (true, Some(user)) => self.client.post(form("login")).form(&[
                    ("login", user),
                    ("password", "any"),
                    ("otp", otp),
                ]),
                (true, None) => self.client.post(form("abort")),
                (false, _) if html.contains("<h1>Allow access") => {
                    self.client.post(form("confirm"))
                }
                _ => panic!("unexpected page at {url}: {html}"),
            };
            let response = request.send().await.unwrap();
            assert!(response.status().is_redirection(), "{}", response.status());
            url = location(&response);
        }
        panic!("the login did not come back to {app}");
    }

    /// The user side of a device login: opens `verification_uri_complete`, submits the
    /// code, then confirms it and signs in as `user` (or aborts on the confirmation page
    /// when `user` is `None`). Returns the last page's text.
    pub async fn approve_device(&self, verification: &str, user: Option<&str>) -> String {
        let field = |html: &str, name: &str| {
            let marker = format!("name=\"{name}\" value=\"");
            let start = html
                .find(&marker)
                .unwrap_or_else(|| panic!("no {name} in {html}"))
                + marker.len();
            html[start..].split('"').next().unwrap().to_owned()
        };
        let page = self.get(verification).await;
        assert_eq!(page.status(), StatusCode::OK);
        let action = page.url().clone();
        let html = page.text().await.unwrap();
        let code = Url::parse(verification)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "user_code")
            .map(|(_, v)| v.into_owned())
            .expect("user_code in verification_uri_complete");
        let confirm = self
            .client
            .post(action.clone())
            .form(&[
                ("xsrf", field(&html, "xsrf").as_str()),
                ("user_code", &code),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(confirm.status(), StatusCode::OK);
        let html = confirm.text().await.unwrap();
        let xsrf = field(&html, "xsrf");
        let mut form = vec![("xsrf", xsrf.as_str()), ("user_code", code.as_str())];
        form.push(match user {
            Some(_) => ("confirm", "yes"),
            None => ("abort", "yes"),
        });
        let response = self
            .client
            .post(action.clone())
            .form(&form)
            .send()
            .await
            .unwrap();
        let Some(user) = user else {
            return response.text().await.unwrap();
        };
        assert!(response.status().is_redirection(), "{}", response.status());
        // Sign-in and consent on the provider's pages, until its device pages answer.
        let device_pages = format!("{}://{}/device/", action.scheme(), action.authority());
        let mut url = location(&response);
        for _ in 0..5 {
            let next = self
                .through_provider(&url, &device_pages, Some(user), "")
                .await;
            let page = self.get(&next).await;
            if !page.status().is_redirection() {
                return page.text().await.unwrap();
            }
            url = location(&page);
        }
        panic!("the device login did not finish");
    }

    /// Confirms the provider's logout page at `end_session` (an RP-initiated logout
    /// URL); returns where the provider sends the browser afterwards.
    pub async fn confirm_logout(&self, end_session: &str) -> String {
        let response = self.get(end_session).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page = response.url().clone();
        let html = response.text().await.unwrap();
        let attr = |name: &str| {
            let start = html
                .find(name)
                .unwrap_or_else(|| panic!("no {name} in {html}"))
                + name.len();
            html[start..].split('"').next().unwrap().to_owned()
        };
        let action = page.join(&attr("action=\"")).unwrap();
        let xsrf = attr("name=\"xsrf\" value=\"");
        let response = self
            .client
            .post(action)
            .form(&[("xsrf", xsrf.as_str()), ("logout", "yes")])
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{}", response.status());
        location(&response)
    }
}
