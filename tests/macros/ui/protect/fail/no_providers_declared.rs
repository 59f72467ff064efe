// `#[protect]` before (or without) `providers!`.
use oauth2::protect;

#[protect(provider = "google")]
async fn me() {}

fn main() {}
