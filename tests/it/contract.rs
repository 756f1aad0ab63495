use std::collections::BTreeSet;

/// The policy crate validates grants against its own list of host functions (it knows
/// nothing of the host); this keeps that list and the host's table the same.
#[test]
fn the_policy_grants_exactly_the_host_functions() {
    let host: BTreeSet<&str> = hubfix_host::HOST_FUNCTIONS.iter().map(|f| f.name).collect();
    let policy: BTreeSet<&str> = hubfix_policy::HOST_FUNCTIONS.iter().copied().collect();
    assert_eq!(host, policy);
}

/// Every plugin of the shipped policy is granted exactly what the integration tests grant
/// it, which is exactly what its component imports (checked in `capability`).
#[test]
fn the_shipped_policy_grants_match_the_plugins() {
    let policy = hubfix_policy::Policy::shipped().expect("shipped policy");
    for spec in [
        &hubfix_tests::IAM_PASSWORD_POLICY,
        &hubfix_tests::EC2_RESTRICT_ADMIN_PORTS,
        &hubfix_tests::EC2_DEFAULT_SG_RESTRICT,
        &hubfix_tests::EC2_EBS_DEFAULT_ENCRYPTION,
    ] {
        let plugin = policy.plugin(spec.name).expect(spec.name);
        let mut expected: Vec<&str> = spec.grants.to_vec();
        expected.sort_unstable();
        let mut granted: Vec<&str> = plugin.grants.iter().map(String::as_str).collect();
        granted.sort_unstable();
        assert_eq!(granted, expected, "{}", spec.name);
    }
}
