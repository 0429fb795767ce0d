//! The policy document: reading, validating, choosing a policy.
//!
//! Everything is checked when the document is loaded, and every problem is
//! reported with its JSON pointer: unknown fields, wrong types, duplicate
//! keys (at any depth) and policy names, invalid scopes and overlapping
//! scopes of equal specificity, dangling trust-store references,
//! unreadable or unparsable certificate and CRL files, invalid identities,
//! impossible signature counts, and levels that could never pass. A loaded
//! [`PolicySet`] cannot be wrong later in a way the file already shows.

use std::path::{Path, PathBuf};

use modelseal_verifier::{Identity, Sigstore, TrustAnchors};
use serde_json::Value;

use crate::content::{self, ContentRules};
use crate::error::{Error, Problem, SymlinkRefusal};
use crate::level::{Action, Actions, Category, Level};
use crate::read::{self, Problems, Ptr};
use crate::rules::{self, AlgorithmRules, RevocationRules};
use crate::scope::{ModelPath, Scope};
use crate::store::{self, TrustStore};
use crate::timestamps::{self, TimestampRules};

/// The document version this modelseal reads.
pub const VERSION: &str = "1";
/// Largest policy file read.
pub const MAX_POLICY_FILE: u64 = 1024 * 1024;
/// Most policies in one document.
pub const MAX_POLICIES: usize = 256;
/// Most scopes in one document (overlap checking is quadratic).
pub const MAX_SCOPES: usize = 1024;
/// Most signatures a policy may require.
pub const MAX_REQUIRED: u64 = 64;

/// One named policy.
#[derive(Debug)]
pub struct Policy {
    name: String,
    pointer: String,
    scopes: Vec<Scope>,
    level: Level,
    actions: Actions,
    trust_stores: Vec<String>,
    anchors: Option<TrustAnchors>,
    sigstore: Option<Sigstore>,
    require_tlog: bool,
    identities: Vec<Identity>,
    required: usize,
    algorithms: AlgorithmRules,
    revocation: RevocationRules,
    content: Option<ContentRules>,
    timestamps: Option<TimestampRules>,
}

impl Policy {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its JSON pointer in the document (`/policies/N`).
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// Its scopes.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// Its level as written.
    pub fn level(&self) -> Level {
        self.level
    }

    /// What it does with each category, after overrides.
    pub fn actions(&self) -> Actions {
        self.actions
    }

    /// Names of the trust stores it uses.
    pub fn trust_store_names(&self) -> &[String] {
        &self.trust_stores
    }

    /// The union of its trust stores' roots (`None` for a skip policy).
    pub fn anchors(&self) -> Option<&TrustAnchors> {
        self.anchors.as_ref()
    }

    /// The Sigstore trusted root of its trust stores, if one is a Sigstore
    /// store (keyless signers, transparency-log entries, timestamps).
    pub fn sigstore(&self) -> Option<&Sigstore> {
        self.sigstore.as_ref()
    }

    /// Whether every signature must carry a transparency-log entry that
    /// verified (`"transparencyLog": "required"`).
    pub fn requires_transparency_log(&self) -> bool {
        self.require_tlog
    }

    /// The trusted identities; [`Identity::Any`] only where `*` was written.
    pub fn identities(&self) -> &[Identity] {
        &self.identities
    }

    /// Distinct trusted signers required.
    pub fn required_signatures(&self) -> usize {
        self.required
    }

    /// Algorithm rules.
    pub fn algorithms(&self) -> &AlgorithmRules {
        &self.algorithms
    }

    /// Revocation sources.
    pub fn revocation(&self) -> &RevocationRules {
        &self.revocation
    }

    /// Content rules (formats, extra globals, level), if the policy has a
    /// `content` section.
    pub fn content(&self) -> Option<&ContentRules> {
        self.content.as_ref()
    }

    /// Timestamp rules (trusted TSA roots, whether a timestamp is
    /// required), if the policy has a `timestamps` section.
    pub fn timestamps(&self) -> Option<&TimestampRules> {
        self.timestamps.as_ref()
    }
}

/// The policy chosen for a model, and the scope that chose it.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    /// The policy.
    pub policy: &'a Policy,
    /// Its most specific scope that covers the model.
    pub scope: &'a Scope,
}

/// A loaded, validated policy document.
#[derive(Debug)]
pub struct PolicySet {
    source: PathBuf,
    stores: Vec<TrustStore>,
    policies: Vec<Policy>,
}

