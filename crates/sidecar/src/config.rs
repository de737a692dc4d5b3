//! The sidecar's TOML configuration: the service behind it, its agent, the chain and hub it is
//! paid through, and the price of each route.

pub use alloy_primitives::Address;
use alloy_primitives::U256;
use serde::Deserialize;
use std::{net::SocketAddr, path::PathBuf};

/// The whole configuration file (see `etc/sidecar.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the sidecar listens (HTTP/1.1 and cleartext HTTP/2).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The service behind it, `http://host:port` (a path prefix is kept).
    pub upstream: String,
    /// The URL clients reach the sidecar at (the agent's endpoint in its registration file).
    pub public_url: Option<String>,
    /// State (agent id) lives here.
    #[serde(default = "default_datadir")]
    pub datadir: PathBuf,
    /// Seconds to wait for the upstream's response head before answering 504.
    #[serde(default = "default_timeout")]
    pub upstream_timeout_secs: u64,
    /// Speak HTTP/2 to the upstream (cleartext, prior knowledge: gRPC and other h2c servers)
    /// instead of HTTP/1.1. Bodies and trailers pass through either way.
    #[serde(default)]
    pub upstream_http2: bool,
    /// Metrics (`/metrics`, Prometheus text; `/clients`, JSON) on a separate address.
    pub metrics: Option<SocketAddr>,
    /// Client connections open at once; more are closed on accept (nginx's
    /// `worker_connections` plays this part).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Seconds a client connection may sit without sending a whole request head: before its
    /// first request, between requests on a kept-alive HTTP/1.1 connection, and while trickling
    /// a head (hyper's header read timeout); an HTTP/2 connection is pinged at this interval and
    /// closed when a ping goes unanswered as long.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_secs: u64,
    /// The agent the service becomes.
    pub agent: AgentConfig,
    /// The chain and hub payments go through.
    pub chain: ChainConfig,
    /// Priced routes, first match wins; anything unmatched is free.
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteConfig>,
}

/// The agent's identity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Name in the registration file.
    pub name: String,
    /// Description in the registration file.
    #[serde(default)]
    pub description: String,
    /// The agent's key (hex); also `AGNT2_SIDECAR_KEY`. It owns the agent id, is side B of the
    /// channels it is paid over, and pays the registration's gas. With `session_of`, a session
    /// key of that agent instead.
    pub key: Option<String>,
    /// Register in the Identity precompile (and keep the agentURI current) at start; the
    /// default unless `session_of` is set (a session key cannot register).
    pub register: Option<bool>,
    /// Run on a session key of this agent, already registered by its owner: `key` is a key the
    /// owner opened a session for in the Sessions precompile (0x8008), so the owner's key stays
    /// off the machine. The owner is side B of the channels; the session key countersigns.
    pub session_of: Option<u64>,
}

impl AgentConfig {
    /// Whether the sidecar registers the agent (and keeps its agentURI current) at start.
    pub fn registers(&self) -> bool {
        self.register.unwrap_or_else(|| self.session_of.is_none())
    }
}

/// The rollup and the hub.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// The rollup's JSON-RPC.
    pub l2_rpc: String,
    /// The hub's binary protocol address.
    pub hub: SocketAddr,
    /// The Adjudicator the channels live in.
    pub adjudicator: Address,
    /// The chain id (read from the rollup when absent).
    pub chain_id: Option<u64>,
    /// Refuse channels whose challenge window is shorter (seconds). Default: the
    /// Adjudicator's MIN_CHALLENGE_DURATION.
    #[serde(default)]
    pub min_challenge_window: Option<u64>,
}

/// A priced route.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// HTTP method, or `*` for any.
    #[serde(default = "any")]
    pub method: String,
    /// Path: exact, or a prefix ending in `*` (`/v1/*`).
    pub path: String,
    /// Price per request: wei (or the token's smallest unit), or with a unit (`1000gwei`,
    /// `0.001ether`: 18 decimals); `0` makes it free.
    pub price: String,
    /// Asset: `ETH`, or an ERC-20's address (paid over channels in that token).
    #[serde(default = "eth")]
    pub asset: String,
    /// Shown in the 402's resource description.
    #[serde(default)]
    pub description: String,
    /// The x402 schemes offered, in the 402's `accepts` order: `agnt2-channel` (the default)
    /// and `exact` (x402's EIP-3009 scheme: the asset must be a token with
    /// `transferWithAuthorization` and EIP-5267's `eip712Domain()`; each payment is settled
    /// on chain by the sidecar before the answer goes out).
    #[serde(default = "default_schemes")]
    pub schemes: Vec<String>,
}

