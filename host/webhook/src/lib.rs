//! `dynamo-webhook`: the operator's admission webhooks.
//!
//! - [`admission`]: decodes AdmissionReviews and answers them: defaults for new graphs, and the
//!   rules of graphs (through [`dynamo_render::check`], as the `render` CLI), components and
//!   models, including what an UPDATE may not change ([`rules`]);
//! - [`server`]: the HTTPS server (axum over rustls) whose certificate is swapped in place;
//! - [`certs`] and [`provision`]: the serving certificate, made and rotated by the operator in a
//!   Secret (`auto`) or mounted by cert-manager (`manual`), and the `caBundle` written into the
//!   webhook configurations.
#![forbid(unsafe_code)]

pub mod admission;
pub mod certs;
pub mod provision;
pub mod rules;
pub mod server;

pub use admission::{Admission, ClaimedElsewhere, Webhook};
pub use provision::{AutoProvision, ConversionTarget, Provision, ProvisionError};
pub use server::{CertStore, TlsError};
