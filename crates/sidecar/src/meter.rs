//! Per-client counters, served as Prometheus text and JSON.

use alloy_primitives::{Address, U256};
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    fmt::Write,
    sync::atomic::{AtomicU64, Ordering},
};

/// What one payer did.
#[derive(Debug, Default, Clone)]
struct Client {
    paid: u64,
    wei: U256,
    refused: u64,
    upstream_failed: u64,
    latency_us: u64,
}

/// The sidecar's counters.
#[derive(Debug, Default)]
pub struct Meter {
    free: AtomicU64,
    paid: AtomicU64,
    refused: AtomicU64,
    malformed: AtomicU64,
    upstream_failed: AtomicU64,
    clients: Mutex<HashMap<Address, Client>>,
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
        counter.fetch_add(1, Ordering::Relaxed);
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
                c.paid += 1;
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

    /// Prometheus text.
    pub fn prometheus(&self) -> String {
        let mut s = String::new();
        for (name, v, help) in [
            ("free", &self.free, "requests to free routes forwarded"),
            ("paid", &self.paid, "paid requests served"),
            ("refused", &self.refused, "payments refused"),
            ("malformed", &self.malformed, "unreadable payment headers"),
            ("upstream_failed", &self.upstream_failed, "upstream failures and timeouts"),
        ] {
            let _ = writeln!(s, "# HELP agnt2_sidecar_{name}_total {help}");
            let _ = writeln!(s, "# TYPE agnt2_sidecar_{name}_total counter");
            let _ = writeln!(s, "agnt2_sidecar_{name}_total {}", v.load(Ordering::Relaxed));
        }
        let clients = self.clients.lock();
        let _ = writeln!(s, "# HELP agnt2_sidecar_client_paid_total paid requests per payer");
        let _ = writeln!(s, "# TYPE agnt2_sidecar_client_paid_total counter");
        for (a, c) in clients.iter() {
            let _ = writeln!(s, "agnt2_sidecar_client_paid_total{{payer=\"{a}\"}} {}", c.paid);
        }
        s
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
