//! IAM policy evaluation for one role: the subset of the policy language our template uses,
//! judged as AWS judges it (an explicit deny wins, an allow needs a statement whose action,
//! resource and every condition match, anything else is an implicit deny).

use std::collections::BTreeMap;

/// One statement, references already resolved to names and ARNs.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `Allow` (true) or `Deny`.
    pub allow: bool,
    /// Actions, `*` and `?` wildcards allowed (`s3:Get*`), compared case-insensitively.
    pub actions: Vec<String>,
    /// Resource ARNs, wildcards allowed.
    pub resources: Vec<String>,
    /// Every condition must hold.
    pub conditions: Vec<Condition>,
}

/// One condition operator on one key.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator.
    pub operator: Operator,
    /// The condition key, e.g. `s3:prefix`.
    pub key: String,
    /// Values; the condition holds when the request's value matches any of them.
    pub values: Vec<String>,
}

/// The operators the template uses; anything else is refused when the policy is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `StringEquals`: the key is present and equals one value.
    StringEquals,
    /// `StringLike`: the key is present and matches one pattern.
    StringLike,
    /// `ForAllValues:StringEquals`: every value of the key equals one value (true when the
    /// key is absent, as AWS documents).
    ForAllValuesStringEquals,
    /// `ForAllValues:StringLike`: every value of the key matches one pattern (true when
    /// absent).
    ForAllValuesStringLike,
}

impl Operator {
    /// The operator named `name` in a policy, if we evaluate it.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "StringEquals" => Self::StringEquals,
            "StringLike" => Self::StringLike,
            "ForAllValues:StringEquals" => Self::ForAllValuesStringEquals,
            "ForAllValues:StringLike" => Self::ForAllValuesStringLike,
            _ => return None,
        })
    }
}

/// What a request asks for: one action on one resource, with its condition keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// e.g. `s3:GetObject`.
    pub action: String,
    /// e.g. `arn:aws:s3:::media-bucket/documents/a.txt`.
    pub resource: String,
    /// Condition keys the request supplies (`s3:prefix`, `dynamodb:LeadingKeys`).
    pub context: BTreeMap<String, Vec<String>>,
}

/// Whether a role's statements allow `access`.
pub fn allows(statements: &[Statement], access: &Access) -> bool {
    let matching = |statement: &&Statement| {
        statement
            .actions
            .iter()
            .any(|a| glob(&a.to_ascii_lowercase(), &access.action.to_ascii_lowercase()))
            && statement
                .resources
                .iter()
                .any(|r| glob(r, &access.resource))
            && statement
                .conditions
                .iter()
                .all(|c| holds(c, &access.context))
    };
    let mut applicable = statements.iter().filter(matching);
    let (mut allowed, mut denied) = (false, false);
    for statement in &mut applicable {
        if statement.allow {
            allowed = true;
        } else {
            denied = true;
        }
    }
    allowed && !denied
}

fn holds(condition: &Condition, context: &BTreeMap<String, Vec<String>>) -> bool {
    let values = context.get(&condition.key);
    let matches = |value: &str| {
        condition
            .values
            .iter()
            .any(|expected| match condition.operator {
                Operator::StringEquals | Operator::ForAllValuesStringEquals => expected == value,
                Operator::StringLike | Operator::ForAllValuesStringLike => glob(expected, value),
            })
    };
    match condition.operator {
        Operator::StringEquals | Operator::StringLike => {
            values.is_some_and(|values| values.iter().any(|v| matches(v)))
        }
        Operator::ForAllValuesStringEquals | Operator::ForAllValuesStringLike => {
            values.is_none_or(|values| values.iter().all(|v| matches(v)))
        }
    }
}

/// IAM's wildcard match: `*` any run of characters, `?` any one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), text.chars().collect());
    // Iterative, with one backtrack point per star: linear in practice, never exponential.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(action: &str, resource: &str) -> Statement {
        Statement {
            allow: true,
            actions: vec![action.to_owned()],
            resources: vec![resource.to_owned()],
            conditions: Vec::new(),
        }
    }

    fn access(action: &str, resource: &str, context: &[(&str, &[&str])]) -> Access {
        Access {
            action: action.to_owned(),
            resource: resource.to_owned(),
            context: context
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
        }
    }

    #[test]
    fn wildcards_match_as_iam_does() {
        assert!(glob(
            "arn:aws:s3:::b/documents/*",
            "arn:aws:s3:::b/documents/a/b.txt"
        ));
        assert!(!glob(
            "arn:aws:s3:::b/documents/*",
            "arn:aws:s3:::b/videos/a.mp4"
        ));
        assert!(!glob("arn:aws:s3:::b", "arn:aws:s3:::b/x"));
        assert!(glob("s3:get*", "s3:getobject"));
        assert!(glob("a?c", "abc") && !glob("a?c", "ac"));
        assert!(glob("*", "") && glob("a*b*c", "a-b-b-c") && !glob("a*b*c", "a-c-b"));
    }

    #[test]
    fn an_allow_needs_action_resource_and_conditions_and_a_deny_wins() {
        let statements = vec![
            allow("s3:GetObject", "arn:aws:s3:::media/documents/*"),
            Statement {
                conditions: vec![Condition {
                    operator: Operator::StringLike,
                    key: "s3:prefix".into(),
                    values: vec!["documents/*".into()],
                }],
                ..allow("s3:ListBucket", "arn:aws:s3:::media")
            },
        ];
        assert!(allows(
            &statements,
            &access("s3:getobject", "arn:aws:s3:::media/documents/a", &[])
        ));
        assert!(!allows(
            &statements,
            &access("s3:GetObject", "arn:aws:s3:::media/videos/a", &[])
        ));
        assert!(!allows(
            &statements,
            &access("s3:PutObject", "arn:aws:s3:::media/documents/a", &[])
        ));
        let list = |prefix: &[&str]| {
            access(
                "s3:ListBucket",
                "arn:aws:s3:::media",
                &[("s3:prefix", prefix)],
            )
        };
        assert!(allows(&statements, &list(&["documents/2026/"])));
        assert!(!allows(&statements, &list(&["videos/"])));
        // StringLike on a key the request does not carry does not hold.
        assert!(!allows(
            &statements,
            &access("s3:ListBucket", "arn:aws:s3:::media", &[])
        ));
        let mut with_deny = statements.clone();
        with_deny.push(Statement {
            allow: false,
            ..allow("s3:*", "*")
        });
        assert!(!allows(
            &with_deny,
            &access("s3:GetObject", "arn:aws:s3:::media/documents/a", &[])
        ));
    }

    #[test]
    fn for_all_values_holds_for_every_value_and_for_none() {
        let statements = vec![Statement {
            conditions: vec![Condition {
                operator: Operator::ForAllValuesStringLike,
                key: "dynamodb:LeadingKeys".into(),
                values: vec!["caption-parser#*".into()],
            }],
            ..allow("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:1:table/t")
        }];
        let put = |keys: &[&str]| {
            access(
                "dynamodb:PutItem",
                "arn:aws:dynamodb:us-east-1:1:table/t",
                &[("dynamodb:LeadingKeys", keys)],
            )
        };
        assert!(allows(&statements, &put(&["caption-parser#ab12"])));
        assert!(!allows(&statements, &put(&["auto-tagger#ab12"])));
        assert!(!allows(
            &statements,
            &put(&["caption-parser#1", "text-scorer#2"])
        ));
    }
}
