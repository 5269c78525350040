//! The order of a stack: every dependency names an entry, there is no cycle, and a selection of
//! entries comes with what it depends on, each after its dependencies.

use std::collections::HashSet;

use crate::error::{Error, Result};

use super::{invalid, Stack, StackEntry};

/// Checks that every dependency exists and that no entry depends on itself, even through others.
pub(super) fn check(stack: &Stack) -> Result<()> {
    for entry in &stack.entries {
        for dep in &entry.depends_on {
            if stack.entry(dep).is_none() {
                let names: Vec<&str> = stack.entries.iter().map(|e| e.name.as_str()).collect();
                return Err(invalid(
                    &stack.file,
                    entry.line,
                    format!(
                        "{} depends on {dep:?}, which is not in the stack (it has {})",
                        entry.name,
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    for entry in &stack.entries {
        if let Some(cycle) = cycle_from(stack, entry) {
            return Err(invalid(
                &stack.file,
                entry.line,
                format!(
                    "the dependencies go round in a cycle: {}",
                    cycle.join(" → ")
                ),
            ));
        }
    }
    Ok(())
}

/// A path of dependencies from `start` back to itself, if there is one.
fn cycle_from<'a>(stack: &'a Stack, start: &'a StackEntry) -> Option<Vec<&'a str>> {
    fn walk<'a>(
        stack: &'a Stack,
        start: &str,
        at: &'a StackEntry,
        path: &mut Vec<&'a str>,
        seen: &mut HashSet<&'a str>,
    ) -> bool {
        for dep in &at.depends_on {
            if dep == start {
                path.push(dep);
                return true;
            }
            let Some(next) = stack.entry(dep) else {
                continue;
            };
            if !seen.insert(next.name.as_str()) {
                continue;
            }
            path.push(&next.name);
            if walk(stack, start, next, path, seen) {
                return true;
            }
            path.pop();
        }
        false
    }
    let mut path = vec![start.name.as_str()];
    let mut seen = HashSet::new();
    walk(stack, &start.name, start, &mut path, &mut seen).then_some(path)
}

/// `names` (or every autostart entry) and what they depend on, dependencies first; within that,
/// the file's order.
pub(super) fn selection<'a>(stack: &'a Stack, names: &[String]) -> Result<Vec<&'a StackEntry>> {
    let mut wanted: Vec<&StackEntry> = Vec::new();
    if names.is_empty() {
        wanted.extend(stack.entries.iter().filter(|e| e.autostart));
    } else {
        for name in names {
            let entry = stack.entry(name).ok_or_else(|| Error::Stack {
                file: stack.file.clone(),
                line: None,
                message: format!(
                    "no entry named {name:?} (it has {})",
                    stack
                        .entries
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
            wanted.push(entry);
        }
    }
    let mut ordered: Vec<&StackEntry> = Vec::new();
    // `check` has made sure every dependency exists and none goes round; `entered` keeps a
    // stack built some other way from recursing for ever.
    fn visit<'a>(
        stack: &'a Stack,
        entry: &'a StackEntry,
        ordered: &mut Vec<&'a StackEntry>,
        entered: &mut HashSet<&'a str>,
    ) {
        if !entered.insert(entry.name.as_str()) {
            return;
        }
        for dep in &entry.depends_on {
            if let Some(dep) = stack.entry(dep) {
                visit(stack, dep, ordered, entered);
            }
        }
        ordered.push(entry);
    }
    let mut entered = HashSet::new();
    for entry in wanted {
        visit(stack, entry, &mut ordered, &mut entered);
    }
    Ok(ordered)
}
