//! What `agnt2 monitor` decides: given what it observed on the L1 and on the L2s it was shown,
//! and the agent's thresholds, stay on the L1, move to an L2, or launch an L2 of its own — with
//! the numbers that decided it.

use serde::{Deserialize, Serialize};

/// The agent's thresholds (a JSON config, camelCase; every field has a default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Thresholds {
    /// Above this L1 base fee (gwei) the L1 is too expensive to stay on.
    pub max_l1_base_fee_gwei: f64,
    /// The most one interaction may cost anywhere (wei); `None`: no bound.
    pub max_cost_per_interaction_wei: Option<f64>,
    /// The longest an L2 may take to make a block safe (seconds).
    pub max_time_to_safe_s: f64,
    /// Gas of one of the agent's interactions, to price it where no receipt of its own is seen.
    pub gas_per_interaction: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            max_l1_base_fee_gwei: 20.0,
            max_cost_per_interaction_wei: None,
            max_time_to_safe_s: 600.0,
            gas_per_interaction: 100_000,
        }
    }
}

/// One chain as observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainObservation {
    /// A name (`l1`, or the name given with the L2's URL).
    pub name: String,
    /// Its chain id.
    pub chain_id: u64,
    /// The newest block.
    pub head: u64,
    /// The next block's base fee (gwei).
    pub base_fee_gwei: f64,
    /// The blob base fee (gwei), where the chain has one.
    pub blob_base_fee_gwei: Option<f64>,
    /// Seconds per block over the blocks sampled.
    pub block_time_s: f64,
    /// Transactions per second over the blocks sampled.
    pub tps: f64,
    /// Gas used over the gas limit, over the blocks sampled.
    pub gas_used_ratio: f64,
    /// Seconds from a block to its safety (an L2's head − safe head, in time); `None` on the L1
    /// or where the chain reports no safe head.
    pub time_to_safe_s: Option<f64>,
    /// Blocks between the head and the finalized block, where reported.
    pub finalized_lag_blocks: Option<u64>,
    /// What one of the agent's interactions costs here (wei): the mean of its own receipts in
    /// the blocks sampled (gas × price + L1 data fee), else the base fee × the gas of one
    /// interaction.
    pub cost_per_interaction_wei: f64,
    /// Whether the cost comes from the agent's own receipts.
    pub cost_from_receipts: bool,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "action")]
pub enum Decision {
    /// The L1 is within the thresholds.
    Stay {
        /// Why.
        reason: String,
    },
    /// An L2 the agent was shown is within them (the cheapest such).
    Move {
        /// Its name.
        to: String,
        /// Why.
        reason: String,
    },
    /// Nothing is: launch an L2 of its own.
    Launch {
        /// Why.
        reason: String,
    },
}

/// "30 s", or "unknown".
fn safe_text(s: Option<f64>) -> String {
    s.map_or_else(|| "unknown".into(), |s| format!("{s:.0} s"))
}

