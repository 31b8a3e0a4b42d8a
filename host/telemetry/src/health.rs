//! [`Health`]: named readiness checks behind `/readyz`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

/// Readiness checks by name; cheap to clone, every clone sees the same checks.
///
/// The process is ready when every registered check is: a component that must be ready before
/// traffic (or leadership) counts calls [`Health::require`] early, then [`Health::set`] as its
/// state changes. With no checks at all, the process is ready.
#[derive(Clone, Default)]
pub struct Health {
    checks: Arc<RwLock<BTreeMap<&'static str, bool>>>,
}

// === impl Health ===

impl Health {
    /// No checks: ready.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `check`, not ready until [`Health::set`] says so; a check already registered
    /// keeps its state (requiring it twice does not undo a `set`).
    pub fn require(&self, check: &'static str) {
        self.write(|checks| {
            checks.entry(check).or_insert(false);
        });
    }

    /// Sets whether `check` is ready, registering it if it was not.
    pub fn set(&self, check: &'static str, ready: bool) {
        self.write(|checks| {
            checks.insert(check, ready);
        });
    }

    /// True when every registered check is ready.
    pub fn is_ready(&self) -> bool {
        self.read(|checks| checks.values().all(|ready| *ready))
    }

    /// The registered checks that are not ready, sorted by name.
    pub fn not_ready(&self) -> Vec<&'static str> {
        self.read(|checks| {
            checks
                .iter()
                .filter(|(_, ready)| !**ready)
                .map(|(check, _)| *check)
                .collect()
        })
    }

    /// Every registered check and whether it is ready, sorted by name.
    pub fn checks(&self) -> Vec<(&'static str, bool)> {
        self.read(|checks| checks.iter().map(|(c, r)| (*c, *r)).collect())
    }

    // A check is a plain bool written whole, so a poisoned lock still holds usable values.
    fn read<T>(&self, f: impl FnOnce(&BTreeMap<&'static str, bool>) -> T) -> T {
        f(&self.checks.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn write(&self, f: impl FnOnce(&mut BTreeMap<&'static str, bool>)) {
        f(&mut self.checks.write().unwrap_or_else(PoisonError::into_inner));
    }
}

impl fmt::Debug for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.checks()).finish()
    }
}
