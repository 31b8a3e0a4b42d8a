//! Merging container environment variables by name.

use k8s_openapi::api::core::v1::{Container, EnvVar};

/// Merges `overrides` into `base` by name: an override replaces the variable of the same name in
/// place (keeping its position), a new name is appended. Order is stable and deterministic:
/// `base` order first, then new names in the order given.
///
/// When `base` holds the same name more than once, the first occurrence is replaced and later ones
/// are removed, so the result has each name at most once among those overridden.
pub fn merge_env(base: &mut Vec<EnvVar>, overrides: impl IntoIterator<Item = EnvVar>) {
    for var in overrides {
        match base.iter().position(|v| v.name == var.name) {
            Some(first) => {
                let name = var.name.clone();
                base[first] = var;
                let mut index = 0;
                base.retain(|v| {
                    let keep = index <= first || v.name != name;
                    index += 1;
                    keep
                });
            }
            None => base.push(var),
        }
    }
}

/// A plain `name=value` variable.
pub fn env_var(name: impl Into<String>, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    }
}

/// Sets variables on a container with [`merge_env`] semantics (the given values win).
pub fn set_env(container: &mut Container, vars: impl IntoIterator<Item = EnvVar>) {
    merge_env(container.env.get_or_insert_with(Vec::new), vars);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_values(env: &[EnvVar]) -> Vec<(String, String)> {
        env.iter()
            .map(|v| (v.name.clone(), v.value.clone().unwrap_or_default()))
            .collect()
    }

    #[test]
    fn override_wins_in_place_and_new_names_append() {
        let mut base = vec![env_var("A", "1"), env_var("B", "2"), env_var("C", "3")];
        merge_env(
            &mut base,
            [env_var("D", "4"), env_var("B", "20"), env_var("E", "5")],
        );
        assert_eq!(
            names_values(&base),
            [("A", "1"), ("B", "20"), ("C", "3"), ("D", "4"), ("E", "5")]
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn duplicates_collapse_to_the_first_position() {
        let mut base = vec![env_var("A", "1"), env_var("X", "a"), env_var("A", "2")];
        merge_env(&mut base, [env_var("A", "3")]);
        assert_eq!(
            names_values(&base),
            [("A", "3"), ("X", "a")].map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn later_overrides_win_over_earlier_ones() {
        let mut c = Container::default();
        set_env(&mut c, [env_var("A", "1"), env_var("A", "2")]);
        assert_eq!(
            names_values(c.env.as_deref().unwrap_or_default()),
            [("A".to_owned(), "2".to_owned())]
        );
    }
}
