//! Parsing and validation: policy files in, a [`Policy`] or every problem out.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use crate::catalog::{self, CONTROLS, CisVersion, DECLARED_CONTROL_ID_PATTERN};
use crate::date::Date;
use crate::error::{Location, PolicyError, PolicyErrors, PolicyWarning};
use crate::model::{
    Action, ControlPolicy, DeclaredControl, Exception, Override, Plugin, Policy, Settings,
    TagMatch, ou_segments,
};
use crate::raw::{self, ParamValue, PolicyFile};
use hubfix_finding::ocsf::asff_resource_type;

impl Policy {
    /// Parses and validates a policy from its files, each given as `(name, text)`: every
    /// `*.toml` file of the policy directory, named as the user should see them in errors
    /// (e.g. `policies/plugins.toml`). The caller reads the files; this does no I/O.
    ///
    /// Returns every problem found, each naming the file, the line and the entry.
    pub fn from_files<N: AsRef<str>, T: AsRef<str>>(
        files: &[(N, T)],
    ) -> Result<Self, PolicyErrors> {
        let sources: Vec<Source<'_>> = files
            .iter()
            .map(|(name, text)| Source {
                name: name.as_ref(),
                text: text.as_ref(),
            })
            .collect();
        Loader {
            sources: &sources,
            errors: Vec::new(),
            warnings: Vec::new(),
            declared: BTreeMap::new(),
        }
        .load()
    }

    /// Parses and validates a policy held in one file. See [`Policy::from_files`].
    pub fn from_toml(name: &str, text: &str) -> Result<Self, PolicyErrors> {
        Self::from_files(&[(name, text)])
    }
}

struct Source<'a> {
    name: &'a str,
    text: &'a str,
}

/// Something defined in one file, with where.
struct At<T> {
    file: usize,
    span: Range<usize>,
    value: T,
}

struct Loader<'a> {
    sources: &'a [Source<'a>],
    errors: Vec<(usize, PolicyError)>,
    warnings: Vec<PolicyWarning>,
    /// The controls the policy declares, known once [`Loader::declarations`] ran: lists of
    /// controls (plugins, exceptions, overrides) may name them.
    declared: BTreeMap<String, DeclaredControl>,
}

