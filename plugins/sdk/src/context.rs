//! Questions every backend asks of its render input.

use dynamo_plugin_contract::{Placement, RenderInput, Role};

/// True when the pod template being rendered is one pod of a multi-node group.
pub fn is_multinode(placement: &Placement) -> bool {
    placement.node_count > 1 && placement.role != Role::Main
}

/// `spec.services.<service>.<suffix>` for the component being rendered, for diagnostics.
///
/// The same as `Field::service(input).join(suffix)` ([`crate::field::Field`]), as a string.
pub fn service_field(input: &RenderInput, suffix: &str) -> String {
    crate::field::Field::service(input).join(suffix).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multinode_needs_several_nodes_and_a_group_role() {
        let mut placement = Placement {
            node_count: 2,
            role: Role::Worker,
            ..Placement::default()
        };
        assert!(is_multinode(&placement));
        placement.role = Role::Main;
        assert!(!is_multinode(&placement));
        placement.role = Role::Leader;
        placement.node_count = 1;
        assert!(!is_multinode(&placement));
    }

    #[test]
    fn service_field_names_the_service() {
        let mut input = RenderInput::default();
        input.component.service_name = "decode".into();
        assert_eq!(
            service_field(&input, "multinode"),
            "spec.services.decode.multinode"
        );
    }
}
