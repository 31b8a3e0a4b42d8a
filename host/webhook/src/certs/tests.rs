use super::*;

const DAY: i64 = 24 * 3600;
const NOW: i64 = 1_800_000_000;

fn names() -> Vec<String> {
    service_names("dynamo-webhook", "dynamo-system")
}

#[test]
fn generated_material_round_trips_through_a_secret() {
    let material = Material::generate(&names(), Lifetimes::default(), NOW).expect("generates");
    let back = Material::from_secret_data(&material.to_secret_data()).expect("reads back");
    assert_eq!(back, material);
    let serving = back.serving_validity().expect("serving validity");
    assert!(serving.not_before <= NOW && serving.not_after >= NOW + 364 * DAY);
    let ca = back.ca_validity().expect("CA validity");
    assert!(ca.not_after >= NOW + 3649 * DAY);
    assert!(
        !format!("{material:?}").contains("PRIVATE"),
        "keys never printed"
    );
}

#[test]
fn fresh_material_is_not_renewed() {
    let material = Material::generate(&names(), Lifetimes::default(), NOW).expect("generates");
    assert!(
        material
            .renewed(&names(), Lifetimes::default(), NOW + 30 * DAY)
            .expect("checks")
            .is_none()
    );
}

#[test]
fn the_serving_certificate_is_renewed_with_a_third_of_its_life_left_under_the_same_ca() {
    let material = Material::generate(&names(), Lifetimes::default(), NOW).expect("generates");
    let later = NOW + 250 * DAY;
    let renewed = material
        .renewed(&names(), Lifetimes::default(), later)
        .expect("checks")
        .expect("due after 250 of 365 days");
    assert_eq!(
        renewed.ca_cert, material.ca_cert,
        "same CA: the caBundle stays"
    );
    assert_ne!(renewed.cert, material.cert);
    let validity = renewed.serving_validity().expect("validity");
    assert!(validity.not_after >= later + 364 * DAY);
}

#[test]
fn a_missing_name_renews_the_serving_certificate() {
    let material = Material::generate(&names(), Lifetimes::default(), NOW).expect("generates");
    let mut more = names();
    more.push("127.0.0.1".into());
    let renewed = material
        .renewed(&more, Lifetimes::default(), NOW)
        .expect("checks")
        .expect("a new name is due");
    assert!(
        renewed
            .renewed(&more, Lifetimes::default(), NOW)
            .expect("checks")
            .is_none()
    );
}

#[test]
fn a_ca_near_its_end_is_replaced_and_the_old_one_stays_trusted() {
    let short = Lifetimes {
        ca: std::time::Duration::from_secs(90 * DAY as u64),
        serving: std::time::Duration::from_secs(30 * DAY as u64),
    };
    let material = Material::generate(&names(), short, NOW).expect("generates");
    let later = NOW + 70 * DAY;
    let renewed = material
        .renewed(&names(), short, later)
        .expect("checks")
        .expect("CA due");
    assert_ne!(renewed.ca_key, material.ca_key);
    assert!(
        renewed
            .ca_cert
            .starts_with(&pem_blocks(&renewed.ca_cert)[0])
    );
    assert_eq!(
        pem_blocks(&renewed.ca_cert).len(),
        2,
        "new CA first, old CA kept"
    );
    assert_eq!(
        pem_blocks(&renewed.ca_cert)[1],
        pem_blocks(&material.ca_cert)[0]
    );
    // Once the old CA expired it is dropped at the next rotation.
    let much_later = later + 80 * DAY;
    let again = renewed
        .renewed(&names(), short, much_later)
        .expect("checks")
        .expect("due again");
    assert!(
        pem_blocks(&again.ca_cert)
            .iter()
            .all(|b| *b != pem_blocks(&material.ca_cert)[0])
    );
}

#[test]
fn unusable_secret_data_names_the_key() {
    let mut data = Material::generate(&names(), Lifetimes::default(), NOW)
        .expect("generates")
        .to_secret_data();
    data.remove(TLS_KEY);
    let error = Material::from_secret_data(&data).expect_err("missing key");
    assert!(error.to_string().contains("tls.key"), "{error}");
    data.insert(TLS_KEY.into(), ByteString(b"x".to_vec()));
    data.insert(TLS_CERT.into(), ByteString(b"not a pem".to_vec()));
    let error = Material::from_secret_data(&data).expect_err("bad cert");
    assert!(error.to_string().contains("tls.crt"), "{error}");
}