impl Loader<'_> {
    fn location(&self, file: usize, span: &Range<usize>) -> Location {
        let source = &self.sources[file];
        let end = span.start.min(source.text.len());
        let line = source.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        Location {
            file: source.name.to_owned(),
            line,
        }
    }

    fn error(&mut self, file: usize, span: &Range<usize>, entry: &str, message: impl Into<String>) {
        let location = self.location(file, span);
        self.errors.push((
            file,
            PolicyError {
                location: Some(location),
                entry: Some(entry.to_owned()),
                message: message.into(),
            },
        ));
    }

    fn load(mut self) -> Result<Policy, PolicyErrors> {
        if self.sources.is_empty() {
            return Err(PolicyErrors(vec![PolicyError {
                location: None,
                entry: None,
                message: "no policy files: a policy needs at least one .toml file".to_owned(),
            }]));
        }
        let mut parsed = Vec::new();
        for (index, source) in self.sources.iter().enumerate() {
            match toml::from_str::<PolicyFile>(source.text) {
                Ok(file) => parsed.push((index, file)),
                Err(err) => {
                    let span = err.span().unwrap_or(0..0);
                    let location = self.location(index, &span);
                    self.errors.push((
                        index,
                        PolicyError {
                            location: Some(location),
                            entry: entry_at(source.text, span.start),
                            message: toml_message(err.message()),
                        },
                    ));
                }
            }
        }
        let policy = self.build(parsed);
        if self.errors.is_empty() {
            Ok(policy)
        } else {
            // Stable sort: file order, then line, then the order problems were found.
            self.errors.sort_by(|(fa, a), (fb, b)| {
                let la = a.location.as_ref().map_or(0, |l| l.line);
                let lb = b.location.as_ref().map_or(0, |l| l.line);
                (fa, la).cmp(&(fb, lb))
            });
            // An override's parameter is checked once per control it lists: report it once.
            self.errors.dedup();
            Err(PolicyErrors(
                self.errors.into_iter().map(|(_, e)| e).collect(),
            ))
        }
    }

    fn build(&mut self, parsed: Vec<(usize, PolicyFile)>) -> Policy {
        // Gather every entry of every file, refusing duplicates.
        let mut settings: Option<At<raw::Settings>> = None;
        let mut plugins: BTreeMap<String, At<raw::PluginEntry>> = BTreeMap::new();
        let mut controls: BTreeMap<String, At<raw::ControlEntry>> = BTreeMap::new();
        let mut accounts: BTreeMap<String, At<Spanned<String>>> = BTreeMap::new();
        let mut exceptions: Vec<(usize, raw::ExceptionEntry)> = Vec::new();
        let mut overrides: Vec<(usize, raw::OverrideEntry)> = Vec::new();

        for (file, content) in parsed {
            if let Some(s) = content.settings {
                let span = s.span();
                if let Some(first) = &settings {
                    let first_at = self.location(first.file, &first.span);
                    self.error(
                        file,
                        &span,
                        "settings",
                        format!("[settings] defined twice (first at {first_at})"),
                    );
                } else {
                    settings = Some(At {
                        file,
                        span,
                        value: s.into_inner(),
                    });
                }
            }
            for (name, entry) in content.plugins {
                let entry_name = format!("plugins.{}", toml_key(name.get_ref()));
                self.insert_unique(&mut plugins, file, name, entry, &entry_name, "plugin");
            }
            for (id, entry) in content.controls {
                let entry_name = format!("controls.{}", toml_key(id.get_ref()));
                self.insert_unique(&mut controls, file, id, entry, &entry_name, "control");
            }
            for (id, ou) in content.accounts {
                let entry_name = format!("accounts.{}", toml_key(id.get_ref()));
                self.insert_unique(&mut accounts, file, id, ou, &entry_name, "account");
            }
            exceptions.extend(content.exceptions.into_iter().map(|e| (file, e)));
            overrides.extend(content.overrides.into_iter().map(|o| (file, o)));
        }

        let settings = self.settings(settings);
        self.declarations(&controls);
        let plugins = self.plugins(plugins);
        let controls = self.controls(controls, &plugins);
        let accounts = self.accounts(accounts);
        let exceptions = self.exceptions(exceptions);
        let overrides = self.overrides(overrides, &controls, &plugins);
        Policy {
            settings,
            plugins,
            controls,
            declared: std::mem::take(&mut self.declared),
            accounts,
            exceptions,
            overrides,
            load_warnings: std::mem::take(&mut self.warnings),
        }
    }

    fn knows(&self, control: &str) -> bool {
        catalog::control(control).is_some() || self.declared.contains_key(control)
    }

    /// Reads the `declare` tables of the control entries: controls the catalog lacks become
    /// declared controls; a `declare` on a catalog control is refused where it disagrees with
    /// the catalog and warned about where it repeats it.
    fn declarations(&mut self, controls: &BTreeMap<String, At<raw::ControlEntry>>) {
        // (version, CIS id) → the declared control that has it.
        let mut cis_taken: BTreeMap<(CisVersion, String), String> = BTreeMap::new();
        for (id, At { file, span, value }) in controls {
            let file = *file;
            let Some(declare) = &value.declare else {
                continue;
            };
            let entry = format!("controls.{}.declare", toml_key(id));
            let dspan = declare.span();
            let d = declare.get_ref();

            let title = d.title.as_ref().and_then(|t| {
                let text = t.get_ref().trim();
                if text.is_empty() {
                    self.error(file, &t.span(), &entry, "title must not be empty: omit it");
                    None
                } else {
                    Some(text.to_owned())
                }
            });

            let mut resource_types: Vec<String> = Vec::new();
            for t in &d.resource_types {
                let text = t.get_ref().trim();
                if text.contains("::") {
                    self.error(
                        file,
                        &t.span(),
                        &entry,
                        format!(
                            "`{text}` is an AWS Config type: write the ASFF resource type (`{}`)",
                            asff_resource_type(text)
                        ),
                    );
                } else if !catalog::looks_like_resource_type(text) {
                    self.error(
                        file,
                        &t.span(),
                        &entry,
                        format!(
                            "`{text}` is not an ASFF resource type (such as `AwsS3Bucket`: matching {})",
                            catalog::RESOURCE_TYPE_PATTERN
                        ),
                    );
                } else if resource_types.iter().any(|x| x == text) {
                    self.error(
                        file,
                        &t.span(),
                        &entry,
                        format!("resource type `{text}` listed twice"),
                    );
                } else {
                    resource_types.push(text.to_owned());
                }
            }
            if d.resource_types.is_empty() {
                self.error(
                    file,
                    &dspan,
                    &entry,
                    "resource-types must name at least one ASFF resource type the control's findings name (such as `AwsS3Bucket`)",
                );
            }

            let mut cis: BTreeMap<CisVersion, (String, Range<usize>)> = BTreeMap::new();
            for (version, cis_id) in &d.cis {
                let v = version.get_ref().trim();
                let Some(parsed) = CisVersion::parse(v) else {
                    let known: Vec<&str> = CisVersion::ALL.iter().map(|v| v.as_str()).collect();
                    self.error(
                        file,
                        &version.span(),
                        &entry,
                        format!(
                            "unknown CIS version `{v}` in cis (hubfix knows {})",
                            known.join(", ")
                        ),
                    );
                    continue;
                };
                let text = cis_id.get_ref().trim();
                if !catalog::looks_like_cis_id(text) {
                    self.error(
                        file,
                        &cis_id.span(),
                        &entry,
                        format!(
                            "`{text}` is not a CIS id (numbers joined by `.`, such as `2.1.9`)"
                        ),
                    );
                    continue;
                }
                if cis.contains_key(&parsed) {
                    // Two spellings of one version (`"3.0.0"` and `" 3.0.0"`).
                    self.error(
                        file,
                        &version.span(),
                        &entry,
                        format!("CIS version {parsed} given twice"),
                    );
                    continue;
                }
                cis.insert(parsed, (text.to_owned(), cis_id.span()));
            }

            if let Some(c) = catalog::control(id) {
                let mut differences = Vec::new();
                if let Some(t) = &title
                    && t != c.title
                {
                    differences.push(format!("title `{t}` (the catalog: `{}`)", c.title));
                }
                let mut ours = resource_types.clone();
                ours.sort();
                let mut theirs: Vec<String> =
                    c.resource_types().into_iter().map(str::to_owned).collect();
                theirs.sort();
                if !d.resource_types.is_empty() && ours != theirs {
                    differences.push(format!(
                        "resource-types {} (the catalog: {})",
                        ours.join(", "),
                        if theirs.is_empty() {
                            "none known".to_owned()
                        } else {
                            theirs.join(", ")
                        }
                    ));
                }
                for (version, (cis_id, _)) in &cis {
                    let ids = c.cis_ids(*version);
                    if !ids
                        .iter()
                        .any(|x| x.control == cis_id || x.requirement == cis_id)
                    {
                        let theirs: Vec<&str> = ids.iter().map(|x| x.control).collect();
                        differences.push(format!(
                            "CIS v{version} `{cis_id}` (the catalog: {})",
                            if theirs.is_empty() {
                                format!("not in v{version}")
                            } else {
                                theirs.join(", ")
                            }
                        ));
                    }
                }
                if differences.is_empty() {
                    let location = self.location(file, &dspan);
                    self.warnings.push(PolicyWarning {
                        location,
                        entry,
                        message: format!(
                            "`declare` repeats what the built-in catalog has for {id}: remove it"
                        ),
                    });
                } else {
                    self.error(
                        file,
                        &dspan,
                        &entry,
                        format!(
                            "`declare` disagrees with the built-in catalog's {id}: {}; remove `declare` (the catalog already has {id})",
                            differences.join("; ")
                        ),
                    );
                }
                continue;
            }

            let control_entry = format!("controls.{}", toml_key(id));
            if let Some(c) = CONTROLS.iter().find(|c| c.id.eq_ignore_ascii_case(id)) {
                self.error(
                    file,
                    span,
                    &control_entry,
                    format!(
                        "`{id}` differs from the catalog's `{}` only in case: control ids are case-sensitive, so write `{}` (and no `declare`)",
                        c.id, c.id
                    ),
                );
            } else if !catalog::is_declarable_control_id(id) {
                self.error(
                    file,
                    span,
                    &control_entry,
                    format!(
                        "`{id}` cannot be declared: a declared control id is a Security Hub control id (such as `S3.99`) matching {DECLARED_CONTROL_ID_PATTERN}"
                    ),
                );
            }
            for (version, (cis_id, cis_span)) in &cis {
                if let Some(owner) = catalog::cis_id_owner(*version, cis_id) {
                    self.error(
                        file,
                        cis_span,
                        &entry,
                        format!(
                            "CIS v{version} `{cis_id}` is already {} in the built-in catalog",
                            owner.id
                        ),
                    );
                } else if let Some(other) = cis_taken.get(&(*version, cis_id.clone())) {
                    let other = other.clone();
                    self.error(
                        file,
                        cis_span,
                        &entry,
                        format!("CIS v{version} `{cis_id}` is already declared for {other}"),
                    );
                } else {
                    cis_taken.insert((*version, cis_id.clone()), id.clone());
                }
            }
            let location = self.location(file, &dspan);
            self.declared.insert(
                id.clone(),
                DeclaredControl {
                    id: id.clone(),
                    title,
                    resource_types,
                    cis: cis.into_iter().map(|(v, (id, _))| (v, id)).collect(),
                    location,
                },
            );
        }
    }

    fn insert_unique<T>(
        &mut self,
        map: &mut BTreeMap<String, At<T>>,
        file: usize,
        key: Spanned<String>,
        value: T,
        entry: &str,
        what: &str,
    ) {
        let span = key.span();
        let key = key.into_inner();
        if let Some(first) = map.get(&key) {
            let first_at = self.location(first.file, &first.span);
            self.error(
                file,
                &span,
                entry,
                format!("{what} defined twice (first at {first_at})"),
            );
            return;
        }
        map.insert(key, At { file, span, value });
    }

    fn settings(&mut self, settings: Option<At<raw::Settings>>) -> Settings {
        let Some(At { file, span, value }) = settings else {
            return Settings::default();
        };
        let unknown_controls = match value.unknown_controls {
            Some(raw::UnknownControls::Ignore) => Action::Ignore,
            Some(raw::UnknownControls::Notify) | None => Action::Notify,
        };
        let Some(statuses) = value.workflow_statuses else {
            return Settings {
                unknown_controls,
                ..Settings::default()
            };
        };
        if statuses.is_empty() {
            self.error(
                file,
                &span,
                "settings",
                "workflow-statuses must not be empty: omit it for the default [\"NEW\"]",
            );
            return Settings {
                unknown_controls,
                ..Settings::default()
            };
        }
        let mut out = Vec::new();
        for status in statuses {
            let s = *status.get_ref();
            if out.contains(&s) {
                self.error(
                    file,
                    &status.span(),
                    "settings.workflow-statuses",
                    format!("`{}` listed twice", s.as_str()),
                );
            } else {
                out.push(s);
            }
        }
        Settings {
            workflow_statuses: out,
            unknown_controls,
        }
    }

    fn plugins(
        &mut self,
        plugins: BTreeMap<String, At<raw::PluginEntry>>,
    ) -> BTreeMap<String, Plugin> {
        let mut out = BTreeMap::new();
        for (name, At { file, span, value }) in plugins {
            let entry = format!("plugins.{}", toml_key(&name));
            if !is_kebab(&name) {
                self.error(
                    file,
                    &span,
                    &entry,
                    "plugin names are lowercase letters and digits joined by `-`",
                );
            }
            let version = value.version.get_ref().trim();
            if !is_version(version) {
                self.error(
                    file,
                    &value.version.span(),
                    &entry,
                    format!("version `{version}` is not a semantic version (MAJOR.MINOR.PATCH)"),
                );
            }
            let sha256 = value.sha256.as_ref().map(|s| s.get_ref().trim().to_owned());
            if let (Some(digest), Some(spanned)) = (&sha256, &value.sha256)
                && !is_sha256(digest)
            {
                self.error(
                    file,
                    &spanned.span(),
                    &entry,
                    "sha256 must be 64 lowercase hex digits",
                );
            }
            if value.controls.is_empty() {
                self.error(
                    file,
                    &span,
                    &entry,
                    "`controls` must name the controls the plugin remediates",
                );
            }
            let controls = self.control_list(file, &entry, &value.controls);
            let mut grants = Vec::new();
            for grant in &value.grants {
                let g = grant.get_ref().trim();
                if hubfix_contract::lookup(g).is_none() {
                    self.error(file, &grant.span(), &entry, unknown_function(g));
                } else if grants.iter().any(|x: &String| x == g) {
                    self.error(
                        file,
                        &grant.span(),
                        &entry,
                        format!("grant `{g}` listed twice"),
                    );
                } else {
                    grants.push(g.to_owned());
                }
            }
            let mut params = BTreeMap::new();
            for (key, ParamValue(v)) in value.params {
                if !is_kebab(key.get_ref()) {
                    self.error(
                        file,
                        &key.span(),
                        &entry,
                        format!(
                            "parameter name `{}` is not lowercase words joined by `-`",
                            key.get_ref()
                        ),
                    );
                }
                params.insert(key.into_inner(), v);
            }
            let mut optional_params: Vec<String> = Vec::new();
            for key in &value.optional_params {
                let k = key.get_ref().trim();
                if !is_kebab(k) {
                    self.error(
                        file,
                        &key.span(),
                        &entry,
                        format!("parameter name `{k}` is not lowercase words joined by `-`"),
                    );
                } else if params.contains_key(k) {
                    self.error(
                        file,
                        &key.span(),
                        &entry,
                        format!("parameter `{k}` is in both params and optional-params"),
                    );
                } else if optional_params.iter().any(|p| p == k) {
                    self.error(
                        file,
                        &key.span(),
                        &entry,
                        format!("parameter `{k}` listed twice"),
                    );
                } else {
                    optional_params.push(k.to_owned());
                }
            }
            let location = self.location(file, &span);
            out.insert(
                name.clone(),
                Plugin {
                    name,
                    version: version.to_owned(),
                    sha256,
                    controls,
                    acted_on: hubfix_contract::acted_on(&grants),
                    grants,
                    params,
                    optional_params,
                    location,
                },
            );
        }
        out
    }

    /// Checks a list of control ids: each known, none twice.
    fn control_list(&mut self, file: usize, entry: &str, list: &[Spanned<String>]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for id in list {
            let c = id.get_ref().trim();
            if !self.knows(c) {
                self.error(file, &id.span(), entry, unknown_control(c));
            } else if out.iter().any(|x| x == c) {
                self.error(
                    file,
                    &id.span(),
                    entry,
                    format!("control `{c}` listed twice"),
                );
            } else {
                out.push(c.to_owned());
            }
        }
        out
    }

    /// Checks parameters against the plugin's declared ones.
    fn params(
        &mut self,
        file: usize,
        entry: &str,
        params: BTreeMap<Spanned<String>, ParamValue>,
        plugin: Option<&Plugin>,
        context: &str,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (key, ParamValue(value)) in params {
            match plugin {
                None => {
                    self.error(
                        file,
                        &key.span(),
                        entry,
                        format!(
                            "parameter `{}` given but {context} has no plugin",
                            key.get_ref()
                        ),
                    );
                }
                Some(p) if !p.takes(key.get_ref()) => {
                    let names = p.param_names();
                    let known = if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    };
                    self.error(
                        file,
                        &key.span(),
                        entry,
                        format!(
                            "plugin `{}` has no parameter `{}` (it takes: {known})",
                            p.name,
                            key.get_ref()
                        ),
                    );
                }
                Some(_) => {
                    out.insert(key.into_inner(), value);
                }
            }
        }
        out
    }

    /// Checks that a plugin exists and remediates a control.
    fn plugin_for<'p>(
        &mut self,
        file: usize,
        span: &Range<usize>,
        entry: &str,
        name: &str,
        control: &str,
        plugins: &'p BTreeMap<String, Plugin>,
    ) -> Option<&'p Plugin> {
        let Some(plugin) = plugins.get(name) else {
            let known = plugins
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            self.error(
                file,
                span,
                entry,
                format!(
                    "unknown plugin `{name}` (plugins defined: {})",
                    if known.is_empty() { "none" } else { &known }
                ),
            );
            return None;
        };
        if !plugin.controls.iter().any(|c| c == control) {
            self.error(
                file,
                span,
                entry,
                format!(
                    "plugin `{name}` does not remediate {control} (it lists: {})",
                    plugin.controls.join(", ")
                ),
            );
        }
        Some(plugin)
    }

    fn controls(
        &mut self,
        controls: BTreeMap<String, At<raw::ControlEntry>>,
        plugins: &BTreeMap<String, Plugin>,
    ) -> BTreeMap<String, ControlPolicy> {
        let mut out = BTreeMap::new();
        for (id, At { file, span, value }) in controls {
            let entry = format!("controls.{}", toml_key(&id));
            if !self.knows(&id) {
                self.error(file, &span, &entry, unknown_control(&id));
                continue;
            }
            let reason = value.reason.get_ref().trim().to_owned();
            if reason.is_empty() {
                self.error(
                    file,
                    &value.reason.span(),
                    &entry,
                    "reason must not be empty",
                );
            }
            let action = *value.action.get_ref();
            let plugin = match &value.plugin {
                Some(name) => self
                    .plugin_for(
                        file,
                        &name.span(),
                        &entry,
                        name.get_ref().trim(),
                        &id,
                        plugins,
                    )
                    .map(|p| p.name.clone()),
                None => {
                    if action == Action::Remediate {
                        self.error(
                            file,
                            &value.action.span(),
                            &entry,
                            "action is remediate but no plugin is named",
                        );
                    }
                    None
                }
            };
            let params = self.params(
                file,
                &entry,
                value.params,
                plugin.as_deref().and_then(|p| plugins.get(p)),
                "the control",
            );
            let location = self.location(file, &span);
            out.insert(
                id.clone(),
                ControlPolicy {
                    control: id,
                    action,
                    reason,
                    plugin,
                    params,
                    location,
                },
            );
        }
        out
    }

    fn accounts(
        &mut self,
        accounts: BTreeMap<String, At<Spanned<String>>>,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (id, At { file, span, value }) in accounts {
            let entry = format!("accounts.{}", toml_key(&id));
            if !is_account_id(&id) {
                self.error(
                    file,
                    &span,
                    &entry,
                    format!("`{id}` is not a 12-digit account id"),
                );
                continue;
            }
            let ou = ou_segments(value.get_ref()).join("/");
            if ou.is_empty() {
                self.error(file, &value.span(), &entry, "the OU path must not be empty");
                continue;
            }
            out.insert(id, ou);
        }
        out
    }

    fn accounts_and_ous(
        &mut self,
        file: usize,
        entry: &str,
        accounts: &[Spanned<String>],
        ous: &[Spanned<String>],
    ) -> (Vec<String>, Vec<String>) {
        let mut out_accounts = Vec::new();
        for a in accounts {
            let id = a.get_ref().trim();
            if is_account_id(id) {
                out_accounts.push(id.to_owned());
            } else {
                self.error(
                    file,
                    &a.span(),
                    entry,
                    format!("`{id}` is not a 12-digit account id"),
                );
            }
        }
        let mut out_ous = Vec::new();
        for ou in ous {
            let path = ou_segments(ou.get_ref()).join("/");
            if path.is_empty() {
                self.error(file, &ou.span(), entry, "an OU path must not be empty");
            } else {
                out_ous.push(path);
            }
        }
        (out_accounts, out_ous)
    }

    fn optional_controls(
        &mut self,
        file: usize,
        entry: &str,
        id_span: &Range<usize>,
        controls: Option<&[Spanned<String>]>,
    ) -> Option<Vec<String>> {
        let list = controls?;
        if list.is_empty() {
            self.error(
                file,
                id_span,
                entry,
                "`controls` is empty: omit it to cover every control",
            );
        }
        Some(self.control_list(file, entry, list))
    }

    fn exceptions(&mut self, exceptions: Vec<(usize, raw::ExceptionEntry)>) -> Vec<Exception> {
        let mut out = Vec::new();
        let mut seen: BTreeMap<String, Location> = BTreeMap::new();
        for (index, (file, e)) in exceptions.into_iter().enumerate() {
            let id = e.id.get_ref().trim().to_owned();
            let id_span = e.id.span();
            let entry = format!("exceptions[{index}] ({id})");
            let location = self.location(file, &id_span);
            if id.is_empty() {
                self.error(file, &id_span, &entry, "id must not be empty");
            } else if let Some(first) = seen.get(&id) {
                let first = first.clone();
                self.error(
                    file,
                    &id_span,
                    &entry,
                    format!("exception id `{id}` used twice (first at {first})"),
                );
            } else {
                seen.insert(id.clone(), location.clone());
            }
            let reason = e.reason.get_ref().trim().to_owned();
            if reason.is_empty() {
                self.error(file, &e.reason.span(), &entry, "reason must not be empty");
            }
            let controls = self.optional_controls(file, &entry, &id_span, e.controls.as_deref());
            let (accounts, ous) = self.accounts_and_ous(file, &entry, &e.accounts, &e.ous);
            let mut tags = Vec::new();
            for tag in e.tags {
                let key = tag.key.get_ref().trim();
                if key.is_empty() {
                    self.error(file, &tag.key.span(), &entry, "a tag key must not be empty");
                } else {
                    tags.push(TagMatch {
                        key: key.to_owned(),
                        value: tag.value,
                    });
                }
            }
            let mut resources = Vec::new();
            for pattern in &e.resources {
                let p = pattern.get_ref().trim();
                if p.is_empty() {
                    self.error(
                        file,
                        &pattern.span(),
                        &entry,
                        "a resource pattern must not be empty",
                    );
                } else {
                    resources.push(p.to_owned());
                }
            }
            if e.accounts.is_empty()
                && e.ous.is_empty()
                && tags.is_empty()
                && e.resources.is_empty()
            {
                self.error(
                    file,
                    &id_span,
                    &entry,
                    "an exception needs at least one condition: accounts, ous, tags or resources",
                );
            }
            let expires = e.expires.as_ref().and_then(|d| {
                let date = d.get_ref();
                let converted = Date::new(i32::from(date.year), date.month, date.day);
                if converted.is_none() {
                    self.error(
                        file,
                        &d.span(),
                        &entry,
                        format!("`{date}` is not a valid date"),
                    );
                }
                converted
            });
            let action = match &e.action {
                Some(a) if *a.get_ref() == Action::Remediate => {
                    self.error(
                        file,
                        &a.span(),
                        &entry,
                        "an exception cannot remediate: use suppress, notify or ignore (overrides turn remediation on)",
                    );
                    Action::Suppress
                }
                Some(a) => *a.get_ref(),
                None => Action::Suppress,
            };
            out.push(Exception {
                id,
                reason,
                controls,
                accounts,
                ous,
                tags,
                resources,
                expires,
                action,
                location,
                entry,
            });
        }
        out
    }

    fn overrides(
        &mut self,
        overrides: Vec<(usize, raw::OverrideEntry)>,
        controls: &BTreeMap<String, ControlPolicy>,
        plugins: &BTreeMap<String, Plugin>,
    ) -> Vec<Override> {
        let mut out = Vec::new();
        let mut seen: BTreeMap<String, Location> = BTreeMap::new();
        for (index, (file, o)) in overrides.into_iter().enumerate() {
            let id = o.id.get_ref().trim().to_owned();
            let id_span = o.id.span();
            let entry = format!("overrides[{index}] ({id})");
            let location = self.location(file, &id_span);
            if id.is_empty() {
                self.error(file, &id_span, &entry, "id must not be empty");
            } else if let Some(first) = seen.get(&id) {
                let first = first.clone();
                self.error(
                    file,
                    &id_span,
                    &entry,
                    format!("override id `{id}` used twice (first at {first})"),
                );
            } else {
                seen.insert(id.clone(), location.clone());
            }
            let reason = o.reason.get_ref().trim().to_owned();
            if reason.is_empty() {
                self.error(file, &o.reason.span(), &entry, "reason must not be empty");
            }
            let (accounts, ous) = self.accounts_and_ous(file, &entry, &o.accounts, &o.ous);
            if o.accounts.is_empty() && o.ous.is_empty() {
                self.error(file, &id_span, &entry, "an override needs accounts or ous");
            }
            let action = o.action.as_ref().map(|a| *a.get_ref());
            if action.is_none() && o.plugin.is_none() && o.params.is_empty() {
                self.error(
                    file,
                    &id_span,
                    &entry,
                    "an override must change the action, the plugin or params",
                );
            }
            let listed = self.optional_controls(file, &entry, &id_span, o.controls.as_deref());
            let plugin_name = o.plugin.as_ref().map(|p| p.get_ref().trim().to_owned());
            let mut params = BTreeMap::new();
            match &listed {
                None => {
                    if action == Some(Action::Remediate)
                        || o.plugin.is_some()
                        || !o.params.is_empty()
                    {
                        self.error(
                            file,
                            &id_span,
                            &entry,
                            "an override that sets action = \"remediate\", a plugin or params must list its controls",
                        );
                    }
                }
                Some(list) => {
                    for control in list {
                        let Some(policy) = controls.get(control) else {
                            let span = o
                                .controls
                                .iter()
                                .flatten()
                                .find(|c| c.get_ref().trim() == control)
                                .map_or(id_span.clone(), Spanned::span);
                            self.error(
                                file,
                                &span,
                                &entry,
                                format!(
                                    "control `{control}` has no entry in [controls] to override"
                                ),
                            );
                            continue;
                        };
                        let plugin = match (&o.plugin, &plugin_name) {
                            (Some(spanned), Some(name)) => self.plugin_for(
                                file,
                                &spanned.span(),
                                &entry,
                                name,
                                control,
                                plugins,
                            ),
                            _ => policy.plugin.as_deref().and_then(|p| plugins.get(p)),
                        };
                        if action == Some(Action::Remediate)
                            && plugin.is_none()
                            && o.plugin.is_none()
                        {
                            let span = o.action.as_ref().map_or(id_span.clone(), Spanned::span);
                            self.error(
                                file,
                                &span,
                                &entry,
                                format!("action is remediate but control `{control}` has no plugin: name one in the override or the control"),
                            );
                        }
                        let context = format!("control `{control}`");
                        let checked = self.params(file, &entry, o.params.clone(), plugin, &context);
                        params.extend(checked);
                    }
                }
            }
            out.push(Override {
                id,
                reason,
                controls: listed,
                accounts,
                ous,
                action,
                plugin: plugin_name,
                params,
                location,
                entry,
            });
        }
        out
    }
}

