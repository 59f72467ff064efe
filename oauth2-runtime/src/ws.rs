//! Rejecting a WebSocket upgrade: accept it, then close with 1008 (policy violation).
//!
//! Browsers cannot read the status of a failed upgrade, so a close frame with a reason
//! is the only way to tell a client why. When the client offered the `access_token`
//! subprotocol, the answer selects it, as browsers require.

use axum::extract::FromRequestParts;
use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade, close_code};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::error::AuthError;
use crate::http::{WEBSOCKET_TOKEN_PROTOCOL, offers_token_protocol};

/// Close reasons are limited to 123 bytes (RFC 6455 §5.5).
const MAX_REASON: usize = 123;

pub(crate) async fn close_with_policy_violation(mut parts: Parts, error: AuthError) -> Response {
    let offered = offers_token_protocol(&parts.headers);
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        // Not upgradable (e.g. no connection to take over): answer over HTTP.
        Err(_) => return error.into_response(),
    };
    let upgrade = if offered {
        upgrade.protocols([WEBSOCKET_TOKEN_PROTOCOL])
    } else {
        upgrade
    };
    let mut reason = error.description().to_owned();
    if reason.len() > MAX_REASON {
        let mut cut = MAX_REASON;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
    }
    upgrade.on_upgrade(move |mut socket| async move {
        let frame = CloseFrame {
            code: close_code::POLICY,
            reason: reason.into(),
        };
        let _ = socket.send(Message::Close(Some(frame))).await;
    })
}