fn default_schemes() -> Vec<String> {
    vec![crate::scheme::SCHEME.into()]
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8402))
}
fn default_datadir() -> PathBuf {
    PathBuf::from(".agnt2/sidecar")
}
const fn default_max_connections() -> usize {
    10_000
}

const fn default_idle_timeout() -> u64 {
    30
}

const fn default_timeout() -> u64 {
    30
}
fn any() -> String {
    "*".into()
}
fn eth() -> String {
    "ETH".into()
}

/// A route with its price parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Method, or `*`.
    pub method: String,
    /// Exact path or prefix (when `prefix`).
    pub path: String,
    /// Whether `path` is a prefix.
    pub prefix: bool,
    /// Wei (or token units) per request.
    pub price: U256,
    /// The asset: the zero address for ETH, else the ERC-20 channels pay in.
    pub asset: Address,
    /// Description for the 402.
    pub description: String,
    /// Offered over `agnt2-channel`.
    pub channel: bool,
    /// Offered with x402's `exact` (EIP-3009).
    pub exact: bool,
    /// The order of the two in the 402's `accepts`: `exact` first.
    pub exact_first: bool,
}

impl Route {
    /// Whether this route covers `method` `path`.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && if self.prefix { path.starts_with(&self.path) } else { path == self.path }
    }
}

