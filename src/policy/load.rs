//! Reading a policy file: bytes -> checked YAML -> raw v1 schema -> [`Policy`].
//!
//! Everything from outside is distrusted: the size is capped before reading, UTF-8 is
//! checked with a location, serde-saphyr runs with a tight budget (a policy is a few dozen
//! nodes; an alias bomb or a 10 MB file is an attack or an accident, never a policy),
//! duplicate keys and unknown fields are errors, and the version is read first so a future
//! file fails with "supported versions: 1" instead of a confusing field error.
//!
//! Errors carry `file:line:column`, what was expected and a hint ([`LoadError`]).

use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::model::{
    Aaguid, AgentUse, KeyType, Lifetime, Mode, PassphraseRule, Policy, ServerSide, Settings,
    SourceLocation, OPENSSH_DEFAULT_APPLICATION, SUPPORTED_VERSIONS,
};
use crate::openssh::authorized_keys::AuthOption;

/// Policy files above this size are refused before parsing. The shipped ones are ~5 KiB.
pub const MAX_POLICY_BYTES: usize = 256 * 1024;

/// The built-in default policy (`policies/four-mode.yaml`).
pub const DEFAULT_POLICY_YAML: &str = include_str!("../../policies/four-mode.yaml");

/// The name under which the built-in policy reports locations.
pub const DEFAULT_POLICY_NAME: &str = "<built-in four-mode.yaml>";

/// A policy that could not be loaded: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file name as given (or `<built-in ...>`).
    pub file: String,
    pub location: Option<SourceLocation>,
    pub kind: LoadErrorKind,
}

impl LoadError {
    /// The fix, when there is one worth saying.
    pub fn hint(&self) -> Option<String> {
        self.kind.hint()
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some(l) => write!(f, "{}:{}:{}: {}", self.file, l.line, l.column, self.kind)?,
            None => write!(f, "{}: {}", self.file, self.kind)?,
        }
        if let Some(hint) = self.hint() {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// What went wrong while loading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadErrorKind {
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error("the file is larger than {limit} bytes; a policy is a few kilobytes")]
    TooLarge { limit: usize },
    #[error("the file is not UTF-8 text (invalid byte sequence)")]
    NotUtf8,
    #[error("the file is empty: expected a policy mapping starting with `version: 1`")]
    Empty,
    #[error("no `version` field: expected `version: 1` at the top level")]
    MissingVersion,
    #[error(
        "policy schema version {found} is not supported; this skset reads version(s) {supported}"
    )]
    UnsupportedVersion { found: String, supported: String },
    #[error("{message}")]
    Yaml {
        message: String,
        category: YamlErrorCategory,
    },
    #[error("{field}: {message}")]
    Invalid {
        field: String,
        message: String,
        hint: Option<String>,
    },
}

/// Broad class of a YAML/schema error, to pick a hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlErrorCategory {
    Syntax,
    UnknownField,
    DuplicateKey,
    WrongType,
    MissingField,
    Limits,
    Other,
}

impl LoadErrorKind {
    fn hint(&self) -> Option<String> {
        let supported = supported_list();
        Some(match self {
            LoadErrorKind::Io(_) => "check the path and its permissions".into(),
            LoadErrorKind::TooLarge { .. } => {
                "point skset at the policy file itself; `skset policy show-default` prints a complete example".into()
            }
            LoadErrorKind::NotUtf8 => "save the policy as UTF-8 text (is this a binary or a compressed file?)".into(),
            LoadErrorKind::Empty => "start from `skset policy show-default > my-policy.yaml`".into(),
            LoadErrorKind::MissingVersion => format!("add `version: 1` as the first line (supported: {supported})"),
            LoadErrorKind::UnsupportedVersion { .. } => format!(
                "rewrite the policy for version {supported} (see docs/policy.md), or use the skset release that wrote it"
            ),
            LoadErrorKind::Yaml { category, .. } => match category {
                YamlErrorCategory::Syntax => "fix the YAML syntax at this position (indentation, quotes, `key: value`)".into(),
                YamlErrorCategory::UnknownField => {
                    "check the spelling; docs/policy.md lists every field (or see `skset policy show-default`)".into()
                }
                YamlErrorCategory::DuplicateKey => {
                    "a key may appear once per mapping: remove or merge the repeated entry (for modes, give each a distinct name)".into()
                }
                YamlErrorCategory::WrongType => "give a value of the expected type (true/false, a number, a string or a list)".into(),
                YamlErrorCategory::MissingField => "add the field; docs/policy.md says which fields are required".into(),
                YamlErrorCategory::Limits => {
                    "policy files are small and flat: no deep nesting, no alias expansion beyond a few entries".into()
                }
                YamlErrorCategory::Other => return None,
            },
            LoadErrorKind::Invalid { hint, .. } => return hint.clone(),
        })
    }
}

