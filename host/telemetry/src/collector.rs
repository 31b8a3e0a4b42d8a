//! The scrape-time collector: metrics other crates already count, read when scraped.
//!
//! The plugin runtime counts calls in lock-free per-plugin stats, the events publisher counts
//! what it published and dropped, and the controllers' graph cache knows every graph's state.
//! Copying those into registry metrics as they change would add work (and a metrics dependency)
//! to hot paths; reading them at scrape time costs nothing between scrapes.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use dynamo_events::Publisher;
use dynamo_plugin_runtime::{PluginRegistry, StatsSnapshot};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

use crate::telemetry::GraphStates;

/// A per-plugin counter family: name, help, and its value in a snapshot.
type PerPlugin = (&'static str, &'static str, fn(&StatsSnapshot) -> u64);

/// Where the collector reads from; each source is replaced as a whole when registered again.
#[derive(Default)]
pub(crate) struct Sources {
    plugins: RwLock<Option<PluginRegistry>>,
    publisher: RwLock<Option<Publisher>>,
    graphs: RwLock<Option<GraphStates>>,
}

// === impl Sources ===

impl Sources {
    pub(crate) fn set_plugins(&self, registry: PluginRegistry) {
        *self.plugins.write().unwrap_or_else(PoisonError::into_inner) = Some(registry);
    }

    pub(crate) fn set_publisher(&self, publisher: Publisher) {
        *self
            .publisher
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(publisher);
    }

    pub(crate) fn set_graphs(&self, states: GraphStates) {
        *self.graphs.write().unwrap_or_else(PoisonError::into_inner) = Some(states);
    }
}

/// A read guard; a source is only ever replaced whole, so a poisoned lock holds a usable value.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Encodes the [`Sources`] at each scrape.
pub(crate) struct ScrapeCollector {
    sources: Arc<Sources>,
}

impl ScrapeCollector {
    pub(crate) fn new(sources: Arc<Sources>) -> Self {
        Self { sources }
    }

    fn encode_plugins(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        let snapshots: Vec<(String, StatsSnapshot)> = read(&self.sources.plugins)
            .iter()
            .flat_map(PluginRegistry::iter)
            .map(|plugin| (plugin.name().to_owned(), plugin.stats().snapshot()))
            .collect();

        let mut metric = encoder.encode_descriptor(
            "plugin_call_duration",
            "How long plugin calls took (output checks included), failed ones included",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        for (plugin, stats) in &snapshots {
            for call in &stats.calls {
                let buckets: Vec<(f64, u64)> = call.bucket_bounds().collect();
                metric
                    .encode_family(&[("plugin", plugin.as_str()), ("call", call.kind.as_str())])?
                    .encode_histogram::<NoLabelSet>(
                        call.duration.as_secs_f64(),
                        call.count,
                        &buckets,
                        None,
                    )?;
            }
        }

        let mut metric = encoder.encode_descriptor(
            "plugin_calls",
            "Plugin calls that finished, by call (metadata, render, validate)",
            None,
            MetricType::Counter,
        )?;
        for (plugin, stats) in &snapshots {
            for call in &stats.calls {
                ConstCounter::new(call.count).encode(metric.encode_family(&[
                    ("plugin", plugin.as_str()),
                    ("call", call.kind.as_str()),
                ])?)?;
            }
        }

        let per_plugin: [PerPlugin; 3] = [
            (
                "plugin_errors",
                "Plugin calls that failed for any reason (plugin error, refused output, trap, \
                 timeout, out of memory)",
                |s| s.errors,
            ),
            (
                "plugin_timeouts",
                "Plugin calls stopped at their deadline",
                |s| s.timeouts,
            ),
            (
                "plugin_traps",
                "Plugin calls that crashed (trap, or stopped at the memory cap)",
                |s| s.traps.saturating_add(s.out_of_memory),
            ),
        ];
        for (name, help, value) in per_plugin {
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (plugin, stats) in &snapshots {
                ConstCounter::new(value(stats))
                    .encode(metric.encode_family(&[("plugin", plugin.as_str())])?)?;
            }
        }
        Ok(())
    }

    fn encode_events(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        let stats = read(&self.sources.publisher)
            .as_ref()
            .map(Publisher::stats)
            .unwrap_or_default();
        ConstCounter::new(stats.published).encode(encoder.encode_descriptor(
            "nats_events_published",
            "Graph lifecycle events the NATS stream acknowledged",
            None,
            MetricType::Counter,
        )?)?;
        ConstCounter::new(stats.dropped).encode(encoder.encode_descriptor(
            "nats_events_dropped",
            "Graph lifecycle events given up (buffer full, never accepted, or unsent at shutdown)",
            None,
            MetricType::Counter,
        )?)
    }

    fn encode_graphs(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        let states = read(&self.sources.graphs)
            .as_ref()
            .map(|states| states())
            .unwrap_or_default();
        let mut metric = encoder.encode_descriptor(
            "graphs",
            "DynamoGraphDeployments by status.state",
            None,
            MetricType::Gauge,
        )?;
        for (state, count) in states {
            ConstGauge::new(i64::try_from(count).unwrap_or(i64::MAX))
                .encode(metric.encode_family(&[("state", state)])?)?;
        }
        Ok(())
    }
}

impl Collector for ScrapeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        self.encode_plugins(&mut encoder)?;
        self.encode_events(&mut encoder)?;
        self.encode_graphs(&mut encoder)
    }
}

impl fmt::Debug for ScrapeCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScrapeCollector").finish_non_exhaustive()
    }
}
