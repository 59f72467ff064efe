//! OpenAPI (feature `utoipa`): the security schemes come from `providers!`, each
//! `#[protect]` path's requirement from its guard; the `openapi` example's document
//! validates as OpenAPI 3.1 (the specification's JSON Schema, through npm
//! `@seriousme/openapi-schema-validator`), and Swagger UI's "Authorize" signs in at the
//! dev issuer in a real headless Chromium.

use std::process::Stdio;

use axum::body::Body;
use axum::http::Request;
use axum::routing::get;

use oauth2::dev::DevIssuer;
use oauth2::openapi::SESSION_SCHEME;
use oauth2::{FromClaims, Scopes, protect, providers};
use oauth2_tests::op::{ensure_installed, interop_dir, run_browser_script};
use oauth2_tests::{client, example, free_addr, get_json, services, wait_until_up};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tower::ServiceExt;
use utoipa::OpenApi;

const SESSION_SECRET: &str = "the OpenAPI test's session secret, 32+ bytes";

providers! {
    base_url: "https://app.corp.example",
    session_secret: SESSION_SECRET,
    session_cookie: "corp_session",
    // Bearer only, keys by discovery: an `openIdConnect` scheme.
    corp {
        issuer: "https://login.corp.example",
        audience: "api://corp",
    }
    // Bearer only, keys from a JWKS URL: an `http` bearer JWT scheme.
    partner {
        issuer: "https://partner.example",
        audience: "partner-api",
        jwks_url: "https://partner.example/keys.json",
    }
    // Browser login only: an `oauth2` authorization-code scheme.
    web {
        issuer: "https://accounts.example",
        client_id: "corp-web",
        scopes: ["openid", "email"],
    }
}

#[derive(FromClaims)]
struct User {
    sub: String,
    #[claim(scopes)]
    scopes: Scopes,
}

/// Either provider, with a scope.
#[protect(provider = any("corp", "partner"), claims = User, scopes = ["orders:read"])]
#[utoipa::path(get, path = "/orders", responses((status = 200, description = "Orders")))]
async fn orders(user: User) -> String {
    format!("{} {}", user.sub, user.scopes.iter().count())
}

/// A token is optional.
#[protect(provider = "corp", claims = User, optional)]
#[utoipa::path(get, path = "/catalog", responses((status = 200, description = "Catalog")))]
async fn catalog(user: Option<User>) -> String {
    user.map(|u| u.sub).unwrap_or_default()
}

/// The requirement stated by hand, in another order and with the scopes reordered: it
/// agrees with the guard, so it compiles and stays as written.
#[protect(provider = "corp", claims = User, scopes = ["a", "b"], optional)]
#[utoipa::path(
    post,
    path = "/stated",
    security((), ("corp" = ["b", "a"])),
    responses((status = 200, description = "Stated"))
)]
async fn stated(user: Option<User>) -> String {
    user.map(|u| u.sub).unwrap_or_default()
}

/// A session route, with a scope.
#[protect(session, provider = "web", claims = User, scopes = ["email"])]
#[utoipa::path(get, path = "/profile", responses((status = 200, description = "Profile")))]
async fn profile(user: User) -> String {
    user.sub
}

/// A path with a requirement no provider declares (no `#[protect]` checks it).
#[utoipa::path(
    get,
    path = "/legacy",
    security(("api_key" = [])),
    responses((status = 200, description = "Legacy"))
)]
async fn legacy() {}

#[derive(OpenApi)]
#[openapi(paths(orders, catalog, stated, profile, legacy))]
struct ApiDoc;

/// The providers, with `web`'s discovery at an in-process dev issuer.
fn providers_at(idp: &DevIssuer) -> Providers {
    Providers::build(
        Providers::builder().unwrap(),
        Providers::login_builder()
            .unwrap()
            .map_provider("web", |p| p.retarget(idp)),
    )
    .unwrap()
}

/// The test's document with `schemes`, and its JSON.
fn document_with(schemes: &oauth2::openapi::SecuritySchemes) -> (utoipa::openapi::OpenApi, Value) {
    let mut doc = ApiDoc::openapi();
    schemes.apply(&mut doc);
    let json = serde_json::to_value(&doc).unwrap();
    (doc, json)
}

fn security_of(doc: &Value, method: &str, path: &str) -> Value {
    doc["paths"][path][method]["security"].clone()
}

