//! Deciding how a multi-node vLLM component spreads over its nodes.
//!
//! With *world* = tensor × pipeline parallel size (the GPUs one engine spans) and *GPUs* = the
//! GPUs of one node:
//!
//! - world > GPUs: one engine spans the nodes ([`Strategy::Distributed`]; launched with `mp` or
//!   Ray, see [`crate::executor`]);
//! - otherwise world × data-parallel size > GPUs: the data-parallel ranks span the nodes, each node
//!   running `GPUs / world` of them in hybrid load-balancing mode ([`Strategy::DataParallel`]);
//! - otherwise nothing spans nodes ([`Strategy::None`]).
//!
//! Without a GPU count nothing can be decided, so the answer is [`Strategy::None`].

#![forbid(unsafe_code)]

use crate::args::Parallelism;

/// How a multi-node component's nodes cooperate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// No cross-node launch: flags are left alone.
    None,
    /// One engine spans the nodes (tensor/pipeline parallelism across nodes).
    Distributed,
    /// Data-parallel ranks span the nodes.
    DataParallel {
        /// Data-parallel ranks per node: GPUs / world.
        local: u64,
        /// Data-parallel ranks in total: the user's `--data-parallel-size`, else local × nodes.
        total: u64,
    },
}

/// Decides the strategy for `parallelism` on `node_count` nodes of `gpus_per_node` GPUs each.
pub fn decide(parallelism: &Parallelism, gpus_per_node: u32, node_count: u32) -> Strategy {
    let gpus = u64::from(gpus_per_node);
    if gpus == 0 {
        return Strategy::None;
    }
    let world = parallelism.world();
    if world > gpus {
        return Strategy::Distributed;
    }
    if parallelism.total() > gpus {
        let local = gpus / world;
        let total = if parallelism.data_given {
            u64::from(parallelism.data)
        } else {
            local * u64::from(node_count)
        };
        return Strategy::DataParallel { local, total };
    }
    Strategy::None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(tensor: u32, pipeline: u32, data: Option<u32>) -> Parallelism {
        Parallelism {
            tensor,
            pipeline,
            data: data.unwrap_or(1),
            data_given: data.is_some(),
        }
    }

    #[test]
    fn world_beyond_one_node_is_distributed() {
        assert_eq!(decide(&p(2, 1, None), 1, 2), Strategy::Distributed);
        assert_eq!(decide(&p(4, 2, Some(4)), 4, 2), Strategy::Distributed);
    }

    #[test]
    fn data_parallel_beyond_one_node() {
        assert_eq!(
            decide(&p(2, 1, Some(8)), 8, 2),
            Strategy::DataParallel { local: 4, total: 8 }
        );
        assert_eq!(
            decide(&p(1, 1, Some(16)), 8, 2),
            Strategy::DataParallel {
                local: 8,
                total: 16
            }
        );
    }

    #[test]
    fn fits_on_one_node_or_unknown_gpus() {
        assert_eq!(decide(&p(4, 1, None), 4, 2), Strategy::None);
        assert_eq!(decide(&p(2, 1, Some(2)), 4, 2), Strategy::None);
        assert_eq!(decide(&p(8, 1, None), 0, 2), Strategy::None);
    }
}
