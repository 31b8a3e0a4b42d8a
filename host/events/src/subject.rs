//! Where events go: the subject of each graph and the stream that captures them all.

/// The subject prefix of every event; the namespace and graph tokens follow it.
pub const SUBJECT_PREFIX: &str = "dynamo.operator.events";

/// The subject filter of the events stream: every event subject.
pub const STREAM_SUBJECTS: &str = "dynamo.operator.events.>";

/// The default JetStream stream name, capturing [`STREAM_SUBJECTS`].
///
/// The publisher creates it when it is missing (see [`PublisherOptions`](crate::PublisherOptions)
/// for its limits); an existing stream is used as it is, never changed, so an administrator can
/// create it beforehand with other limits or more replicas.
pub const STREAM: &str = "DYNAMO_OPERATOR_EVENTS";

/// The subject of the events of graph `graph` in namespace `namespace`:
/// `dynamo.operator.events.<namespace>.<graph>`.
///
/// Namespaces are DNS labels and graph names DNS subdomains, which may contain `.`, the NATS
/// token separator. Each `.` is therefore written as `_`, which no DNS name contains, so two
/// valid names never share a subject: graph `llama.v2` in `prod` publishes on
/// `dynamo.operator.events.prod.llama_v2`. Characters NATS does not allow in a subject token
/// (whitespace, the wildcards `*` and `>`) become `_` too, and an empty name becomes `_`; such
/// names are not valid Kubernetes names, and the event body always carries the exact names.
///
/// A consumer of one namespace subscribes to `dynamo.operator.events.<namespace>.*`.
pub fn subject(namespace: &str, graph: &str) -> String {
    let mut subject =
        String::with_capacity(SUBJECT_PREFIX.len() + namespace.len() + graph.len() + 2);
    subject.push_str(SUBJECT_PREFIX);
    for name in [namespace, graph] {
        subject.push('.');
        push_token(&mut subject, name);
    }
    subject
}

/// Appends `name` as one subject token.
fn push_token(subject: &mut String, name: &str) {
    if name.is_empty() {
        subject.push('_');
        return;
    }
    subject.extend(name.chars().map(|c| match c {
        '.' | '*' | '>' => '_',
        c if c.is_whitespace() || c.is_control() => '_',
        c => c,
    }));
}
