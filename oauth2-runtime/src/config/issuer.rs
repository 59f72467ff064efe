//! [`IssuerSetting`]: where a provider is, as both builders (bearer tokens, browser
//! login) take it: the issuer URL, the preset that knows the provider's habits, and
//! whether a test pointed it at a stand-in issuer.

use super::Preset;

/// A provider's issuer as configured, and how the preset completes it.
#[derive(Clone, Debug, Default)]
pub(crate) struct IssuerSetting {
    given: Option<String>,
    pub(crate) preset: Option<Preset>,
    /// A test pointed the provider at a stand-in issuer: the preset's rules about the
    /// real one (Auth0's trailing `/`, Google's other `iss`) do not hold for it.
    retargeted: bool,
}

impl IssuerSetting {
    /// The issuer the configuration gives.
    pub(crate) fn set(&mut self, url: String) {
        self.given = Some(url);
    }

    /// The same provider at a test's issuer.
    #[cfg(feature = "test-kit")]
    pub(crate) fn point_at(&mut self, url: &str) {
        self.given = Some(url.to_owned());
        self.retargeted = true;
    }

    /// The issuer as the configuration gives it.
    #[cfg_attr(
        not(any(feature = "login", feature = "test-kit")),
        allow(dead_code, reason = "read by the login builder and the test kit")
    )]
    pub(crate) fn given(&self) -> Option<&str> {
        self.given.as_deref()
    }

    /// The issuer: the configured one, else the preset's, written as the provider
    /// writes it in `iss` (Auth0's ends with `/`).
    pub(crate) fn resolved(&self) -> Option<String> {
        let info = self.preset.map(Preset::info);
        let issuer = match &self.given {
            Some(given) => given.clone(),
            None => info?.issuer?.to_owned(),
        };
        Some(match info {
            Some(info) if !self.retargeted => info.issuer_as_written(&issuer),
            _ => issuer,
        })
    }

    /// Another `iss` the provider writes for this issuer (Google's bare host).
    pub(crate) fn alias(&self) -> Option<&'static str> {
        let info = self.preset?.info();
        let the_presets = !self.retargeted && self.resolved().as_deref() == info.issuer;
        info.issuer_alias.filter(|_| the_presets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(preset: Preset, given: Option<&str>) -> IssuerSetting {
        IssuerSetting {
            given: given.map(str::to_owned),
            preset: Some(preset),
            retargeted: false,
        }
    }

    #[test]
    fn the_preset_completes_the_issuer_unless_a_test_retargeted_it() {
        let google = with(Preset::Google, None);
        assert_eq!(
            google.resolved().as_deref(),
            Some("https://accounts.google.com")
        );
        assert_eq!(google.alias(), Some("accounts.google.com"));
        let auth0 = with(Preset::Auth0, Some("https://t.auth0.com"));
        assert_eq!(auth0.resolved().as_deref(), Some("https://t.auth0.com/"));
        assert_eq!(with(Preset::Okta, None).resolved(), None);
        let mut dev = with(Preset::Auth0, Some("https://t.auth0.com"));
        dev.retargeted = true;
        dev.given = Some("http://127.0.0.1:9".into());
        assert_eq!(dev.resolved().as_deref(), Some("http://127.0.0.1:9"));
        let mut google_dev = with(Preset::Google, Some("http://127.0.0.1:9"));
        google_dev.retargeted = true;
        assert_eq!(google_dev.alias(), None);
    }
}