#[tokio::test]
async fn schemes_come_from_providers_and_requirements_from_protect() {
    let idp = DevIssuer::start().await.unwrap();
    let providers = providers_at(&idp);
    let schemes = providers.openapi().await.unwrap();
    assert_eq!(
        schemes.names().collect::<Vec<_>>(),
        ["corp", "partner", SESSION_SCHEME, "web"]
    );
    let (doc, json) = document_with(&schemes);
    let defined = &json["components"]["securitySchemes"];
    assert_eq!(
        defined["corp"],
        json!({
            "type": "openIdConnect",
            "openIdConnectUrl": "https://login.corp.example/.well-known/openid-configuration",
            "description": "A JWT from https://login.corp.example (audience api://corp).",
        })
    );
    assert_eq!(defined["partner"]["type"], "http");
    assert_eq!(defined["partner"]["scheme"], "bearer");
    assert_eq!(defined["partner"]["bearerFormat"], "JWT");
    let web = &defined["web"];
    assert_eq!(web["type"], "oauth2");
    let flow = &web["flows"]["authorizationCode"];
    assert_eq!(flow["authorizationUrl"], idp.authorize_url());
    assert_eq!(flow["tokenUrl"], idp.token_url());
    let scopes: Vec<&String> = flow["scopes"].as_object().unwrap().keys().collect();
    assert_eq!(scopes, ["email", "openid"]);
    assert_eq!(
        defined[SESSION_SCHEME],
        json!({
            "type": "apiKey",
            "in": "cookie",
            "name": "corp_session",
            "description": "The login session cookie, set by logging in at /auth/web/login.",
        })
    );

    assert_eq!(
        security_of(&json, "get", "/orders"),
        json!([{"corp": ["orders:read"]}, {"partner": ["orders:read"]}])
    );
    assert_eq!(
        security_of(&json, "get", "/catalog"),
        json!([{}, {"corp": []}])
    );
    assert_eq!(
        security_of(&json, "post", "/stated"),
        json!([{}, {"corp": ["b", "a"]}]),
        "a stated requirement that agrees is kept as written"
    );
    assert_eq!(
        security_of(&json, "get", "/profile"),
        json!([{SESSION_SCHEME: ["email"]}])
    );
    // A requirement that names no declared scheme is found.
    assert_eq!(schemes.undeclared(&doc), ["GET /legacy: api_key"]);

    // The documented handlers are the served ones: without a token, the guarded ones
    // refuse and the optional one answers.
    let app = axum::Router::new()
        .route("/orders", get(orders))
        .route("/catalog", get(catalog))
        .route("/stated", axum::routing::post(stated))
        .route("/profile", get(profile))
        .route("/legacy", get(legacy))
        .layer(providers.layer());
    for (method, path, status) in [
        ("GET", "/orders", 400),
        ("GET", "/catalog", 200),
        ("POST", "/stated", 200),
        ("GET", "/profile", 401),
        ("GET", "/legacy", 200),
    ] {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty());
        let response = app.clone().oneshot(request.unwrap()).await.unwrap();
        assert_eq!(response.status(), status, "{method} {path}");
    }
}

/// The example's document, as `/openapi.json` serves it, and its validation.
/// A multi-tenant issuer has no one discovery document: an `http` bearer scheme that
/// names its template and tenants. DPoP and introspection are said in the description,
/// as OpenAPI has no scheme for them.
#[tokio::test]
async fn tenant_templates_dpop_and_opaque_tokens_are_described() {
    use oauth2::config::Dpop;
    use oauth2::{Authenticator, Provider};
    let auth = Authenticator::builder()
        .provider(
            Provider::builder("entra")
                .issuer("https://login.microsoftonline.com/{tenantid}/v2.0")
                .tenants(["contoso", "fabrikam"])
                .audience("api://orders")
                .dpop(Dpop::Allowed),
        )
        .provider(
            Provider::builder("bank")
                .issuer("https://bank.example")
                .audience("payments")
                .introspection_client_id("payments-rs")
                .introspection_client_secret("payments-rs-secret")
                .dpop(Dpop::Required),
        )
        .build()
        .unwrap();
    let schemes = oauth2::openapi::SecuritySchemes::new().bearer(&auth);
    let (_, json) = document_with(&schemes);
    let defined = &json["components"]["securitySchemes"];
    assert_eq!(
        defined["entra"],
        json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A JWT from https://login.microsoftonline.com/{tenantid}/v2.0 for \
                the tenants contoso, fabrikam (audience api://orders). A DPoP-bound token \
                (RFC 9449) is sent as `Authorization: DPoP` with a `DPoP` proof of its key.",
        })
    );
    assert_eq!(defined["bank"]["type"], "openIdConnect");
    assert_eq!(
        defined["bank"]["description"],
        "A JWT or an opaque token (introspected) from https://bank.example (audience \
         payments). Only DPoP-bound tokens (RFC 9449), sent as `Authorization: DPoP` with a \
         `DPoP` proof of their key: a plain bearer header is refused."
    );
}

