//! Verification levels and what each does with each category of checks.
//!
//! | level        | integrity | authenticity | expiry  | revocation |
//! | ------------ | --------- | ------------ | ------- | ---------- |
//! | `strict`     | enforce   | enforce      | enforce | enforce    |
//! | `permissive` | enforce   | enforce      | log     | log        |
//! | `audit`      | enforce   | log          | log     | log        |
//! | `skip`       | skip      | skip         | skip    | skip       |
//!
//! A policy may override authenticity, expiry and revocation to `enforce`,
//! `log` or `skip`; integrity can only be written as `enforce` (it is never
//! lowered: only a `skip` policy, which checks nothing, goes without it).

use std::fmt;

use serde::Serialize;

/// A policy's verification level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Level {
    /// Enforce every check.
    Strict,
    /// Enforce integrity and authenticity; log expiry and revocation.
    Permissive,
    /// Enforce integrity; log everything else.
    Audit,
    /// Check nothing: the model is accepted unsigned.
    Skip,
}

impl Level {
    /// Every level, for parsing and docs.
    pub const ALL: [Level; 4] = [Level::Strict, Level::Permissive, Level::Audit, Level::Skip];

    /// The name written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Strict => "strict",
            Level::Permissive => "permissive",
            Level::Audit => "audit",
            Level::Skip => "skip",
        }
    }

    /// Parse a level name.
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// What the level does with each category (the table above).
    pub fn actions(self) -> Actions {
        use Action::{Enforce as E, Log as L, Skip as S};
        let [integrity, authenticity, expiry, revocation] = match self {
            Level::Strict => [E, E, E, E],
            Level::Permissive => [E, E, L, L],
            Level::Audit => [E, L, L, L],
            Level::Skip => [S, S, S, S],
        };
        Actions {
            integrity,
            authenticity,
            expiry,
            revocation,
            timestamp: Action::Skip,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to a check of a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// The check runs and a failure rejects the signature.
    Enforce,
    /// The check runs and its outcome is reported; a failure does not
    /// reject.
    Log,
    /// The check does not run.
    Skip,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 3] = [Action::Enforce, Action::Log, Action::Skip];

    /// The name written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Enforce => "enforce",
            Action::Log => "log",
            Action::Skip => "skip",
        }
    }

    /// Parse an action name.
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The categories of checks a level governs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Category {
    /// The bundle, its signature, statement and algorithm, and the model's
    /// files against the signed manifest.
    Integrity,
    /// The chain to a trusted root, the signer's identity, and the number
    /// of distinct trusted signers.
    Authenticity,
    /// Every certificate of the chain is within its validity period at the
    /// verification time.
    Expiry,
    /// No certificate of the chain is revoked (CRLs) or denied (policy
    /// deny list).
    Revocation,
}

impl Category {
    /// Every category.
    pub const ALL: [Category; 4] = [
        Category::Integrity,
        Category::Authenticity,
        Category::Expiry,
        Category::Revocation,
    ];

    /// The name written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Integrity => "integrity",
            Category::Authenticity => "authenticity",
            Category::Expiry => "expiry",
            Category::Revocation => "revocation",
        }
    }

    /// Parse a category name.
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An override that would lower integrity below `enforce`
/// ([`Actions::set`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("integrity cannot be lowered to {action}: only a policy of level skip goes without it")]
pub struct IntegrityLowered {
    /// The action the override asked for.
    pub action: Action,
}

/// The action for each category, after overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Actions {
    /// Integrity: `enforce`, or `skip` for a skip policy.
    pub integrity: Action,
    /// Authenticity.
    pub authenticity: Action,
    /// Expiry.
    pub expiry: Action,
    /// Revocation.
    pub revocation: Action,
    /// The `timestamp` check (reported under authenticity): set from the
    /// policy's `timestamps` section, not by the level
    /// ([`crate::TimestampRules::action`]); `skip` without one.
    pub timestamp: Action,
}

impl Actions {
    /// The action for `category`.
    pub fn get(&self, category: Category) -> Action {
        match category {
            Category::Integrity => self.integrity,
            Category::Authenticity => self.authenticity,
            Category::Expiry => self.expiry,
            Category::Revocation => self.revocation,
        }
    }

    /// Apply one override.
    ///
    /// # Errors
    /// [`IntegrityLowered`] when the override would lower integrity
    /// (anything but `enforce`).
    pub fn set(&mut self, category: Category, action: Action) -> Result<(), IntegrityLowered> {
        match category {
            Category::Integrity if action != Action::Enforce => Err(IntegrityLowered { action }),
            Category::Integrity => Ok(()),
            Category::Authenticity => {
                self.authenticity = action;
                Ok(())
            }
            Category::Expiry => {
                self.expiry = action;
                Ok(())
            }
            Category::Revocation => {
                self.revocation = action;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_table() {
        use Action::{Enforce as E, Log as L, Skip as S};
        let table = [
            (Level::Strict, [E, E, E, E]),
            (Level::Permissive, [E, E, L, L]),
            (Level::Audit, [E, L, L, L]),
            (Level::Skip, [S, S, S, S]),
        ];
        for (level, want) in table {
            let a = level.actions();
            let got: Vec<Action> = Category::ALL.iter().map(|c| a.get(*c)).collect();
            assert_eq!(got, want, "{level}");
            assert_eq!(Level::parse(level.as_str()), Some(level));
        }
        assert_eq!(Level::parse("Strict"), None);
    }

    #[test]
    fn integrity_is_never_lowered() {
        for level in [Level::Strict, Level::Permissive, Level::Audit] {
            for action in Action::ALL {
                let mut a = level.actions();
                let r = a.set(Category::Integrity, action);
                assert_eq!(r.is_ok(), action == Action::Enforce, "{level} {action}");
                assert_eq!(a.integrity, Action::Enforce);
            }
        }
    }

    #[test]
    fn overrides_apply_to_their_category_only() {
        for category in [
            Category::Authenticity,
            Category::Expiry,
            Category::Revocation,
        ] {
            for action in Action::ALL {
                let mut a = Level::Strict.actions();
                a.set(category, action).unwrap();
                for other in Category::ALL {
                    let want = if other == category {
                        action
                    } else {
                        Action::Enforce
                    };
                    assert_eq!(a.get(other), want, "{category}={action}: {other}");
                }
            }
        }
    }
}
