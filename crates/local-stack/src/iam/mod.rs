//! Each function's role, enforced on its own SDK clients (issue 27): moto answers every
//! request whatever the caller may do, and no emulator here judges both our resources and
//! our conditions (see the README), so the local stack asks the role's policy itself.
//!
//! The role is the function's `Policies` in `infra/template.yaml` (statements, and the SAM
//! policy templates it uses, expanded as SAM expands them), with `!Ref`, `!GetAtt` and
//! `!Sub` resolved to this stack's names and ARNs (`crate::stack::roles`). Requests are classified at the HTTP
//! layer ([`request`]), judged ([`policy`]) and, when denied, answered with the service's
//! own authorisation error ([`client`]), so the worker sees what AWS would send it.

pub mod client;
pub mod policy;
pub mod request;

pub use client::RoleClient;
pub use policy::{Access, Condition, Operator, Statement};

/// Why a function's policies could not be read as a role.
#[derive(Debug, thiserror::Error)]
#[error("{function}'s policies: {problem}")]
pub struct PolicyError {
    /// The function's logical id.
    pub function: String,
    /// What could not be read.
    pub problem: String,
}