/// The entry a byte offset falls in: the last table header before it (`[controls."EC2.53"]`
/// → `controls."EC2.53"`, the third `[[exceptions]]` → `exceptions[2]`).
fn entry_at(text: &str, offset: usize) -> Option<String> {
    // Up to the end of the offset's line, so that an error on a header line names it.
    let start = offset.min(text.len());
    let end = text
        .get(start..)
        .and_then(|rest| rest.find('\n'))
        .map_or(text.len(), |i| start + i);
    let before = text.get(..end)?;
    let mut entry = None;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for line in before.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("[[").and_then(|l| l.split("]]").next()) {
            let name = name.trim().to_owned();
            let n = counts.entry(name.clone()).or_insert(0);
            entry = Some(format!("{name}[{n}]"));
            *n += 1;
        } else if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            entry = Some(name.trim().to_owned());
        }
    }
    entry
}

/// A toml error message, with a hint where the usual mistake is known.
fn toml_message(message: &str) -> String {
    let message = message.trim().trim_end_matches('.').to_owned();
    if message.contains("expected a TOML datetime") {
        return format!("{message}: write dates unquoted, as TOML dates (expires = 2026-06-30)");
    }
    message
}

fn unknown_control(id: &str) -> String {
    if let Some(c) = CONTROLS.iter().find(|c| c.id.eq_ignore_ascii_case(id)) {
        return format!(
            "unknown control `{id}`: not in the built-in catalog (did you mean `{}`?)",
            c.id
        );
    }
    if catalog::is_declarable_control_id(id) {
        format!(
            "unknown control `{id}`: not in the built-in catalog and not declared (declare it with a [controls.{}.declare] table naming its resource-types)",
            toml_key(id)
        )
    } else {
        format!(
            "unknown control `{id}`: not in the built-in catalog, and not a Security Hub control id that could be declared ({DECLARED_CONTROL_ID_PATTERN})"
        )
    }
}