fn supported_list() -> String {
    SUPPORTED_VERSIONS
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Read and load a policy file.
pub fn load_policy_file(path: &Path) -> Result<Policy, LoadError> {
    let file_name = path.display().to_string();
    let err = |kind| LoadError {
        file: file_name.clone(),
        location: None,
        kind,
    };
    let file = std::fs::File::open(path).map_err(|e| err(LoadErrorKind::Io(e.to_string())))?;
    let mut bytes = Vec::new();
    // Read one byte past the cap so "exactly at the limit" and "over it" differ, without
    // ever holding more than that in memory.
    file.take(MAX_POLICY_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(LoadErrorKind::Io(e.to_string())))?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    load_policy_bytes(&file_name, stem.as_deref(), &bytes)
}

/// The built-in default policy. It is tested to load; should it ever fail, the error says
/// so rather than panicking.
pub fn default_policy() -> Result<Policy, LoadError> {
    load_policy_str(DEFAULT_POLICY_NAME, Some("four-mode"), DEFAULT_POLICY_YAML)
}

/// Load from bytes (a file's content). `default_name` names the policy when it has no
/// `name:` (the file stem).
pub fn load_policy_bytes(
    file: &str,
    default_name: Option<&str>,
    bytes: &[u8],
) -> Result<Policy, LoadError> {
    if bytes.len() > MAX_POLICY_BYTES {
        // Point at where the limit is crossed: tells "a huge policy" from "the wrong file".
        return Err(LoadError {
            file: file.into(),
            location: Some(location_of_byte(bytes, MAX_POLICY_BYTES)),
            kind: LoadErrorKind::TooLarge {
                limit: MAX_POLICY_BYTES,
            },
        });
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            return Err(LoadError {
                file: file.into(),
                location: Some(location_of_byte(bytes, at)),
                kind: LoadErrorKind::NotUtf8,
            });
        }
    };
    load_policy_str(file, default_name, text)
}

/// Load from text.
pub fn load_policy_str(
    file: &str,
    default_name: Option<&str>,
    text: &str,
) -> Result<Policy, LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.len() > MAX_POLICY_BYTES {
        return load_policy_bytes(file, default_name, text.as_bytes());
    }
    if text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    }) {
        return Err(LoadError {
            file: file.into(),
            location: Some(SourceLocation { line: 1, column: 1 }),
            kind: LoadErrorKind::Empty,
        });
    }
    if let Some(at) = text.find('\0') {
        return Err(LoadError {
            file: file.into(),
            location: Some(location_of_byte(text.as_bytes(), at)),
            kind: LoadErrorKind::NotUtf8,
        });
    }

    // 1. The version, read leniently so that any version's fields are tolerated here.
    let probe: VersionProbe = parse(file, text)?;
    let version = match probe.version {
        None => {
            return Err(LoadError {
                file: file.into(),
                location: Some(SourceLocation { line: 1, column: 1 }),
                kind: LoadErrorKind::MissingVersion,
            })
        }
        Some(v) => v,
    };
    let found = match &version.value {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        _ => None,
    };
    let Some(found) = found.filter(|n| SUPPORTED_VERSIONS.contains(n)) else {
        return Err(LoadError {
            file: file.into(),
            location: Some(loc(version.referenced)),
            kind: LoadErrorKind::UnsupportedVersion {
                found: version.value.to_string(),
                supported: supported_list(),
            },
        });
    };

    // 2. The strict parse for that version.
    match found {
        1 => {
            let raw: v1::RawPolicy = parse(file, text)?;
            raw.resolve(file, default_name)
        }
        _ => unreachable_version(file, found),
    }
}

fn unreachable_version(file: &str, found: u32) -> Result<Policy, LoadError> {
    Err(LoadError {
        file: file.into(),
        location: None,
        kind: LoadErrorKind::UnsupportedVersion {
            found: found.to_string(),
            supported: supported_list(),
        },
    })
}

