//! WebSocket upgrades: token from the query or the subprotocol; rejection closes 1008.

use axum::Router;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use oauth2::Authenticator;
use oauth2::dev::DevIssuer;
use oauth2_tests::serve;
use tokio_tungstenite::tungstenite::Message as Msg;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

async fn echo(ws: WebSocketUpgrade) -> axum::response::Response {
    ws.protocols(["access_token"])
        .on_upgrade(|mut socket| async move {
            while let Some(Ok(Message::Text(t))) = socket.recv().await {
                if socket.send(Message::Text(t)).await.is_err() {
                    break;
                }
            }
        })
}

async fn start() -> (DevIssuer, String) {
    start_with(|b| b).await
}

async fn start_with(
    configure: impl FnOnce(oauth2::AuthenticatorBuilder) -> oauth2::AuthenticatorBuilder,
) -> (DevIssuer, String) {
    let idp = DevIssuer::start().await.unwrap();
    let auth = configure(Authenticator::builder().provider(idp.provider("dev")))
        .build()
        .unwrap();
    auth.ready().await;
    let url = serve(Router::new().route("/ws", get(echo)).layer(auth.layer())).await;
    (idp, url.replacen("http://", "ws://", 1))
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn assert_echoes(mut ws: Ws) {
    ws.send(Msg::text("ping")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Msg::text("ping"));
}

/// The close frame the server sends first.
async fn close_frame(mut ws: Ws) -> (CloseCode, String) {
    match ws.next().await.unwrap().unwrap() {
        Msg::Close(Some(frame)) => (frame.code, frame.reason.to_string()),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn token_in_the_subprotocol_or_when_allowed_the_query_opens_the_socket() {
    // The query parameter ends up in access logs: refused, and told why, by default.
    let (idp, url) = start().await;
    let token = idp.token().sign();
    let (ws, _) = tokio_tungstenite::connect_async(format!("{url}/ws?access_token={token}"))
        .await
        .unwrap();
    let (code, reason) = close_frame(ws).await;
    assert_eq!(code, CloseCode::Policy);
    assert!(reason.contains("query parameter"), "{reason}");

    let (idp, url) = start_with(|b| b.allow_websocket_query_token()).await;
    let token = idp.token().sign();
    let (ws, _) = tokio_tungstenite::connect_async(format!("{url}/ws?access_token={token}"))
        .await
        .unwrap();
    assert_echoes(ws).await;

    let mut request = format!("{url}/ws").into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("access_token, {token}").parse().unwrap(),
    );
    let (ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "access_token");
    assert_echoes(ws).await;
}

#[tokio::test]
async fn missing_or_bad_token_is_accepted_then_closed_with_1008() {
    let (idp, url) = start_with(|b| b.allow_websocket_query_token()).await;
    let (ws, response) = tokio_tungstenite::connect_async(format!("{url}/ws"))
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    let (code, reason) = close_frame(ws).await;
    assert_eq!(code, CloseCode::Policy);
    assert!(reason.starts_with("no bearer token"), "{reason}");

    let expired = idp.token().expires_in(-3600).sign();
    let (ws, _) = tokio_tungstenite::connect_async(format!("{url}/ws?access_token={expired}"))
        .await
        .unwrap();
    let (code, reason) = close_frame(ws).await;
    assert_eq!(code, CloseCode::Policy);
    assert_eq!(reason, "token has expired");

    // A client that offered the token subprotocol gets it selected, so browsers accept
    // the handshake and see the close reason.
    let mut request = format!("{url}/ws").into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "access_token, not.a.jwt".parse().unwrap(),
    );
    let (ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "access_token");
    let (code, _) = close_frame(ws).await;
    assert_eq!(code, CloseCode::Policy);
}