/// Decides from `l1` and `l2s`.
pub fn decide(l1: &ChainObservation, l2s: &[ChainObservation], t: &Thresholds) -> Decision {
    let cost_ok = |c: &ChainObservation| {
        t.max_cost_per_interaction_wei.is_none_or(|m| c.cost_per_interaction_wei <= m)
    };
    let l1_ok = l1.base_fee_gwei <= t.max_l1_base_fee_gwei && cost_ok(l1);
    if l1_ok {
        return Decision::Stay {
            reason: format!(
                "L1 base fee {:.2} gwei ≤ {:.2}; an interaction costs {:.0} wei",
                l1.base_fee_gwei, t.max_l1_base_fee_gwei, l1.cost_per_interaction_wei
            ),
        };
    }
    let why_l1 = if l1.base_fee_gwei > t.max_l1_base_fee_gwei {
        format!("L1 base fee {:.2} gwei > {:.2}", l1.base_fee_gwei, t.max_l1_base_fee_gwei)
    } else {
        format!("an L1 interaction costs {:.0} wei, over the bound", l1.cost_per_interaction_wei)
    };
    let mut rejected = Vec::new();
    let mut best: Option<&ChainObservation> = None;
    for c in l2s {
        let slow = c.time_to_safe_s.is_some_and(|s| s > t.max_time_to_safe_s);
        let dearer = c.cost_per_interaction_wei >= l1.cost_per_interaction_wei;
        if !cost_ok(c) || slow || dearer {
            rejected.push(format!(
                "{}: {:.0} wei per interaction, {} to safe",
                c.name,
                c.cost_per_interaction_wei,
                safe_text(c.time_to_safe_s)
            ));
            continue;
        }
        if best.is_none_or(|b| c.cost_per_interaction_wei < b.cost_per_interaction_wei) {
            best = Some(c);
        }
    }
    match best {
        Some(c) => Decision::Move {
            to: c.name.clone(),
            reason: format!(
                "{why_l1}; {} costs {:.0} wei per interaction (L1 {:.0}), {} to safe",
                c.name,
                c.cost_per_interaction_wei,
                l1.cost_per_interaction_wei,
                safe_text(c.time_to_safe_s)
            ),
        },
        None => Decision::Launch {
            reason: if rejected.is_empty() {
                format!("{why_l1}; no L2 to move to")
            } else {
                format!("{why_l1}; no L2 within the thresholds ({})", rejected.join("; "))
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(name: &str, base_gwei: f64, cost: f64, safe: Option<f64>) -> ChainObservation {
        ChainObservation {
            name: name.into(),
            chain_id: 1,
            head: 10,
            base_fee_gwei: base_gwei,
            blob_base_fee_gwei: None,
            block_time_s: 1.0,
            tps: 0.0,
            gas_used_ratio: 0.0,
            time_to_safe_s: safe,
            finalized_lag_blocks: None,
            cost_per_interaction_wei: cost,
            cost_from_receipts: false,
        }
    }

    #[test]
    fn stays_moves_or_launches_on_the_numbers() {
        let t = Thresholds::default();
        let cheap_l2 = chain("agnt2", 0.001, 1e11, Some(30.0));
        let dear_l2 = chain("other", 0.01, 1e12, Some(30.0));
        // A calm L1: stay.
        let calm = chain("l1", 1.0, 1e14, None);
        assert!(matches!(
            decide(&calm, std::slice::from_ref(&cheap_l2), &t),
            Decision::Stay { .. }
        ));
        // A busy L1: the cheapest L2 within the thresholds.
        let busy = chain("l1", 50.0, 5e15, None);
        match decide(&busy, &[dear_l2, cheap_l2.clone()], &t) {
            Decision::Move { to, reason } => {
                assert_eq!(to, "agnt2");
                assert!(reason.contains("50.00 gwei"), "{reason}");
            }
            d => panic!("{d:?}"),
        }
        // Every L2 too slow to safety, or none given: launch.
        let slow = chain("slow", 0.001, 1e11, Some(7200.0));
        assert!(matches!(decide(&busy, &[slow], &t), Decision::Launch { .. }));
        assert!(matches!(decide(&busy, &[], &t), Decision::Launch { .. }));
        // A cost bound the L2 exceeds too.
        let strict = Thresholds { max_cost_per_interaction_wei: Some(1e10), ..t };
        assert!(matches!(decide(&busy, &[cheap_l2], &strict), Decision::Launch { .. }));
    }

    #[test]
    fn thresholds_read_from_json_with_defaults_and_refuse_typos() {
        let t: Thresholds = serde_json::from_str(r#"{"maxL1BaseFeeGwei": 5}"#).unwrap();
        assert_eq!(t.max_l1_base_fee_gwei, 5.0);
        assert_eq!(t.gas_per_interaction, 100_000);
        assert!(serde_json::from_str::<Thresholds>(r#"{"maxL1BaseFee": 5}"#).is_err());
    }
}