#[derive(Deserialize)]
struct VersionProbe {
    #[serde(default)]
    version: Option<Spanned<serde_json::Value>>,
}

/// Budgets: a policy is < 1000 nodes and < 8 levels deep. Anything beyond is refused before
/// it costs memory or time.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_reader_input_bytes: Some(MAX_POLICY_BYTES),
            max_events: 50_000,
            max_aliases: 64,
            max_anchors: 64,
            max_recorded_anchor_events: 10_000,
            max_recorded_anchor_bytes: 64 * 1024,
            max_depth: 16,
            max_documents: 1,
            max_nodes: 10_000,
            max_total_scalar_bytes: MAX_POLICY_BYTES,
            max_merge_keys: 64,
            flow_nesting_limit: 16,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 10_000,
            max_replay_stack_depth: 8,
            max_alias_expansions_per_anchor: 64,
        },
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        strict_booleans: true,
        with_snippet: false,
    }
}

fn parse<'de, T: Deserialize<'de>>(file: &str, text: &'de str) -> Result<T, LoadError> {
    // serde-saphyr is documented panic-free; catch_unwind would need UnwindSafe plumbing
    // for little gain, and the fuzz test in tests/policy_load.rs holds it to that.
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| yaml_error(file, &e))
}

fn yaml_error(file: &str, e: &serde_saphyr::Error) -> LoadError {
    use serde_saphyr::Error as E;
    let inner = e.without_snippet();
    let category = match inner {
        E::SerdeUnknownField { .. } | E::SerdeUnknownVariant { .. } => {
            YamlErrorCategory::UnknownField
        }
        E::DuplicateMappingKey { .. } => YamlErrorCategory::DuplicateKey,
        E::SerdeInvalidType { .. }
        | E::SerdeInvalidValue { .. }
        | E::SerdeInvalidLength { .. }
        | E::InvalidBooleanStrict { .. }
        | E::NullIntoString { .. }
        | E::InvalidScalar { .. } => YamlErrorCategory::WrongType,
        E::SerdeMissingField { .. } => YamlErrorCategory::MissingField,
        E::Budget {
            breach: serde_saphyr::budget::BudgetBreach::Documents { .. },
            ..
        } => YamlErrorCategory::Syntax,
        E::Budget { .. }
        | E::AliasError { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => YamlErrorCategory::Limits,
        _ if inner.to_string().contains("limit") => YamlErrorCategory::Limits,
        _ if inner.to_string().starts_with("expected ") => YamlErrorCategory::WrongType,
        _ => YamlErrorCategory::Syntax,
    };
    let location = inner.location().filter(|l| l.line() > 0).map(loc);
    LoadError {
        file: file.into(),
        location,
        kind: LoadErrorKind::Yaml {
            message: strip_location_suffix(&inner.to_string()),
            category,
        },
    }
}

/// serde-saphyr appends " at line X, column Y" (and alias sites) to some messages, and
/// speaks to library users in places; we print the location once, in front, and keep the
/// message about the file.
fn strip_location_suffix(msg: &str) -> String {
    let msg = msg.trim();
    let msg = match msg.find(" at line ") {
        Some(i) if msg[i..].contains("column") => msg[..i].trim_end_matches([',', ':', ' ']),
        _ => msg,
    };
    let msg = msg
        .strip_suffix(", set DuplicateKeyPolicy in Options if acceptable")
        .unwrap_or(msg);
    match msg.strip_prefix("budget breached: ") {
        Some(rest) if rest.starts_with("Documents") => {
            "more than one YAML document: a policy file holds exactly one (remove the second `---` and what follows)".into()
        }
        Some(rest) => format!("the input exceeds the policy loader's limits ({rest})"),
        None => match msg {
            "recursion limit exceeded" => "the input is nested deeper than the policy loader allows".into(),
            "expected mapping start" => "expected a mapping (`key: value` lines or `{ key: value }`) here".into(),
            "expected sequence start" => "expected a list here, e.g. `[\"10.0.0.0/8\"]` or `- item` lines".into(),
            "invalid u8" => "expected a whole number from 0 to 255".into(),
            "invalid u32" => "expected a whole number from 0 to 4294967295".into(),
            other => other.to_string(),
        },
    }
}

fn loc(l: Location) -> SourceLocation {
    SourceLocation {
        line: u32::try_from(l.line()).unwrap_or(u32::MAX),
        column: u32::try_from(l.column()).unwrap_or(u32::MAX),
    }
}

fn location_of_byte(bytes: &[u8], at: usize) -> SourceLocation {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    SourceLocation {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    }
}

/// Schema version 1, as written in YAML. Every struct refuses unknown fields; defaults are
/// applied in `resolve`, not here, so the defaults live in one place (and in docs/policy.md).
mod v1 {
    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct RawPolicy {
        #[allow(dead_code)] // read by the version probe
        version: u32,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        description: Option<String>,
        #[serde(default)]
        settings: Option<RawSettings>,
        modes: Spanned<RawModes>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct RawSettings {
        #[serde(default)]
        min_pin_length: Option<u8>,
        #[serde(default)]
        kdf_rounds: Option<u32>,
        #[serde(default)]
        require_attestation: Option<bool>,
        #[serde(default)]
        trusted_attestation_roots: Vec<String>,
        #[serde(default)]
        aaguid_allow_list: Vec<Spanned<String>>,
        #[serde(default)]
        default_label: Option<String>,
    }

    /// `modes:` is a mapping from mode name to mode, kept in file order. Duplicate names are
    /// duplicate keys, refused by the parser with their location.
    struct RawModes(Vec<(Spanned<String>, RawMode)>);

    impl<'de> Deserialize<'de> for RawModes {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = RawModes;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a mapping from mode name to mode settings, e.g. `root: { resident: true, ... }`")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<RawModes, A::Error> {
                    let mut out = Vec::new();
                    while let Some(key) = map.next_key::<Spanned<String>>()? {
                        let value = map.next_value::<RawMode>()?;
                        out.push((key, value));
                    }
                    Ok(RawModes(out))
                }
            }
            d.deserialize_map(V)
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawMode {
        #[serde(default)]
        description: Option<String>,
        #[serde(default)]
        device: Option<String>,
        #[serde(default)]
        resident: Option<bool>,
        #[serde(default)]
        touch: Option<bool>,
        #[serde(default)]
        pin: Option<bool>,
        #[serde(default)]
        passphrase: Option<RawPassphrase>,
        #[serde(default)]
        key_type: Option<RawKeyType>,
        #[serde(default)]
        ecdsa_fallback: Option<bool>,
        #[serde(default)]
        application: Option<String>,
        #[serde(default)]
        user_id: Option<String>,
        #[serde(default)]
        file: Option<String>,
        #[serde(default)]
        comment: Option<String>,
        #[serde(default)]
        agent: Option<RawAgent>,
        server: RawServer,
    }

    #[derive(Deserialize, Clone, Copy)]
    #[serde(rename_all = "lowercase")]
    enum RawPassphrase {
        Required,
        Forbidden,
        Optional,
    }

    #[derive(Deserialize, Clone, Copy)]
    enum RawKeyType {
        #[serde(rename = "ed25519")]
        Ed25519,
        #[serde(rename = "ecdsa-p256")]
        EcdsaP256,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct RawAgent {
        #[serde(default)]
        load: bool,
        #[serde(default)]
        lifetime: Option<Spanned<String>>,
        #[serde(default)]
        forwarding: bool,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawServer {
        account: String,
        #[serde(default)]
        options: Vec<Spanned<String>>,
        #[serde(default)]
        from: Vec<String>,
        #[serde(default)]
        command: Option<String>,
        #[serde(default)]
        restrict: bool,
        #[serde(default)]
        sudo_totp: bool,
    }

    impl RawPolicy {
        pub(super) fn resolve(
            self,
            file: &str,
            default_name: Option<&str>,
        ) -> Result<Policy, LoadError> {
            let invalid =
                |at: Location, field: String, message: String, hint: Option<String>| LoadError {
                    file: file.into(),
                    location: Some(loc(at)),
                    kind: LoadErrorKind::Invalid {
                        field,
                        message,
                        hint,
                    },
                };
            let raw = self.settings.unwrap_or_default();
            let defaults = Settings::default();
            let mut aaguids = Vec::new();
            for s in raw.aaguid_allow_list {
                match Aaguid::parse(&s.value) {
                    Some(a) => aaguids.push(a),
                    None => {
                        return Err(invalid(
                            s.referenced,
                            "settings.aaguid_allow_list".into(),
                            format!("{:?} is not an AAGUID", s.value),
                            Some("write 32 hex digits as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (ykman info / fido2-token -I show it)".into()),
                        ))
                    }
                }
            }
            let settings = Settings {
                min_pin_length: raw.min_pin_length.unwrap_or(defaults.min_pin_length),
                kdf_rounds: raw.kdf_rounds.unwrap_or(defaults.kdf_rounds),
                require_attestation: raw
                    .require_attestation
                    .unwrap_or(defaults.require_attestation),
                trusted_attestation_roots: raw.trusted_attestation_roots,
                aaguid_allow_list: aaguids,
                default_label: raw.default_label,
            };

            let mut modes = Vec::with_capacity(self.modes.value.0.len());
            let modes_at = self.modes.referenced;
            for (name, m) in self.modes.value.0 {
                let field = |f: &str| format!("modes.{}.{f}", name.value);
                let resident = m.resident.unwrap_or(true);
                let agent = m.agent.unwrap_or_default();
                let lifetime = match agent.lifetime {
                    None => None,
                    Some(l) => Some(Lifetime::parse(&l.value).map_err(|msg| {
                        invalid(
                            l.referenced,
                            field("agent.lifetime"),
                            format!("{:?}: {msg}", l.value),
                            Some("write a duration as ssh-add -t takes it: 600, 10m, 1h30m".into()),
                        )
                    })?),
                };
                let mut options = Vec::with_capacity(m.server.options.len());
                for o in m.server.options {
                    let parsed = AuthOption::parse(&o.value).map_err(|e| {
                        invalid(
                            o.referenced,
                            field("server.options"),
                            format!("{:?}: {}", o.value, e.kind),
                            Some("write one option per list entry, as in authorized_keys: `no-touch-required`, `permitopen=\"host:22\"` (quote the whole entry in YAML if it holds quotes)".into()),
                        )
                    })?;
                    options.push(parsed.into_owned());
                }
                modes.push(Mode {
                    description: m.description,
                    device: m.device.unwrap_or_else(|| "primary".into()),
                    resident,
                    touch: m.touch.unwrap_or(true),
                    pin: m.pin.unwrap_or(false),
                    // The model: a resident file holds no secret, a non-resident one does.
                    passphrase: match m.passphrase {
                        Some(RawPassphrase::Required) => PassphraseRule::Required,
                        Some(RawPassphrase::Forbidden) => PassphraseRule::Forbidden,
                        Some(RawPassphrase::Optional) => PassphraseRule::Optional,
                        None if resident => PassphraseRule::Forbidden,
                        None => PassphraseRule::Required,
                    },
                    key_type: match m.key_type {
                        Some(RawKeyType::EcdsaP256) => KeyType::EcdsaP256,
                        _ => KeyType::Ed25519,
                    },
                    ecdsa_fallback: m.ecdsa_fallback.unwrap_or(false),
                    application: m
                        .application
                        .unwrap_or_else(|| OPENSSH_DEFAULT_APPLICATION.into()),
                    user_id: m.user_id.unwrap_or_default(),
                    file: m.file.unwrap_or_else(|| format!("id_{}", name.value)),
                    comment: m.comment.unwrap_or_else(|| "{label}-{mode}".into()),
                    agent: AgentUse {
                        load: agent.load,
                        lifetime,
                        forwarding: agent.forwarding,
                    },
                    server: ServerSide {
                        account: m.server.account,
                        options,
                        from: m.server.from,
                        command: m.server.command,
                        restrict: m.server.restrict,
                        sudo_totp: m.server.sudo_totp,
                    },
                    location: Some(loc(name.referenced)),
                    name: name.value,
                });
            }
            if modes.is_empty() {
                return Err(LoadError {
                    file: file.into(),
                    location: Some(loc(modes_at)),
                    kind: LoadErrorKind::Invalid {
                        field: "modes".into(),
                        message: "no modes: a policy describes at least one key".into(),
                        hint: Some(
                            "see `skset policy show-default` for the four-mode example".into(),
                        ),
                    },
                });
            }
            Ok(Policy {
                version: 1,
                name: self
                    .name
                    .or_else(|| default_name.map(str::to_owned))
                    .unwrap_or_else(|| "policy".into()),
                description: self.description,
                settings,
                modes,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_loads_and_is_clean() {
        let p = default_policy().unwrap();
        assert_eq!(
            p.modes.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
            ["root", "sudo", "wheel", "robo"]
        );
        let findings = crate::policy::rules::check(&p);
        assert!(findings.is_empty(), "{findings:#?}");
    }
}
