//! What the CLI says for the engine's codes: the words of `schemas/messages.json`, the one
//! catalogue the JS package (`messages`) and the admin console read too, so that a
//! terminal and a browser say the same. The code stays beside its words: it is what the
//! contract, the logs and the gateway's answers use, and what an admin searches for.

use std::sync::LazyLock;

use serde_json::Value;

static CATALOGUE: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../schemas/messages.json")).unwrap_or(Value::Null)
});

/// The words for `code` in `section` (`outcome`, `reason`, `method`...), if the catalogue
/// has them.
pub(crate) fn word(section: &str, code: &str) -> Option<&'static str> {
    CATALOGUE.get(section)?.get(code)?.as_str()
}

/// `words (code)`, or the code alone when the catalogue has no words for it.
pub(crate) fn worded(section: &str, code: &str) -> String {
    match word(section, code) {
        Some(w) => format!("{w} ({code})"),
        None => code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use mdm_engine::{AdminAction, EnrollmentMethod, ErrorCode, IssueCode, Outcome, Reason};

    use super::*;

    #[test]
    fn every_code_of_the_engine_has_words() {
        assert!(CATALOGUE.is_object(), "schemas/messages.json is a JSON object");
        let mut missing = Vec::new();
        let mut check = |section: &str, code: &str| {
            if word(section, code).is_none() {
                missing.push(format!("{section}.{code}"));
            }
        };
        Outcome::ALL.iter().for_each(|o| check("outcome", o.as_str()));
        Reason::ALL.iter().for_each(|r| check("reason", r.as_str()));
        EnrollmentMethod::ALL.iter().for_each(|m| check("method", m.as_str()));
        IssueCode::ALL.iter().for_each(|i| check("issue", i.as_str()));
        AdminAction::ALL.iter().for_each(|a| check("action", a.as_str()));
        ErrorCode::ALL.iter().for_each(|e| check("error", e.as_str()));
        assert_eq!(missing, Vec::<String>::new(), "codes without words in schemas/messages.json");
    }

    #[test]
    fn a_code_is_shown_with_its_words_or_alone() {
        assert_eq!(worded("outcome", "pending_approval"), "waiting for approval (pending_approval)");
        assert_eq!(worded("reason", "no.such_code"), "no.such_code");
    }
}