impl PolicySet {
    /// Load and validate the policy file at `path`. Relative paths inside
    /// it are relative to its directory.
    ///
    /// # Errors
    /// [`Error::Read`] when the file cannot be read, [`Error::Invalid`]
    /// listing every problem found.
    pub fn load(path: &Path) -> Result<PolicySet, Error> {
        let read_err = |source| Error::Read {
            path: path.to_owned(),
            source,
        };
        let bytes = modelseal_manifest::read_regular(path, MAX_POLICY_FILE).map_err(read_err)?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Self::from_json(&bytes, dir, path)
    }

    /// Validate a policy document held in memory; relative paths are
    /// resolved against `base_dir`, and errors name `source`.
    ///
    /// # Errors
    /// [`Error::Read`] when `base_dir` cannot be resolved,
    /// [`Error::Invalid`] listing every problem found.
    pub fn from_json(bytes: &[u8], base_dir: &Path, source: &Path) -> Result<PolicySet, Error> {
        let invalid = |problems: Vec<Problem>| Error::Invalid {
            path: source.to_owned(),
            problems,
        };
        let base_path = std::fs::canonicalize(base_dir).map_err(|e| Error::Read {
            path: base_dir.to_owned(),
            source: e,
        })?;
        let base = ModelPath::from_absolute(&base_path).map_err(|reason| {
            invalid(vec![Problem {
                pointer: String::new(),
                reason: format!("the policy's directory: {reason}"),
            }])
        })?;
        if bytes.len() as u64 > MAX_POLICY_FILE {
            return Err(invalid(vec![Problem {
                pointer: String::new(),
                reason: format!("larger than {MAX_POLICY_FILE} bytes"),
            }]));
        }
        let doc = read::parse_strict(bytes).map_err(invalid)?;
        let mut p = Problems::default();
        let set = load_document(&doc, &base_path, &base, source, &mut p);
        match set {
            Some(set) if p.0.is_empty() => Ok(set),
            _ => {
                if p.0.is_empty() {
                    p.add(&Ptr::root(), "invalid policy document");
                }
                Err(invalid(p.0))
            }
        }
    }

    /// The file it was read from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The trust stores, in name order.
    pub fn trust_stores(&self) -> &[TrustStore] {
        &self.stores
    }

    /// The policies, in document order.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The policy for the model at `model`: the one whose most specific
    /// scope covers it.
    ///
    /// # Errors
    /// [`Error::NoPolicy`] when no scope covers it (the model is rejected).
    pub fn select(&self, model: &ModelPath) -> Result<Selection<'_>, Error> {
        self.policies
            .iter()
            .flat_map(|policy| {
                policy
                    .scopes
                    .iter()
                    .filter(|s| s.matches(model))
                    .map(move |scope| Selection { policy, scope })
            })
            .max_by_key(|s| s.scope.rank())
            .ok_or_else(|| Error::NoPolicy {
                model: model.to_string(),
            })
    }

    /// [`PolicySet::select`] for a path on disk, chosen from the path as
    /// given (made absolute lexically, see [`ModelPath::lexical`]), never
    /// from where symbolic links lead.
    ///
    /// # Errors
    /// [`Error::ModelPath`] when the path cannot be read or resolved;
    /// [`Error::Symlink`] when resolving it would select another policy
    /// (or `..` follows a link), or a component below the winning scope's
    /// root is a symbolic link; else as [`PolicySet::select`].
    pub fn select_path(&self, model: &Path) -> Result<(ModelPath, Selection<'_>), Error> {
        let bad = |reason| Error::ModelPath {
            path: model.to_owned(),
            reason,
        };
        let refuse = |reason: SymlinkRefusal| Error::Symlink {
            path: model.to_owned(),
            reason: Box::new(reason),
        };
        let given = ModelPath::lexical(model).map_err(bad)?;
        let resolved = ModelPath::resolve(model).map_err(bad)?;
        if resolved != given {
            // `..` after a link: the lexical path names another place.
            let lexical_target = ModelPath::resolve(&given.to_path_buf()).map_err(bad)?;
            if lexical_target != resolved {
                return Err(refuse(SymlinkRefusal::DotDotFollowsLink {
                    given: given.clone(),
                    resolved: resolved.clone(),
                }));
            }
        }
        let selection = self.select(&given)?;
        if resolved != given {
            match self.select(&resolved) {
                Ok(other) if std::ptr::eq(other.policy, selection.policy) => {}
                Ok(other) => {
                    return Err(refuse(SymlinkRefusal::OtherPolicy {
                        resolved: resolved.clone(),
                        other_policy: other.policy.name().to_owned(),
                        other_scope: other.scope.text().to_owned(),
                        policy: selection.policy.name().to_owned(),
                        scope: selection.scope.text().to_owned(),
                    }));
                }
                Err(_) => {
                    return Err(refuse(SymlinkRefusal::Uncovered {
                        resolved: resolved.clone(),
                        policy: selection.policy.name().to_owned(),
                        scope: selection.scope.text().to_owned(),
                    }));
                }
            }
        }
        let comps = given.components();
        let root = selection.scope.root_len(&given);
        let mut dir = std::path::PathBuf::from("/");
        for (i, c) in comps.iter().enumerate() {
            dir.push(c);
            if i < root {
                continue;
            }
            let meta = std::fs::symlink_metadata(&dir)
                .map_err(|e| bad(crate::ModelPathError::Resolve(e)))?;
            if meta.file_type().is_symlink() {
                return Err(refuse(SymlinkRefusal::BelowScopeRoot {
                    link: dir.clone(),
                    scope: selection.scope.text().to_owned(),
                    policy: selection.policy.name().to_owned(),
                }));
            }
        }
        Ok((given, selection))
    }
}

