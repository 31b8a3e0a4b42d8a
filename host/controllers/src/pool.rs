//! [`RenderPool`]: the few dedicated threads every render (and so every plugin call) runs on.
//!
//! Rendering is CPU-bound and calls WebAssembly plugins through wasmtime-wasi's synchronous
//! bindings, which must not run on a Tokio worker (they block on the runtime handle). Spawning a
//! thread per call costs tens of microseconds and lets a burst of reconciles start unbounded
//! threads. So the pool starts a fixed number of threads at start-up and feeds them through a
//! channel; a reconcile awaits its render without holding a Tokio worker.
//!
//! The pool owns the plugin registry. Replacing the plugin set means a new pool.

use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use dynamo_plugin_runtime::PluginRegistry;
use tokio::sync::oneshot;

/// A unit of work: runs on a pool thread with the registry.
type Job = Box<dyn FnOnce(&PluginRegistry) + Send>;

/// A fixed set of render threads sharing one plugin registry.
pub struct RenderPool {
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    size: usize,
}

/// The pool is shut down (the operator is stopping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the render pool is shut down")]
pub struct PoolClosed;

// === impl RenderPool ===

impl RenderPool {
    /// Starts `threads` render threads (at least one) over `registry`.
    pub fn new(registry: PluginRegistry, threads: usize) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let registry = Arc::new(registry);
        let size = threads.max(1);
        let mut handles = Vec::with_capacity(size);
        for index in 0..size {
            let receiver = Arc::clone(&receiver);
            let registry = Arc::clone(&registry);
            handles.push(
                std::thread::Builder::new()
                    .name(format!("dynamo-render-{index}"))
                    .spawn(move || {
                        loop {
                            // Hold the lock only to take one job, so threads work in parallel.
                            let job = match receiver.lock() {
                                Ok(receiver) => receiver.recv(),
                                Err(_) => return,
                            };
                            match job {
                                Ok(job) => job(&registry),
                                Err(_) => return,
                            }
                        }
                    })?,
            );
        }
        Ok(Self {
            sender: Mutex::new(Some(sender)),
            threads: Mutex::new(handles),
            size,
        })
    }

    /// Number of render threads.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Runs `work` on a pool thread and waits (asynchronously) for its result.
    pub async fn run<T, F>(&self, work: F) -> Result<T, PoolClosed>
    where
        T: Send + 'static,
        F: FnOnce(&PluginRegistry) -> T + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        // The caller's span (the reconcile's: controller, namespace, name) follows the work to
        // the render thread, so what plugins and the pipeline log there names the object.
        let span = tracing::Span::current();
        let job: Job = Box::new(move |registry| {
            let _entered = span.enter();
            let _ = tx.send(work(registry));
        });
        {
            let sender = self.sender.lock().map_err(|_| PoolClosed)?;
            sender
                .as_ref()
                .ok_or(PoolClosed)?
                .send(job)
                .map_err(|_| PoolClosed)?;
        }
        rx.await.map_err(|_| PoolClosed)
    }

    /// Stops taking work and waits for the threads to finish what they have.
    pub fn shutdown(&self) {
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        let handles = self
            .threads
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for handle in handles {
            let _ = handle.join();
        }
    }
}

impl Drop for RenderPool {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for RenderPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderPool")
            .field("size", &self.size)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn work_runs_on_the_pool_threads_not_on_the_runtime() {
        let pool = RenderPool::new(PluginRegistry::default(), 2).expect("pool");
        let mut names = Vec::new();
        for _ in 0..8 {
            names.push(
                pool.run(|_| std::thread::current().name().map(str::to_owned))
                    .await
                    .expect("runs"),
            );
        }
        assert!(
            names.iter().all(|n| n
                .as_deref()
                .is_some_and(|n| n.starts_with("dynamo-render-"))),
            "{names:?}"
        );
        let distinct: std::collections::BTreeSet<_> = names.iter().collect();
        assert!(distinct.len() <= 2, "never a thread per call: {distinct:?}");
        pool.shutdown();
        assert_eq!(pool.run(|_| ()).await, Err(PoolClosed));
    }
}
