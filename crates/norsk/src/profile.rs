//! Where a forward pass spends its time, op by op.
//!
//! The encoder and heads of `norsk-model` open a `tracing` span around each
//! op (`embeddings`, `qkv`, `attention`, `attention-out`, `ffn-in`,
//! `ffn-out`, `layer-norm`, `head`), as candle's own models do. With no
//! subscriber those spans cost a check of a static flag; [`OpProfile`] is a
//! subscriber layer that adds up the time spent in each.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use tracing::span::Id;
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// The target prefix of the spans that are counted.
const MODEL_TARGET: &str = "norsk_model";

/// Time spent in one op since the last [`OpProfile::take`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct OpTime {
    /// How many times the op ran.
    pub calls: u64,
    /// Seconds spent in it, without the time of ops nested inside it.
    pub seconds: f64,
}

/// Sums the time of the model's op spans; cheap to clone (one shared table).
#[derive(Debug, Clone, Default)]
pub struct OpProfile {
    totals: Arc<Mutex<BTreeMap<&'static str, OpTime>>>,
}

impl OpProfile {
    /// An empty profile.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes this profile the process's `tracing` subscriber. Fails when the
    /// process has one already.
    pub fn install(&self) -> Result<(), tracing::subscriber::SetGlobalDefaultError> {
        let layer = OpLayer {
            profile: self.clone(),
        };
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
    }

    /// The time per op so far, and a fresh start.
    pub fn take(&self) -> BTreeMap<&'static str, OpTime> {
        std::mem::take(&mut *self.totals.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn add(&self, op: &'static str, time: Duration) {
        let mut totals = self.totals.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = totals.entry(op).or_default();
        entry.calls += 1;
        entry.seconds += time.as_secs_f64();
    }
}

/// The clock of one entered span: when it was entered, and how long the
/// spans nested in it took.
struct Clock {
    entered: Instant,
    nested: Duration,
}

struct OpLayer {
    profile: OpProfile,
}

impl<S> Layer<S> for OpLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if span.metadata().target().starts_with(MODEL_TARGET) {
                span.extensions_mut().insert(Clock {
                    entered: Instant::now(),
                    nested: Duration::ZERO,
                });
            }
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let Some(clock) = span.extensions_mut().remove::<Clock>() else {
            return;
        };
        let elapsed = clock.entered.elapsed();
        self.profile
            .add(span.name(), elapsed.saturating_sub(clock.nested));
        if let Some(parent) = span.parent() {
            if let Some(outer) = parent.extensions_mut().get_mut::<Clock>() {
                outer.nested += elapsed;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spans of the model's target are counted with their own time only;
    /// other targets are not counted.
    #[test]
    fn counts_model_spans_without_nested_time() {
        let profile = OpProfile::new();
        let subscriber = tracing_subscriber::registry().with(OpLayer {
            profile: profile.clone(),
        });
        tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::trace_span!(target: "norsk_model::bert", "outer").entered();
            std::thread::sleep(Duration::from_millis(20));
            for _ in 0..2 {
                let _inner = tracing::trace_span!(target: "norsk_model::bert", "inner").entered();
                std::thread::sleep(Duration::from_millis(30));
            }
            drop(outer);
            let _other = tracing::trace_span!(target: "elsewhere", "other").entered();
        });
        let times = profile.take();
        assert_eq!(
            times.keys().copied().collect::<Vec<_>>(),
            ["inner", "outer"]
        );
        assert_eq!(times["inner"].calls, 2);
        assert_eq!(times["outer"].calls, 1);
        assert!(times["inner"].seconds >= 0.060);
        // The outer span's own time excludes the 60 ms spent inside.
        assert!(times["outer"].seconds >= 0.020 && times["outer"].seconds < 0.055);
        assert!(profile.take().is_empty(), "take starts afresh");
    }
}
