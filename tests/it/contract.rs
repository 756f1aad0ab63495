use hubfix_tests::PluginSpec;

/// The tests take every plugin's grants and parameters from the shipped policy
/// (`hubfix_tests::PluginSpec`): each shipped plugin is there, granted only functions the
/// host provides. That the grants are exactly what each component imports is checked in
/// `capability`.
#[test]
fn the_shipped_policy_declares_every_shipped_plugin() {
    for spec in [
        &*hubfix_tests::IAM_PASSWORD_POLICY,
        &*hubfix_tests::EC2_RESTRICT_ADMIN_PORTS,
        &*hubfix_tests::EC2_DEFAULT_SG_RESTRICT,
        &*hubfix_tests::EC2_EBS_DEFAULT_ENCRYPTION,
    ] {
        assert_eq!(spec, &PluginSpec::shipped(spec.name).expect(spec.name));
        assert!(!spec.grants.is_empty(), "{}", spec.name);
        hubfix_host::Grants::new(&spec.grants).expect(spec.name);
    }
    // Parameters come along: the admin ports plugin's default ports.
    assert!(
        hubfix_tests::EC2_RESTRICT_ADMIN_PORTS
            .params
            .iter()
            .any(|(k, _)| k == "ports")
    );
}