#[tokio::test]
async fn the_example_document_validates_as_openapi_3_1_and_its_discovery_url_answers() {
    ensure_installed();
    let bind = free_addr();
    let issuer_bind = free_addr();
    let base = format!("http://{bind}");
    let mut app = Command::new(example("openapi"))
        .env("OAUTH2_BIND", &bind)
        .env("DEV_ISSUER_BIND", &issuer_bind)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the openapi example");
    wait_until_up(&mut app, &base).await;
    let doc = get_json(&format!("{base}/openapi.json")).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        security_of(&doc, "get", "/items"),
        json!([{"dev": ["items:read"]}])
    );
    assert_eq!(security_of(&doc, "get", "/me"), json!([{"dev": []}]));
    assert_eq!(
        security_of(&doc, "get", "/profile"),
        json!([{SESSION_SCHEME: []}])
    );
    assert!(doc["paths"]["/health"]["get"].get("security").is_none());
    let dev = &doc["components"]["securitySchemes"]["dev"];
    assert_eq!(dev["type"], "openIdConnect");
    // The discovery URL answers, to a browser on another origin too.
    let discovery = client()
        .get(dev["openIdConnectUrl"].as_str().unwrap())
        .header("origin", &base)
        .send()
        .await
        .unwrap();
    assert_eq!(discovery.status(), 200);
    assert_eq!(discovery.headers()["access-control-allow-origin"], "*");
    let metadata: Value = discovery.json().await.unwrap();
    assert_eq!(metadata["issuer"], format!("http://{issuer_bind}"));

    let verdict = validate(&doc).await;
    assert_eq!(verdict["version"], "3.1");
    assert_eq!(verdict["valid"], true, "{verdict}");
    // The validator does refuse a broken document: a scheme without its URL.
    let mut broken = doc.clone();
    broken["components"]["securitySchemes"]["dev"]
        .as_object_mut()
        .unwrap()
        .remove("openIdConnectUrl");
    let verdict = validate(&broken).await;
    assert_eq!(verdict["valid"], false, "{verdict}");
    assert!(
        verdict.to_string().contains("openIdConnectUrl"),
        "{verdict}"
    );
}

async fn validate(doc: &Value) -> Value {
    let mut node = Command::new("node")
        .arg("validate-openapi.mjs")
        .current_dir(interop_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run node validate-openapi.mjs");
    let mut stdin = node.stdin.take().unwrap();
    stdin.write_all(doc.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    let out = node.wait_with_output().await.unwrap();
    assert!(out.status.success(), "the validator failed to run");
    serde_json::from_slice(&out.stdout).expect("the validator prints JSON")
}

/// Swagger UI as a user clicks it: a call without a token is refused; "Authorize" on the
/// `dev` scheme runs the authorization-code flow with PKCE in a popup at the dev issuer;
/// then "Try it out" sends the token and the calls succeed.
#[tokio::test]
async fn swagger_ui_authorize_signs_in_at_the_dev_issuer_and_try_it_out_sends_the_token() {
    let Some(chromium) = services::chromium(
        "swagger_ui_authorize_signs_in_at_the_dev_issuer_and_try_it_out_sends_the_token",
    ) else {
        return;
    };
    ensure_installed();
    let bind = free_addr();
    let base = format!("http://{bind}");
    let mut app = Command::new(example("openapi"))
        .env("OAUTH2_BIND", &bind)
        .env("DEV_ISSUER_BIND", free_addr())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the openapi example");
    wait_until_up(&mut app, &base).await;
    let steps = run_browser_script("swagger.mjs", &base, chromium).await;
    let step = |name: &str| steps.step(name);
    assert!(
        step("loaded")["title"]
            .as_str()
            .unwrap()
            .contains("OAS 3.1")
    );
    let refused = step("without_token");
    assert!(refused["code"].as_str().unwrap().starts_with("400"));
    assert!(
        refused["body"]
            .as_str()
            .unwrap()
            .contains("no bearer token")
    );
    let schemes = step("schemes")["schemes"].to_string();
    assert!(
        schemes.contains("dev (OAuth2, authorization_code with PKCE)"),
        "{schemes}"
    );
    assert!(schemes.contains("session (apiKey)"), "{schemes}");
    let authorized = step("authorized");
    assert!(
        authorized["text"].as_str().unwrap().contains("Authorized"),
        "{authorized}"
    );
    // The popup ran the authorization-code flow with PKCE at the dev issuer, then
    // Swagger UI redeemed the code at its token endpoint.
    let flow = authorized["flow"].as_array().unwrap();
    let authorize = &flow[0];
    assert_eq!(authorize["path"], "/authorize", "{authorized}");
    assert_eq!(authorize["query"]["client_id"], "swagger-ui");
    assert_eq!(authorize["query"]["code_challenge_method"], "S256");
    assert!(
        flow.iter()
            .any(|r| r["method"] == "POST" && r["path"] == "/token"),
        "{authorized}"
    );
    let items = step("items_with_token");
    assert_eq!(items["code"], "200", "{items}");
    let body: Value = serde_json::from_str(items["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["owner"], "dev-user");
    let me = step("me_with_token");
    assert_eq!(me["code"], "200", "{me}");
    let body: Value = serde_json::from_str(me["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["scopes"], json!(["openid", "items:read"]));
    assert!(steps.succeeded(), "{}", steps.output());
}
