//! The authenticator in front of a real tonic server over 127.0.0.1 (the standard gRPC
//! health service, so that no protobuf compiler is needed), called by a tonic client:
//! refusals are gRPC statuses with the RFC 6750 challenge in the metadata, and an
//! accepted call's claims are in its extensions.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use oauth2::dev::DevIssuer;
use oauth2::{Authenticated, Authenticator};
use tonic::Code;
use tonic::transport::{Channel, Server};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// A health server behind the authenticator (scope `health:read` required); its
/// address, and the subjects of the calls that reached it.
async fn server(auth: &Authenticator) -> (String, Arc<Mutex<Vec<String>>>) {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("orders", tonic_health::ServingStatus::Serving)
        .await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = {
        let seen = Arc::clone(&seen);
        tower::util::MapRequestLayer::new(move |request: axum::http::Request<tonic::body::Body>| {
            if let Some(auth) = request.extensions().get::<Authenticated>() {
                seen.lock()
                    .unwrap()
                    .push(auth.subject().unwrap_or("").to_owned());
            }
            request
        })
    };
    let layers = tower::ServiceBuilder::new()
        .layer(auth.grpc_layer().require_scopes(["health:read"]))
        .layer(record);
    let addr = oauth2_tests::free_addr();
    let serve = Server::builder()
        .layer(layers)
        .add_service(health)
        .serve(addr.parse().unwrap());
    tokio::spawn(async move { serve.await.unwrap() });
    (format!("http://{addr}"), seen)
}

async fn client(url: &str) -> HealthClient<Channel> {
    for _ in 0..100 {
        let channel = Channel::from_shared(url.to_owned()).unwrap();
        if let Ok(channel) = channel.connect().await {
            return HealthClient::new(channel);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the gRPC server did not start at {url}");
}

fn check(token: Option<&str>) -> tonic::Request<HealthCheckRequest> {
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: "orders".into(),
    });
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().unwrap();
        request.metadata_mut().insert("authorization", value);
    }
    request
}

#[tokio::test]
async fn grpc_calls_need_a_valid_token_with_the_scope() {
    let idp = DevIssuer::start().await.unwrap();
    let auth = Authenticator::builder()
        .provider(idp.provider("dev"))
        .build()
        .unwrap();
    auth.ready().await;
    let (url, seen) = server(&auth).await;
    let mut client = client(&url).await;

    let none = client.check(check(None)).await.unwrap_err();
    assert_eq!(none.code(), Code::Unauthenticated, "{none:?}");
    let challenge = none
        .metadata()
        .get("www-authenticate")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(challenge.starts_with("Bearer realm="), "{challenge}");

    let forged = format!("{}x", idp.token().scope("health:read").sign());
    let bad = client.check(check(Some(&forged))).await.unwrap_err();
    assert_eq!(bad.code(), Code::Unauthenticated);
    assert!(
        bad.metadata()
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    let narrow = idp.token().scope("orders:read").sign();
    let denied = client.check(check(Some(&narrow))).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert!(
        denied.message().contains("health:read"),
        "{}",
        denied.message()
    );

    let good = idp.token().subject("ops-bot").scope("health:read").sign();
    let answer = client.check(check(Some(&good))).await.unwrap().into_inner();
    assert_eq!(answer.status(), ServingStatus::Serving);
    assert_eq!(
        *seen.lock().unwrap(),
        ["ops-bot"],
        "only the accepted call reached the service, with its claims"
    );
}