/// A TOML key as written in a dotted path: bare when it can be, quoted otherwise.
fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

fn is_kebab(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

fn is_version(version: &str) -> bool {
    let (core, pre) = match version.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (version, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && pre.is_none_or(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        })
}

fn is_sha256(digest: &str) -> bool {
    digest.len() == 64
        && digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub(crate) use hubfix_finding::is_account_id;

/// The error for a grant naming no host function: the functions of its interface, or the
/// interfaces when that is unknown too (`hubfix functions` lists them all).
fn unknown_function(name: &str) -> String {
    let functions = crate::host_functions();
    let interface = name.split_once('.').map_or(name, |(i, _)| i);
    let same: Vec<&str> = functions
        .iter()
        .copied()
        .filter(|f| f.split_once('.').is_some_and(|(i, _)| i == interface))
        .collect();
    if same.is_empty() {
        let mut interfaces: Vec<&str> = functions
            .iter()
            .filter_map(|f| f.split_once('.').map(|(i, _)| i))
            .collect();
        interfaces.dedup();
        format!(
            "unknown host function `{name}` in grants (no interface `{interface}`; the host's \
             interfaces: {}; `hubfix functions` lists every function)",
            interfaces.join(", ")
        )
    } else {
        format!(
            "unknown host function `{name}` in grants (`{interface}` provides: {}; `hubfix \
             functions` lists every function)",
            same.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_from_headers() {
        let text = "[settings]\nx = 1\n[[exceptions]]\nid = \"a\"\n[[exceptions]]\nid = \"b\"\n[controls.\"EC2.53\"]\naction = 1\n";
        assert_eq!(entry_at(text, 3).as_deref(), Some("settings"));
        assert_eq!(
            entry_at(text, text.find("id = \"b\"").unwrap()).as_deref(),
            Some("exceptions[1]")
        );
        assert_eq!(
            entry_at(text, text.len()).as_deref(),
            Some("controls.\"EC2.53\"")
        );
        assert_eq!(entry_at("x = 1\n[a]", 0), None);
    }

    #[test]
    fn names_and_versions() {
        assert!(is_kebab("ec2-restrict-admin-ports"));
        assert!(!is_kebab("Ec2"));
        assert!(!is_kebab("a--b"));
        assert!(is_version("0.1.0"));
        assert!(is_version("1.2.3-rc.1"));
        assert!(!is_version("1.2"));
        assert!(!is_version("v1.2.3"));
        assert_eq!(toml_key("EC2.53"), "\"EC2.53\"");
        assert_eq!(toml_key("iam-password-policy"), "iam-password-policy");
    }
}
