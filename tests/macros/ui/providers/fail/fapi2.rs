// `fapi2: true` holds a login provider to the FAPI 2.0 Security Profile: what the
// profile forbids is a compile error at the key that breaks it.
mod secret {
    // A client secret is not enough: private_key_jwt needs a key.
    oauth2::providers! {
        base_url: env("APP_BASE_URL"),
        session_secret: env("SESSION_SECRET"),
        bank {
            issuer: "https://as.bank.example",
            client_id: "tpp",
            client_secret: env("BANK_SECRET"),
            dpop_key: env("BANK_DPOP_KEY"),
            fapi2: true,
        }
    }
}

mod method {
    oauth2::providers! {
        base_url: env("APP_BASE_URL"),
        session_secret: env("SESSION_SECRET"),
        bank {
            issuer: "https://as.bank.example",
            client_id: "tpp",
            client_key: env("BANK_CLIENT_KEY"),
            client_auth: client_secret_jwt,
            dpop_key: env("BANK_DPOP_KEY"),
            fapi2: true,
        }
    }
}

mod sender_constrained {
    // No DPoP key: the tokens would be bearer tokens.
    oauth2::providers! {
        base_url: env("APP_BASE_URL"),
        session_secret: env("SESSION_SECRET"),
        bank {
            issuer: "https://as.bank.example",
            client_id: "tpp",
            client_key: env("BANK_CLIENT_KEY"),
            fapi2: true,
        }
    }
}

mod audience {
    oauth2::providers! {
        base_url: env("APP_BASE_URL"),
        session_secret: env("SESSION_SECRET"),
        bank {
            issuer: "https://as.bank.example",
            client_id: "tpp",
            client_key: env("BANK_CLIENT_KEY"),
            assertion_audience: endpoint,
            dpop_key: env("BANK_DPOP_KEY"),
            fapi2: true,
        }
    }
}

mod turned_off {
    // `fapi2: false` asks nothing.
    oauth2::providers! {
        base_url: env("APP_BASE_URL"),
        session_secret: env("SESSION_SECRET"),
        bank {
            issuer: "https://as.bank.example",
            client_id: "tpp",
            client_secret: env("BANK_SECRET"),
            fapi2: false,
        }
    }
}

fn main() {}
