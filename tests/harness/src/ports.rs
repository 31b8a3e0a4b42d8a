//! Picking free loopback ports for the components.

use std::net::{Ipv4Addr, TcpListener};

use crate::error::{Component, HarnessError, Result};

/// Returns `count` distinct ports that were free on 127.0.0.1 a moment ago.
///
/// All listeners are held until every port is chosen, so the ports differ from each other; another
/// process may still grab one before the component binds it, which is rare enough for tests.
pub(crate) fn free_ports(count: usize) -> Result<Vec<u16>> {
    let mut listeners = Vec::with_capacity(count);
    for _ in 0..count {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| {
            HarnessError::invalid(Component::Setup, format!("no free loopback port: {e}"))
        })?;
        listeners.push(listener);
    }
    listeners
        .iter()
        .map(|l| {
            l.local_addr().map(|a| a.port()).map_err(|e| {
                HarnessError::invalid(Component::Setup, format!("no free loopback port: {e}"))
            })
        })
        .collect()
}