fn load_document(
    doc: &Value,
    base_path: &Path,
    base: &ModelPath,
    source: &Path,
    p: &mut Problems,
) -> Option<PolicySet> {
    let root = Ptr::root();
    let map = read::object(
        doc,
        &root,
        &["version", "description", "trustStores", "policies"],
        &["version", "policies"],
        p,
    )?;
    if let Some(v) = map.get("version") {
        let vptr = root.key("version");
        if let Some(s) = read::string(v, &vptr, p)
            && s != VERSION
        {
            p.add(
                &vptr,
                format!("unsupported version {s:?}: this modelseal reads \"{VERSION}\""),
            );
        }
    }
    if let Some(d) = map.get("description") {
        read::string(d, &root.key("description"), p);
    }
    let mut stores = Vec::new();
    let mut store_names = Vec::new();
    if let Some(v) = map.get("trustStores") {
        let sptr = root.key("trustStores");
        match v {
            Value::Object(obj) => {
                for (name, v) in obj {
                    store_names.push(name.clone());
                    if let Some(s) = store::load(name, v, &sptr.key(name), base_path, p) {
                        stores.push(s);
                    }
                }
            }
            _ => p.add(&sptr, "expected an object of named trust stores"),
        }
    }
    let pptr = root.key("policies");
    let items = map
        .get("policies")
        .and_then(|v| read::array(v, &pptr, true, p))?;
    if items.len() > MAX_POLICIES {
        p.add(&pptr, format!("more than {MAX_POLICIES} policies"));
        return None;
    }
    let mut policies: Vec<Policy> = Vec::new();
    for (ptr, v) in items {
        if let Some(policy) = load_policy(v, &ptr, &stores, &store_names, base, base_path, p) {
            policies.push(policy);
        }
    }
    check_names(&policies, p);
    check_scopes(&policies, p);
    Some(PolicySet {
        source: source.to_owned(),
        stores,
        policies,
    })
}

const POLICY_FIELDS: [&str; 13] = [
    "name",
    "description",
    "scopes",
    "level",
    "override",
    "trustStores",
    "trustedIdentities",
    "requiredSignatures",
    "algorithms",
    "revocation",
    "content",
    "timestamps",
    "transparencyLog",
];

