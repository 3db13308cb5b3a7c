//! Agent scripts: a branching dialog scenario as data, validated on save.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Steps in one script at most.
pub const SCRIPT_STEPS_MAX: usize = 200;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptStep {
    pub id: String,
    /// text, choice, yes_no, number or end.
    pub kind: String,
    pub prompt: String,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub next: Option<String>,
    /// Answer to the next step, overriding `next`.
    #[serde(default)]
    pub branches: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptDef {
    pub start: String,
    pub steps: Vec<ScriptStep>,
}

fn bad(msg: String) -> ApiError {
    ApiError::field("definition", msg)
}

/// Checks that every step is well formed, every reference exists, every step is reachable from
/// `start`, and every step can reach an `end` (so no loop is without an exit).
pub fn validate_script(def: &ScriptDef) -> Result<(), ApiError> {
    if def.steps.is_empty() || def.steps.len() > SCRIPT_STEPS_MAX {
        return Err(bad(format!("a script has 1 to {SCRIPT_STEPS_MAX} steps")));
    }
    let mut by_id: HashMap<&str, &ScriptStep> = HashMap::new();
    for step in &def.steps {
        if step.id.is_empty() || step.id.len() > 64 {
            return Err(bad("step ids are 1 to 64 characters".into()));
        }
        if by_id.insert(step.id.as_str(), step).is_some() {
            return Err(bad(format!("step {:?} is defined twice", step.id)));
        }
        if step.prompt.len() > 2_000 {
            return Err(bad(format!("step {:?}: prompt is longer than 2000 bytes", step.id)));
        }
        match step.kind.as_str() {
            "text" | "number" => {}
            "yes_no" => {
                if let Some(k) = step.branches.keys().find(|k| *k != "yes" && *k != "no") {
                    return Err(bad(format!(
                        "step {:?}: yes_no branches are \"yes\" and \"no\", not {k:?}",
                        step.id
                    )));
                }
            }
            "choice" => {
                if step.options.len() < 2 || step.options.len() > 20 {
                    return Err(bad(format!("step {:?}: a choice has 2 to 20 options", step.id)));
                }
                if let Some(k) = step.branches.keys().find(|k| !step.options.contains(k)) {
                    return Err(bad(format!("step {:?}: branch {k:?} is not an option", step.id)));
                }
            }
            "end" => {
                if step.next.is_some() || !step.branches.is_empty() {
                    return Err(bad(format!("step {:?}: an end step has no next step", step.id)));
                }
            }
            other => return Err(bad(format!("step {:?}: unknown kind {other:?}", step.id))),
        }
        if step.kind != "end" && step.next.is_none() {
            let every_answer_branches = match step.kind.as_str() {
                "yes_no" => step.branches.len() == 2,
                "choice" => step.branches.len() == step.options.len(),
                _ => false,
            };
            if !every_answer_branches {
                return Err(bad(format!("step {:?} has no next step for some answers", step.id)));
            }
        }
    }
    let targets = |s: &ScriptStep| -> Vec<String> {
        s.next.iter().chain(s.branches.values()).cloned().collect()
    };
    for step in &def.steps {
        for t in targets(step) {
            if !by_id.contains_key(t.as_str()) {
                return Err(bad(format!("step {:?} points to missing step {t:?}", step.id)));
            }
        }
    }
    if !by_id.contains_key(def.start.as_str()) {
        return Err(bad(format!("start step {:?} does not exist", def.start)));
    }
    // Reachable from start.
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack = vec![def.start.as_str()];
    while let Some(id) = stack.pop() {
        if seen.insert(id) {
            for t in by_id[id].next.iter().chain(by_id[id].branches.values()) {
                stack.push(t.as_str());
            }
        }
    }
    if let Some(s) = def.steps.iter().find(|s| !seen.contains(s.id.as_str())) {
        return Err(bad(format!("step {:?} cannot be reached from the start", s.id)));
    }
    // Every step can reach an end: walk edges backwards from the end steps.
    let mut exits: HashSet<&str> =
        def.steps.iter().filter(|s| s.kind == "end").map(|s| s.id.as_str()).collect();
    loop {
        let before = exits.len();
        for s in &def.steps {
            if s.next.iter().chain(s.branches.values()).any(|t| exits.contains(t.as_str())) {
                exits.insert(s.id.as_str());
            }
        }
        if exits.len() == before {
            break;
        }
    }
    if let Some(s) = def.steps.iter().find(|s| !exits.contains(s.id.as_str())) {
        return Err(bad(format!("step {:?} is in a loop without an exit", s.id)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(v: serde_json::Value) -> ScriptDef {
        serde_json::from_value(v).expect("test script parses")
    }

    fn good() -> serde_json::Value {
        json!({ "start": "q1", "steps": [
            { "id": "q1", "kind": "yes_no", "prompt": "Did the parcel arrive?", "branches": { "yes": "q2", "no": "q3" } },
            { "id": "q2", "kind": "number", "prompt": "Rate 1-5", "next": "done" },
            { "id": "q3", "kind": "choice", "prompt": "What now?", "options": ["resend", "refund"], "next": "done" },
            { "id": "done", "kind": "end", "prompt": "Thank you" }
        ]})
    }

    #[test]
    fn accepts_a_branching_script() {
        assert!(validate_script(&def(good())).is_ok());
    }

    fn error_of(mut v: serde_json::Value, f: impl FnOnce(&mut serde_json::Value)) -> String {
        f(&mut v);
        validate_script(&def(v)).expect_err("invalid").to_string()
    }

    #[test]
    fn rejects_dangling_unreachable_and_exitless_loops() {
        assert_eq!(
            error_of(good(), |v| v["steps"][1]["next"] = json!("nowhere")),
            "definition: step \"q2\" points to missing step \"nowhere\""
        );
        assert_eq!(
            error_of(good(), |v| v["steps"]
                .as_array_mut()
                .unwrap()
                .push(json!({"id": "orphan", "kind": "end", "prompt": "x"}))),
            "definition: step \"orphan\" cannot be reached from the start"
        );
        assert_eq!(
            error_of(good(), |v| v["steps"][1]["next"] = json!("q2")),
            "definition: step \"q2\" is in a loop without an exit"
        );
        assert_eq!(
            error_of(good(), |v| v["start"] = json!("zz")),
            "definition: start step \"zz\" does not exist"
        );
        assert_eq!(
            error_of(good(), |v| v["steps"][0]["branches"] = json!({"yes": "q2"})),
            "definition: step \"q1\" has no next step for some answers"
        );
        assert_eq!(
            error_of(good(), |v| v["steps"][2]["branches"] = json!({"maybe": "done"})),
            "definition: step \"q3\": branch \"maybe\" is not an option"
        );
        assert_eq!(
            error_of(good(), |v| v["steps"][1]["kind"] = json!("essay")),
            "definition: step \"q2\": unknown kind \"essay\""
        );
    }

    #[test]
    fn a_loop_with_an_exit_is_fine() {
        let v = json!({ "start": "a", "steps": [
            { "id": "a", "kind": "yes_no", "prompt": "Again?", "branches": { "yes": "a", "no": "end" } },
            { "id": "end", "kind": "end", "prompt": "Bye" }
        ]});
        assert!(validate_script(&def(v)).is_ok());
    }
}
