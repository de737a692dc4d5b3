//! Per-client counters, served as Prometheus text and JSON.

use agnt2_metrics::{Counter, Registry};
use alloy_primitives::{Address, U256};
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::collections::HashMap;

/// What one payer did.
#[derive(Debug, Default, Clone)]
struct Client {
    paid: u64,
    wei: U256,
    refused: u64,
    upstream_failed: u64,
    latency_us: u64,
    /// Its `agnt2_sidecar_client_paid_total` series.
    paid_series: Option<Counter>,
}

/// The sidecar's counters (`agnt2_sidecar_*` in its own [`Registry`]) and its table of
/// paying clients.
#[derive(Debug)]
pub struct Meter {
    registry: Registry,
    free: Counter,
    paid: Counter,
    refused: Counter,
    malformed: Counter,
    upstream_failed: Counter,
    clients: Mutex<HashMap<Address, Client>>,
}

impl Default for Meter {
    fn default() -> Self {
        let r = Registry::new();
        r.describe("agnt2_sidecar_client_paid_total", None, "paid requests per payer");
        Self {
            free: r.counter("agnt2_sidecar_free_total", "requests to free routes forwarded"),
            paid: r.counter("agnt2_sidecar_paid_total", "paid requests served"),
            refused: r.counter("agnt2_sidecar_refused_total", "payments refused"),
            malformed: r.counter("agnt2_sidecar_malformed_total", "unreadable payment headers"),
            upstream_failed: r
                .counter("agnt2_sidecar_upstream_failed_total", "upstream failures and timeouts"),
            clients: Mutex::new(HashMap::new()),
            registry: r,
        }
    }
}

/// How a request ended, for the counters.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// A free route, forwarded.
    Free,
    /// Paid and served, with the wei taken.
    Paid(U256),
    /// A payment refused (402) or unreadable (400).
    Refused,
    /// A payment header that does not parse.
    Malformed,
    /// The upstream failed or timed out (nothing charged).
    UpstreamFailed,
}

impl Meter {
    /// Counts a request of `payer` (when known) that took `latency_us`.
    pub fn record(&self, payer: Option<Address>, outcome: Outcome, latency_us: u64) {
        let counter = match outcome {
            Outcome::Free => &self.free,
            Outcome::Paid(_) => &self.paid,
            Outcome::Refused => &self.refused,
            Outcome::Malformed => &self.malformed,
            Outcome::UpstreamFailed => &self.upstream_failed,
        };
        counter.increment(1);
        let Some(payer) = payer else { return };
        let mut clients = self.clients.lock();
        // Only a payment that was taken makes a client known: a refused one names an address
        // nobody proved (anyone can sign with a fresh key), so it adds to a known client's
        // counters or to the totals only — the table cannot be grown by strangers.
        let c = match outcome {
            Outcome::Paid(_) => clients.entry(payer).or_default(),
            _ => match clients.get_mut(&payer) {
                Some(c) => c,
                None => return,
            },
        };
        match outcome {
            Outcome::Paid(wei) => {
                if c.paid == 0 {
                    c.paid_series = Some(self.registry.counter_with(
                        "agnt2_sidecar_client_paid_total",
                        &[("payer", payer.to_string())],
                    ));
                }
                c.paid += 1;
                if let Some(series) = &c.paid_series {
                    series.increment(1);
                }
                c.wei += wei;
                c.latency_us += latency_us;
            }
            Outcome::Refused | Outcome::Malformed => c.refused += 1,
            Outcome::UpstreamFailed => c.upstream_failed += 1,
            Outcome::Free => {}
        }
    }

    /// Per-client counters as JSON.
    pub fn clients_json(&self) -> Value {
        let clients = self.clients.lock();
        let mut out: Vec<_> = clients
            .iter()
            .map(|(a, c)| {
                json!({
                    "payer": a,
                    "paid": c.paid,
                    "wei": c.wei.to_string(),
                    "refused": c.refused,
                    "upstreamFailed": c.upstream_failed,
                    "avgLatencyUs": c.latency_us.checked_div(c.paid).unwrap_or(0),
                })
            })
            .collect();
        out.sort_by(|a, b| a["payer"].as_str().cmp(&b["payer"].as_str()));
        json!({ "clients": out })
    }

    /// The session key's gauges: whether it countersigns now (valid and not within the margin
    /// of its expiry), and when it expires (unix time).
    pub fn session(&self, usable: bool, expiry: u64) {
        self.registry
            .gauge(
                "agnt2_sidecar_session_valid",
                "1 while the session key countersigns (valid, not within the margin of its expiry)",
            )
            .set(f64::from(u8::from(usable)));
        self.registry
            .gauge(
                "agnt2_sidecar_session_expiry_seconds",
                "when the session key expires (unix time)",
            )
            .set(expiry as f64);
    }

    /// The registry the series live in.
    pub const fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Prometheus text.
    pub fn prometheus(&self) -> String {
        self.registry.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_client() {
        let m = Meter::default();
        let a = Address::repeat_byte(1);
        m.record(Some(a), Outcome::Paid(U256::from(5)), 100);
        m.record(Some(a), Outcome::Paid(U256::from(5)), 300);
        m.record(Some(a), Outcome::Refused, 0);
        m.record(None, Outcome::Free, 0);
        // Strangers' refused payments count in the totals, not as clients.
        for i in 0..100u8 {
            m.record(Some(Address::repeat_byte(i + 2)), Outcome::Refused, 0);
        }
        let j = m.clients_json();
        assert_eq!(j["clients"].as_array().unwrap().len(), 1);
        assert_eq!(j["clients"][0]["paid"], 2);
        assert_eq!(j["clients"][0]["wei"], "10");
        assert_eq!(j["clients"][0]["refused"], 1);
        assert_eq!(j["clients"][0]["avgLatencyUs"], 200);
        let p = m.prometheus();
        assert!(
            p.contains("agnt2_sidecar_free_total 1") && p.contains("agnt2_sidecar_paid_total 2")
        );
    }
}
