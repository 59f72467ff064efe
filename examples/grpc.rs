//! `cargo run --example grpc`: a gRPC service (the standard health service, served by
//! tonic) behind the authenticator, on 127.0.0.1 (`OAUTH2_BIND` moves it), with the
//! embedded dev issuer. It calls itself three times, as a client would (no token, a token
//! without the scope, a good token), prints what each call got, and keeps serving: the
//! printed `grpcurl` command calls it with a fresh token.

use std::error::Error;

use oauth2::Authenticator;
use oauth2::dev::DevIssuer;
use tonic::transport::{Channel, Server};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

fn bind() -> String {
    std::env::var("OAUTH2_BIND").unwrap_or_else(|_| "127.0.0.1:50051".into())
}

fn check(token: Option<&str>) -> tonic::Request<HealthCheckRequest> {
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().expect("a header value");
        request.metadata_mut().insert("authorization", value);
    }
    request
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let idp = DevIssuer::start().await?;
    let auth = Authenticator::builder()
        .provider(idp.provider("dev"))
        .build()?;
    auth.ready().await;

    let (_reporter, health) = tonic_health::server::health_reporter();
    let addr = bind();
    let server = Server::builder()
        .layer(auth.grpc_layer().require_scopes(["health:read"]))
        .add_service(health)
        .serve(addr.parse()?);
    let serving = tokio::spawn(server);

    let channel = Channel::from_shared(format!("http://{addr}"))?;
    let mut client = loop {
        match channel.connect().await {
            Ok(channel) => break HealthClient::new(channel),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    };
    let narrow = idp.token().scope("orders:read").sign();
    let good = idp.token().scope("health:read").sign();
    for (what, token) in [
        ("no token", None),
        ("a token without health:read", Some(narrow.as_str())),
        ("a token with health:read", Some(good.as_str())),
    ] {
        match client.check(check(token)).await {
            Ok(answer) => println!("{what}: OK, {:?}", answer.into_inner().status()),
            Err(status) => println!("{what}: {:?}: {}", status.code(), status.message()),
        }
    }
    println!(
        "\nserving on {addr}; try:\n  grpcurl -plaintext -H 'authorization: Bearer {good}' {addr} grpc.health.v1.Health/Check"
    );
    serving.await??;
    Ok(())
}