#[allow(clippy::too_many_lines)] // one field after the other
fn load_policy(
    v: &Value,
    ptr: &Ptr,
    stores: &[TrustStore],
    store_names: &[String],
    base: &ModelPath,
    base_path: &Path,
    p: &mut Problems,
) -> Option<Policy> {
    let before = p.len();
    let map = read::object(v, ptr, &POLICY_FIELDS, &["name", "scopes", "level"], p)?;
    let name = map
        .get("name")
        .and_then(|v| read::non_empty_string(v, &ptr.key("name"), p))
        .map(str::to_owned);
    if let Some(d) = map.get("description") {
        read::string(d, &ptr.key("description"), p);
    }

    // Level and overrides.
    let lptr = ptr.key("level");
    let level = match map.get("level").and_then(|v| read::string(v, &lptr, p)) {
        Some(s) => Level::parse(s).or_else(|| {
            p.add(
                &lptr,
                format!("unknown level {s:?} (expected strict, permissive, audit or skip)"),
            );
            None
        }),
        None => None,
    };
    let mut actions = level.map(Level::actions);
    if let Some(o) = map.get("override") {
        let optr = ptr.key("override");
        if level == Some(Level::Skip) {
            p.add(
                &optr,
                "a skip policy checks nothing: it cannot be overridden",
            );
        } else if let Some(omap) = read::object(
            o,
            &optr,
            &["integrity", "authenticity", "expiry", "revocation"],
            &[],
            p,
        ) {
            for (key, v) in omap {
                let (Some(category), Some(s)) =
                    (Category::parse(key), read::string(v, &optr.key(key), p))
                else {
                    continue;
                };
                let Some(action) = Action::parse(s) else {
                    p.add(
                        &optr.key(key),
                        format!("unknown action {s:?} (expected enforce, log or skip)"),
                    );
                    continue;
                };
                if let Some(a) = actions.as_mut()
                    && let Err(reason) = a.set(category, action)
                {
                    p.add(&optr.key(key), reason.to_string());
                }
            }
        }
    }

    // Scopes.
    let sptr = ptr.key("scopes");
    let mut scopes: Vec<Scope> = Vec::new();
    if let Some(list) = map.get("scopes") {
        for (ptr, text, names) in scope_entries(list, &sptr, p) {
            match Scope::parse(text, base).map(|s| s.with_model_names(names)) {
                Ok(s) if s.is_global() && level == Some(Level::Skip) => p.add(
                    &ptr,
                    "a skip policy cannot have the global scope `*`: it would accept every unmatched model unsigned",
                ),
                Ok(s) => scopes.push(s),
                Err(reason) => p.add(&ptr, format!("invalid scope: {reason}")),
            }
        }
    }

    // Content rules.
    let content = map
        .get("content")
        .and_then(|v| content::load(v, &ptr.key("content"), p));

    // A skip policy has nothing else.
    if level == Some(Level::Skip) {
        for field in [
            "trustStores",
            "trustedIdentities",
            "requiredSignatures",
            "algorithms",
            "revocation",
            "content",
            "timestamps",
            "transparencyLog",
        ] {
            if map.contains_key(field) {
                p.add(
                    &ptr.key(field),
                    "a skip policy checks nothing: remove this field",
                );
            }
        }
        return (p.len() == before).then(|| Policy {
            name: name.unwrap_or_default(),
            pointer: ptr.as_str().to_owned(),
            scopes,
            level: Level::Skip,
            actions: Level::Skip.actions(),
            trust_stores: Vec::new(),
            anchors: None,
            sigstore: None,
            require_tlog: false,
            identities: Vec::new(),
            required: 0,
            algorithms: AlgorithmRules::default(),
            revocation: RevocationRules::default(),
            content: None,
            timestamps: None,
        });
    }

    // Trust stores.
    let tptr = ptr.key("trustStores");
    let mut trust_stores = Vec::new();
    let mut anchors: Option<TrustAnchors> = None;
    let mut sigstore: Option<Sigstore> = None;
    match map.get("trustStores") {
        None => p.add(
            &tptr,
            "required field is missing: name the trust stores whose roots this policy trusts",
        ),
        Some(v) => {
            for (ptr, name) in read::strings(v, &tptr, true, p).unwrap_or_default() {
                match stores.iter().find(|s| s.name() == name) {
                    Some(store) => {
                        trust_stores.push(name.to_owned());
                        if let Some(root) = store.sigstore() {
                            if sigstore.is_some() {
                                p.add(&ptr, "a policy trusts at most one Sigstore trusted root");
                            }
                            sigstore = Some(root.clone());
                        }
                        match (anchors.as_mut(), store.anchors()) {
                            (Some(a), Some(more)) => a.extend(more.clone()),
                            (None, Some(more)) => anchors = Some(more.clone()),
                            (_, None) => {}
                        }
                    }
                    // A store that exists but failed to load was reported there.
                    None if store_names.iter().any(|n| n == name) => {}
                    None => p.add(
                        &ptr,
                        format!("no trust store named {name:?} in /trustStores"),
                    ),
                }
            }
        }
    }

    // Timestamps.
    let timestamps = map.get("timestamps").and_then(|v| {
        timestamps::load(
            v,
            &ptr.key("timestamps"),
            stores,
            store_names,
            &trust_stores,
            p,
        )
    });
    if timestamps.is_some() && sigstore.is_some() {
        // Both would examine the same tokens (Rekor v2 carries RFC 3161
        // timestamps of the trusted root's TSAs): one source of TSA trust.
        p.add(
            &ptr.key("timestamps"),
            "this policy trusts a Sigstore trusted root, whose timestampAuthorities vouch for \
             timestamps: `timestamps` (X.509 TSA roots) is for policies of root certificates",
        );
    }
    if let Some(a) = actions.as_mut() {
        a.timestamp = TimestampRules::action(timestamps.as_ref(), a);
    }

    // Identities.
    let authenticity = actions.map(|a| a.authenticity);
    let iptr = ptr.key("trustedIdentities");
    let mut identities = Vec::new();
    let mut wildcard = false;
    match map.get("trustedIdentities") {
        None if authenticity != Some(Action::Skip) => p.add(
            &iptr,
            "required field is missing: list the trusted signer identities (`*` trusts any signer the trust stores certify)",
        ),
        None => {}
        Some(v) => {
            let list = read::array(v, &iptr, true, p).unwrap_or_default();
            let count = list.len();
            let mut seen = std::collections::HashSet::new();
            for (ptr, v) in list {
                // A keyless identity: OIDC issuer + SAN (crate::sigstore).
                if v.is_object() {
                    if let Some(id) = crate::sigstore::load_identity(v, &ptr, p) {
                        identities.push(id);
                    }
                    continue;
                }
                let Some(s) = read::non_empty_string(v, &ptr, p) else {
                    continue;
                };
                if !seen.insert(s) {
                    p.add(&ptr, format!("duplicate entry {s:?}"));
                    continue;
                }
                if s == "*" {
                    wildcard = true;
                    if count > 1 {
                        p.add(&ptr, "`*` must be the only trusted identity");
                    }
                    identities.push(Identity::Any);
                    continue;
                }
                match Identity::parse(s) {
                    Ok(id) => identities.push(id),
                    Err(e) => p.add(&ptr, e.to_string()),
                }
            }
        }
    }

    // Sigstore: keyless identities need a Sigstore trust store, and a
    // Sigstore trust store needs keyless identities (a keyless signature
    // says nothing about who signed without one).
    let keyless = identities.iter().any(|i| matches!(i, Identity::Keyless(_)));
    if keyless && sigstore.is_none() {
        p.add(
            &iptr,
            "keyless identities ({\"issuer\", \"identity\"}) need a Sigstore trust store ({\"sigstore\": \"public-good\"} or a trusted_root.json)",
        );
    }
    if sigstore.is_some() && !keyless && authenticity != Some(Action::Skip) && anchors.is_none() {
        p.add(
            &iptr,
            "a Sigstore trust store trusts keyless signers: list them as {\"issuer\": URL, \"identity\": SAN} (or the -Regexp forms)",
        );
    }
    let require_tlog = match map.get("transparencyLog") {
        Some(v) => {
            let tptr = ptr.key("transparencyLog");
            let required = crate::sigstore::load_tlog(v, &tptr, p);
            if required && sigstore.is_none() {
                p.add(
                    &tptr,
                    "a transparency-log entry is checked against a Sigstore trusted root: add a Sigstore trust store",
                );
            }
            required
        }
        None => false,
    };

    // Required signatures.
    let rptr = ptr.key("requiredSignatures");
    let mut required = 1;
    if let Some(v) = map.get("requiredSignatures")
        && let Some(n) = read::integer(v, &rptr, 1, MAX_REQUIRED, p)
    {
        required = usize::try_from(n).unwrap_or(usize::MAX);
        if required > 1 {
            if authenticity == Some(Action::Skip) {
                p.add(
                    &rptr,
                    "distinct signers cannot be counted when authenticity is skipped",
                );
            } else if wildcard {
                p.add(
                    &rptr,
                    format!("{required} distinct signers cannot be counted against `*`: list the identities"),
                );
            } else if required > identities.len() && !identities.is_empty() {
                p.add(
                    &rptr,
                    format!(
                        "{required} distinct signers required but only {} trusted identities listed",
                        identities.len()
                    ),
                );
            }
        }
    }

    // Algorithms and revocation.
    let algorithms = match map.get("algorithms") {
        Some(v) => rules::load_algorithms(v, &ptr.key("algorithms"), p).unwrap_or_default(),
        None => AlgorithmRules::default(),
    };
    let vptr = ptr.key("revocation");
    let revocation = match map.get("revocation") {
        Some(v) => rules::load_revocation(v, &vptr, base_path, p),
        None => Some(RevocationRules::default()),
    };
    if actions.map(|a| a.revocation) == Some(Action::Enforce)
        && revocation.as_ref().is_some_and(RevocationRules::is_empty)
    {
        p.add(
            &vptr,
            "revocation is enforced but the policy gives no CRL or deny list: add revocation.crls or revocation.deny, or override revocation to log or skip",
        );
    }

    if p.len() > before {
        return None;
    }
    Some(Policy {
        name: name?,
        pointer: ptr.as_str().to_owned(),
        scopes,
        level: level?,
        actions: actions?,
        trust_stores,
        anchors,
        sigstore,
        require_tlog,
        identities,
        required,
        algorithms,
        revocation: revocation?,
        content,
        timestamps,
    })
}

