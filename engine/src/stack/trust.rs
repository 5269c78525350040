//! Whether this user has seen and confirmed what a stack runs. A stack file can come with a
//! cloned repository, and starting it runs whatever its author wrote; so a stack starts from the
//! app only once the user has confirmed its commands, and again after the file changes. The
//! confirmation is a tag under the user's record key (see [`crate::origin`]) over the folder and
//! the file's content, kept in the store: a repository can ship a store, but not a tag that
//! verifies under a key only this user can read.

use crate::error::Result;
use crate::workspace::Workspace;

use super::Stack;

/// The file in the store that holds the confirmation of the current stack file.
const CONFIRMATION: &str = "stack-confirmed";

impl Workspace {
    /// Whether this user confirmed running `stack` as its file now reads.
    pub fn stack_confirmed(&self, stack: &Stack) -> bool {
        let path = self.store.dir().join(CONFIRMATION);
        match crate::nofollow::read(&path) {
            Ok(Some(bytes)) => self.store.trust().stack_confirmed(
                &String::from_utf8_lossy(&bytes),
                &stack.digest,
                self.folder(),
            ),
            _ => false,
        }
    }

    /// Records that this user confirmed running `stack` as its file now reads.
    pub fn confirm_stack(&self, stack: &Stack) -> Result<()> {
        let Some(tag) = self.store.trust().sign_stack(&stack.digest, self.folder()) else {
            // Without a usable key nothing can be remembered: the next start asks again.
            return Ok(());
        };
        crate::atomic::write(
            &self.store.dir().join(CONFIRMATION),
            format!("{tag}\n").as_bytes(),
        )
    }
}
