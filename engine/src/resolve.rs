//! Naming a process the way a person does: by its id, a unique start of its id, or its exact
//! title. Every front that takes a process from a person resolves it here, so that the same
//! name means the same process everywhere.

use crate::error::{Error, Result};
use crate::id;
use crate::record::ProcessRecord;
use crate::workspace::Workspace;

impl Workspace {
    /// The id of the one process `name` designates (see [`resolve`]). A whole id is taken as it
    /// is: the operation that follows reads only that process, and says what is wrong with it.
    /// Other names are looked up in the index as last saved, without its lock, so that naming a
    /// process never waits behind a writer; only a name found there by nothing takes a listing.
    pub fn resolve(&self, name: &str) -> Result<String> {
        if id::is_valid(name) {
            return Ok(name.to_owned());
        }
        match resolve(&self.store.saved_records(), name) {
            Err(Error::NoMatch(_)) => resolve(&self.list()?, name),
            found => found,
        }
    }
}

/// The id of the one record `name` designates. A whole id always means that record, whatever
/// the titles say, so a title can never take over an id. Otherwise every record whose title is
/// exactly `name` or whose id starts with `name` is a candidate: one is the answer, several are
/// an error that lists them, none is an error.
pub fn resolve(records: &[ProcessRecord], name: &str) -> Result<String> {
    if name.is_empty() {
        return Err(Error::NoMatch(String::new()));
    }
    if let Some(r) = records.iter().find(|r| r.id == name) {
        return Ok(r.id.clone());
    }
    let candidates: Vec<&ProcessRecord> = records
        .iter()
        .filter(|r| r.title == name || r.id.starts_with(name))
        .collect();
    match candidates.as_slice() {
        [one] => Ok(one.id.clone()),
        [] if id::is_valid(name) => Err(Error::NotFound(name.to_owned())),
        [] => Err(Error::NoMatch(name.to_owned())),
        many => Err(Error::Ambiguous {
            name: name.to_owned(),
            candidates: many.iter().map(|r| r.id.clone()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as `index.json` holds it, with only the fields it cannot do without.
    fn record(id: &str, title: &str) -> ProcessRecord {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "workspaceId": "ws_1",
            "title": title,
            "command": "true",
            "cwd": "/tmp",
            "status": "stopped",
            "startedAt": "2026-11-30T12:00:00Z",
        }))
        .expect("a record")
    }

    const A: &str = "proc_2026-11-30T1200_aaaaaa";
    const B: &str = "proc_2026-11-30T1200_abcdef";
    const C: &str = "proc_2026-11-30T1300_cccccc";

    fn records() -> Vec<ProcessRecord> {
        vec![record(A, "web"), record(B, "worker"), record(C, A)]
    }

    #[test]
    fn whole_ids_unique_prefixes_and_titles() {
        let rs = records();
        assert_eq!(resolve(&rs, B).unwrap(), B);
        assert_eq!(resolve(&rs, "proc_2026-11-30T1200_ab").unwrap(), B);
        assert_eq!(resolve(&rs, "proc_2026-11-30T13").unwrap(), C);
        assert_eq!(resolve(&rs, "worker").unwrap(), B);
        // C's title is A's id: the id wins.
        assert_eq!(resolve(&rs, A).unwrap(), A);
    }

    #[test]
    fn ambiguous_names_list_their_candidates() {
        let mut rs = records();
        rs.push(record("proc_2026-11-30T1400_dddddd", "web"));
        match resolve(&rs, "web") {
            Err(Error::Ambiguous { name, candidates }) => {
                assert_eq!(name, "web");
                assert_eq!(candidates, vec![A, "proc_2026-11-30T1400_dddddd"]);
            }
            other => panic!("{other:?}"),
        }
        match resolve(&rs, "proc_2026-11-30T1200_a") {
            Err(Error::Ambiguous { candidates, .. }) => assert_eq!(candidates, vec![A, B]),
            other => panic!("{other:?}"),
        }
        // A title that is a prefix of other ids: all of them are candidates.
        rs.push(record("proc_2026-11-30T1500_eeeeee", "proc_2026-11-30T13"));
        match resolve(&rs, "proc_2026-11-30T13") {
            Err(Error::Ambiguous { candidates, .. }) => {
                assert_eq!(candidates, vec![C, "proc_2026-11-30T1500_eeeeee"])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_names() {
        let rs = records();
        assert!(matches!(
            resolve(&rs, "proc_2026-01-01T0000_abcdef"),
            Err(Error::NotFound(_))
        ));
        for name in ["nothing", "", "../x", "Web", "proc_2026-11-30T1200_aaaaaa/"] {
            assert!(
                matches!(resolve(&rs, name), Err(Error::NoMatch(ref n)) if n == name),
                "{name:?}"
            );
        }
        // The empty title of a record is not matched by an empty name either.
        let rs = vec![record(A, "")];
        assert!(matches!(resolve(&rs, ""), Err(Error::NoMatch(_))));
    }
}