/// Why a configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML of this shape.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// A value is out of range.
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Parses and checks a configuration.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let c: Self = toml::from_str(text)?;
        c.routes()?;
        if c.agent.session_of.is_some() && c.agent.register == Some(true) {
            return Err(ConfigError::Invalid(
                "register = true needs the agent owner's key; a session key (session_of) cannot \
                 register or change the agentURI"
                    .into(),
            ));
        }
        if !c.upstream.starts_with("http://") {
            return Err(ConfigError::Invalid(format!(
                "upstream {:?} must be an http:// URL",
                c.upstream
            )));
        }
        Ok(c)
    }

    /// Reads and checks a configuration file.
    pub fn load(path: &std::path::Path) -> eyre::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| eyre::eyre!("reading {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| eyre::eyre!("{}: {e}", path.display()))
    }

    /// The routes with parsed prices, in order.
    pub fn routes(&self) -> Result<Vec<Route>, ConfigError> {
        self.routes
            .iter()
            .map(|r| {
                let asset = if r.asset.eq_ignore_ascii_case("ETH") {
                    Address::ZERO
                } else {
                    r.asset.parse::<Address>().map_err(|_| {
                        ConfigError::Invalid(format!(
                            "route {}: asset {:?} is neither ETH nor an ERC-20 address",
                            r.path, r.asset
                        ))
                    })?
                };
                if !r.path.starts_with('/') {
                    return Err(ConfigError::Invalid(format!(
                        "route path {:?} must start with /",
                        r.path
                    )));
                }
                let price = agnt2_client::parse_amount(&r.price)
                    .map_err(|e| ConfigError::Invalid(format!("route {}: price: {e}", r.path)))?;
                let offers = |name: &str| r.schemes.iter().position(|s| s == name);
                if let Some(other) = r.schemes.iter().find(|s| {
                    s.as_str() != crate::scheme::SCHEME && s.as_str() != crate::exact::SCHEME
                }) {
                    return Err(ConfigError::Invalid(format!(
                        "route {}: scheme {other:?} is not served (agnt2-channel, exact)",
                        r.path
                    )));
                }
                let (channel, exact) =
                    (offers(crate::scheme::SCHEME), offers(crate::exact::SCHEME));
                if channel.is_none() && exact.is_none() {
                    return Err(ConfigError::Invalid(format!("route {}: no scheme", r.path)));
                }
                if exact.is_some() && asset.is_zero() {
                    return Err(ConfigError::Invalid(format!(
                        "route {}: exact pays in an EIP-3009 token; set asset to its address",
                        r.path
                    )));
                }
                let (path, prefix) = match r.path.strip_suffix('*') {
                    Some(p) => (p.to_string(), true),
                    None => (r.path.clone(), false),
                };
                Ok(Route {
                    method: r.method.to_ascii_uppercase(),
                    path,
                    prefix,
                    price,
                    asset,
                    description: r.description.clone(),
                    channel: channel.is_some(),
                    exact: exact.is_some(),
                    exact_first: exact < channel || channel.is_none(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
upstream = "http://127.0.0.1:3000"
[agent]
name = "weather"
[chain]
l2_rpc = "http://127.0.0.1:8545"
hub = "127.0.0.1:9545"
adjudicator = "0x00000000000000000000000000000000000000ad"
[[route]]
method = "GET"
path = "/forecast/*"
price = "1000gwei"
[[route]]
path = "/bulk"
price = "0.5ether"
"#;

    #[test]
    fn routes_match_first_and_prices_parse() {
        let c = Config::parse(SAMPLE).unwrap();
        assert_eq!(c.listen, default_listen());
        let r = c.routes().unwrap();
        assert_eq!(r[0].price, U256::from(1_000_000_000_000u64));
        assert!(r[0].matches("get", "/forecast/today"));
        assert!(!r[0].matches("POST", "/forecast/today"));
        assert!(!r[0].matches("GET", "/forecasts"));
        assert!(r[1].matches("POST", "/bulk") && !r[1].matches("POST", "/bulk/x"));
        assert_eq!(r[1].price, U256::from(5u64) * U256::from(10u64).pow(U256::from(17)));
    }

    #[test]
    fn bad_configs_say_why() {
        let e = Config::parse(&SAMPLE.replace("1000gwei", "lots")).unwrap_err().to_string();
        assert!(e.contains("/forecast/*") && e.contains("bad amount"), "{e}");
        let e = Config::parse(&SAMPLE.replace("path = \"/bulk\"", "path = \"bulk\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("must start with /"), "{e}");
        let e = Config::parse(&format!("{SAMPLE}\nasset = \"USDC\"")).unwrap_err().to_string();
        assert!(e.contains("neither ETH nor an ERC-20 address"), "{e}");
        let token = Config::parse(&format!(
            "{SAMPLE}\nasset = \"0x00000000000000000000000000000000000000aa\""
        ))
        .unwrap()
        .routes()
        .unwrap();
        assert_eq!(token[1].asset, Address::with_last_byte(0xaa));
        assert_eq!(token[0].asset, Address::ZERO);
        let e = Config::parse(&format!("{SAMPLE}\nbogus = 1")).unwrap_err().to_string();
        assert!(e.contains("bogus"), "{e}");
        let e = Config::parse(&SAMPLE.replace("http://127.0.0.1:3000", "ftp://x"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("http://"), "{e}");
        let session = SAMPLE.replace("name = \"weather\"", "name = \"weather\"\nsession_of = 3");
        let c = Config::parse(&session).unwrap();
        assert_eq!((c.agent.session_of, c.agent.registers()), (Some(3), false));
        assert!(Config::parse(SAMPLE).unwrap().agent.registers());
        let e =
            Config::parse(&session.replace("session_of = 3", "session_of = 3\nregister = true"))
                .unwrap_err()
                .to_string();
        assert!(e.contains("session key"), "{e}");
        let e = Config::parse(&format!("{SAMPLE}\nschemes = [\"exact\"]")).unwrap_err().to_string();
        assert!(e.contains("EIP-3009 token"), "exact in ETH: {e}");
        let e = Config::parse(&format!("{SAMPLE}\nschemes = [\"upto\"]")).unwrap_err().to_string();
        assert!(e.contains("\"upto\" is not served"), "{e}");
        let e = Config::parse(&format!("{SAMPLE}\nschemes = []")).unwrap_err().to_string();
        assert!(e.contains("no scheme"), "{e}");
    }

    #[test]
    fn the_example_configuration_parses() {
        let c = Config::parse(include_str!("../../../etc/sidecar.toml")).unwrap();
        assert!(c.routes().unwrap().iter().any(|r| r.exact && r.channel));
    }

    #[test]
    fn routes_offer_the_channel_scheme_unless_told_otherwise() {
        let token = "\nasset = \"0x00000000000000000000000000000000000000aa\"";
        let r =
            Config::parse(&format!("{SAMPLE}{token}\nschemes = [\"exact\", \"agnt2-channel\"]"))
                .unwrap()
                .routes()
                .unwrap();
        assert!(r[0].channel && !r[0].exact, "the default");
        assert!(r[1].channel && r[1].exact && r[1].exact_first);
        let r =
            Config::parse(&format!("{SAMPLE}{token}\nschemes = [\"agnt2-channel\", \"exact\"]"))
                .unwrap()
                .routes()
                .unwrap();
        assert!(r[1].exact && !r[1].exact_first);
        let r = Config::parse(&format!("{SAMPLE}{token}\nschemes = [\"exact\"]"))
            .unwrap()
            .routes()
            .unwrap();
        assert!(!r[1].channel && r[1].exact && r[1].exact_first);
    }
}