fn check_names(policies: &[Policy], p: &mut Problems) {
    for (i, a) in policies.iter().enumerate() {
        if let Some(first) = policies
            .get(..i)
            .and_then(|prev| prev.iter().find(|b| b.name == a.name))
        {
            p.add(
                &Ptr::at(&a.pointer).key("name"),
                format!(
                    "duplicate policy name {:?} (also {}/name)",
                    a.name, first.pointer
                ),
            );
        }
    }
}

/// The scopes as written: each a pattern string, or an object
/// `{"scope": PATTERN, "modelNames": [NAME, ...]}` pinning the signed
/// subject names a model it covers may carry. Duplicate patterns are
/// problems.
fn scope_entries<'a>(
    list: &'a Value,
    sptr: &Ptr,
    p: &mut Problems,
) -> Vec<(Ptr, &'a str, Vec<String>)> {
    let mut out: Vec<(Ptr, &'a str, Vec<String>)> = Vec::new();
    for (ptr, v) in read::array(list, sptr, true, p).unwrap_or_default() {
        let entry = match v {
            Value::Object(_) => read::object(
                v,
                &ptr,
                &["scope", "modelNames"],
                &["scope", "modelNames"],
                p,
            )
            .and_then(|m| {
                let text = read::non_empty_string(m.get("scope")?, &ptr.key("scope"), p)?;
                let names = read::strings(m.get("modelNames")?, &ptr.key("modelNames"), true, p)?;
                Some((text, names.into_iter().map(|(_, n)| n.to_owned()).collect()))
            }),
            _ => read::non_empty_string(v, &ptr, p).map(|t| (t, Vec::new())),
        };
        let Some((text, names)) = entry else { continue };
        if let Some((first, ..)) = out.iter().find(|(_, seen, _)| *seen == text) {
            p.add(&ptr, format!("duplicate of {}", first.as_str()));
            continue;
        }
        out.push((ptr, text, names));
    }
    out
}

fn check_scopes(policies: &[Policy], p: &mut Problems) {
    let all: Vec<(Ptr, &Policy, &Scope)> = policies
        .iter()
        .flat_map(|pol| {
            pol.scopes
                .iter()
                .enumerate()
                .map(move |(i, s)| (Ptr::at(&pol.pointer).key("scopes").index(i), pol, s))
        })
        .collect();
    if all.len() > MAX_SCOPES {
        p.add(
            &Ptr::root().key("policies"),
            format!("more than {MAX_SCOPES} scopes in all"),
        );
        return;
    }
    for (i, (ptr, pol, scope)) in all.iter().enumerate() {
        for (optr, other, oscope) in all.iter().take(i) {
            if std::ptr::eq(*pol, *other) {
                if scope.pattern() == oscope.pattern() {
                    p.add(ptr, format!("the same scope as {}", optr.as_str()));
                }
                continue;
            }
            if scope.rank() == oscope.rank() && scope.overlaps(oscope) {
                p.add(
                    ptr,
                    format!(
                        "scope {:?} overlaps {} ({:?}, policy {:?}) at the same specificity: make one more specific",
                        scope.text(),
                        optr.as_str(),
                        oscope.text(),
                        other.name
                    ),
                );
            }
        }
    }
}
