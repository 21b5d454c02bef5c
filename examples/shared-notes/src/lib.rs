//! Notes shared between users, to test the permission matrix end to end: a user creates
//! notes on their own root, then opens them to everyone (`perm_grant`) or to one user
//! (`allow_root`) at READ, CONNECT or WRITE, and other users read, edit, link or delete
//! them by id. Every walker that acts on a note is spawned on it:
//! `POST /walker/{name}/{note_id}`. The host checks each graph call against the caller:
//! reading needs READ, linking needs CONNECT on both ends, editing, deleting and sharing
//! need WRITE. Levels are `"NO_ACCESS"`, `"READ"`, `"CONNECT"` or `"WRITE"`.
//!
//! Build and run:
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2 -p shared-notes
//! jac-scale start target/wasm32-wasip2/release/shared_notes.wasm
//! ```

use jac_scale_guest::prelude::*;

/// A note.
#[node]
pub struct Note {
    /// Its text.
    pub text: String,
}

/// Creates a note on the caller's root and reports it.
#[walker]
pub struct CreateNote {
    /// The note's text.
    text: String,
}

#[walker]
impl CreateNote {
    #[entry(Root)]
    fn create(&mut self, w: &mut Walk) -> Result {
        let note = w.attach(w.here(), Note::new(&self.text))?;
        w.report(note)
    }
}

/// Reports the note it is spawned on (needs READ).
#[walker]
pub struct ReadNote {}

#[walker]
impl ReadNote {
    #[entry]
    fn read(&mut self, w: &mut Walk) -> Result {
        w.report(w.here_as::<Note>()?)
    }
}

/// Replaces the text of the note it is spawned on and reports it (needs WRITE).
#[walker]
pub struct EditNote {
    /// The new text.
    text: String,
}

#[walker]
impl EditNote {
    #[entry]
    fn edit(&mut self, w: &mut Walk) -> Result {
        let mut note = w.here_as::<Note>()?;
        note.text.clone_from(&self.text);
        w.save(&note)?;
        w.report(note)
    }
}

/// Like `EditNote`, but carries on when the write is refused, as Jac code does: the
/// refused write is not applied and the answer lists it in `data.warnings`.
/// Reports `{"saved": bool}`.
#[walker]
pub struct TryEditNote {
    /// The new text.
    text: String,
}

#[walker]
impl TryEditNote {
    #[entry]
    fn edit(&mut self, w: &mut Walk) -> Result {
        let mut note = w.here_as::<Note>()?;
        note.text.clone_from(&self.text);
        let saved = w.save(&note).is_ok();
        w.report(json!({ "saved": saved }))
    }
}

/// Deletes the note it is spawned on, with its edges (needs WRITE).
/// Reports `{"deleted": note_id}`.
#[walker]
pub struct DeleteNote {}

#[walker]
impl DeleteNote {
    #[entry]
    fn delete(&mut self, w: &mut Walk) -> Result {
        let note = w.here_as::<Note>()?;
        w.delete(&note)?;
        w.report(json!({"deleted": note.id()}))
    }
}

/// Opens the note it is spawned on to every user at `level` (`perm_grant`; needs WRITE).
/// Reports `{"shared": note_id, "level": level}`.
#[walker]
pub struct ShareNote {
    /// The level everyone gets.
    #[jac(default = "READ")]
    level: AccessLevel,
}

#[walker]
impl ShareNote {
    #[entry]
    fn share(&mut self, w: &mut Walk) -> Result {
        let note = w.here_as::<Note>()?;
        w.grant(&note, self.level)?;
        w.report(json!({"shared": note.id(), "level": self.level}))
    }
}

/// Takes back the access given to everyone on the note it is spawned on (`perm_revoke`;
/// needs WRITE). Reports `{"unshared": note_id}`.
#[walker]
pub struct UnshareNote {}

#[walker]
impl UnshareNote {
    #[entry]
    fn unshare(&mut self, w: &mut Walk) -> Result {
        let note = w.here_as::<Note>()?;
        w.revoke(&note)?;
        w.report(json!({"unshared": note.id()}))
    }
}

/// Gives one user (by root id) `level` access to the note it is spawned on
/// (`allow_root`; needs WRITE). Reports `{"allowed": root_id, "note": note_id, "level": level}`.
#[walker]
pub struct AllowUser {
    /// The user's root id (see `MyRoot`).
    root_id: String,
    /// The level the user gets.
    #[jac(default = "READ")]
    level: AccessLevel,
}

#[walker]
impl AllowUser {
    #[entry]
    fn allow(&mut self, w: &mut Walk) -> Result {
        let note = w.here_as::<Note>()?;
        w.allow_root(&note, &Id::from(&self.root_id), self.level)?;
        w.report(json!({"allowed": self.root_id, "note": note.id(), "level": self.level}))
    }
}

/// Takes back one user's access to the note it is spawned on (`disallow_root`; needs
/// WRITE). Reports `{"disallowed": root_id, "note": note_id}`.
#[walker]
pub struct DisallowUser {
    /// The user's root id.
    root_id: String,
}

#[walker]
impl DisallowUser {
    #[entry]
    fn disallow(&mut self, w: &mut Walk) -> Result {
        let note = w.here_as::<Note>()?;
        w.disallow_root(&note, &Id::from(&self.root_id))?;
        w.report(json!({"disallowed": self.root_id, "note": note.id()}))
    }
}

/// Gives one user `level` access to the caller's own root, so that they can list or
/// link from it. Reports `{"allowed": root_id, "root": my_root_id, "level": level}`.
#[walker]
pub struct AllowMyGraph {
    /// The user's root id.
    root_id: String,
    /// The level the user gets.
    #[jac(default = "READ")]
    level: AccessLevel,
}

#[walker]
impl AllowMyGraph {
    #[entry(Root)]
    fn allow(&mut self, w: &mut Walk) -> Result {
        let root = w.root();
        w.allow_root(&root, &Id::from(&self.root_id), self.level)?;
        w.report(json!({"allowed": self.root_id, "root": root.id(), "level": self.level}))
    }
}

/// Connects the note it is spawned on to another node (`note ++> target`; needs CONNECT
/// on both). Reports the new edge.
#[walker]
pub struct LinkNote {
    /// The id of the node to link to.
    target_id: String,
}

#[walker]
impl LinkNote {
    #[entry]
    fn link(&mut self, w: &mut Walk) -> Result {
        let note = w.here_as::<Note>()?;
        let edge = w.connect(&note, &Id::from(&self.target_id))?;
        w.report(edge)
    }
}

/// Reports the notes linked from the node it is spawned on that the caller may read
/// (`[-->][?:Note]`).
#[walker]
pub struct LinkedNotes {}

#[walker]
impl LinkedNotes {
    #[entry]
    fn linked(&mut self, w: &mut Walk) -> Result {
        w.report(w.neighbors(w.here()).of::<Note>()?)
    }
}

/// Reports the caller's access level to the node it is spawned on: `{"level": level}`.
#[walker]
pub struct MyAccess {}

#[walker]
impl MyAccess {
    #[entry]
    fn access(&mut self, w: &mut Walk) -> Result {
        w.report(json!({"level": w.access(w.here())}))
    }
}

/// Reports the caller's root id: `{"root_id": id}`.
#[walker]
pub struct MyRoot {}

#[walker]
impl MyRoot {
    #[entry(Root)]
    fn root(&mut self, w: &mut Walk) -> Result {
        w.report(json!({"root_id": w.root().id()}))
    }
}

/// Reports every user root the caller may read (`allroots()`): `{"roots": [id, ...]}`.
#[walker]
pub struct ListRoots {}

#[walker]
impl ListRoots {
    #[entry(Root)]
    fn roots(&mut self, w: &mut Walk) -> Result {
        w.report(json!({"roots": w.all_roots()}))
    }
}

/// Reports the notes on the caller's root (`[root -->][?:Note]`).
#[walker]
pub struct ListNotes {}

#[walker]
impl ListNotes {
    #[entry(Root)]
    fn list(&mut self, w: &mut Walk) -> Result {
        w.report(w.neighbors(&w.root()).of::<Note>()?)
    }
}

jac_scale_guest::app!(
    CreateNote,
    ReadNote,
    EditNote,
    TryEditNote,
    DeleteNote,
    ShareNote,
    UnshareNote,
    AllowUser,
    DisallowUser,
    AllowMyGraph,
    LinkNote,
    LinkedNotes,
    MyAccess,
    MyRoot,
    ListRoots,
    ListNotes,
);

/// The walkers' own logic, on the SDK's single-user in-memory graph; the permission
/// matrix itself is the host's and is tested end to end against the server.
#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use jac_scale_guest::testing::MemoryGraph;

    use super::*;

    fn setup() -> (Rc<MemoryGraph>, Ctx, Id) {
        let graph = Rc::new(MemoryGraph::new());
        let cx = Ctx::new(graph.clone());
        cx.spawn(CreateNote::new("hello"), cx.root())
            .expect("creates");
        let id = Id::from(cx.take_reports()[0]["_jac_id"].as_str().expect("an id"));
        (graph, cx, id)
    }

    #[test]
    fn notes_are_created_read_edited_and_deleted_by_id() {
        let (graph, cx, note) = setup();
        cx.spawn(EditNote::new("bye"), &note).expect("edits");
        cx.spawn(ReadNote::new(), &note).expect("reads");
        assert_eq!(cx.take_reports()[1]["text"], "bye");
        cx.spawn(ListNotes::new(), cx.root()).expect("lists");
        assert_eq!(cx.take_reports()[0].as_array().map(Vec::len), Some(1));
        cx.spawn(DeleteNote::new(), &note).expect("deletes");
        assert_eq!(graph.node_count(), 1);
    }

    #[test]
    fn sharing_reaches_the_host() {
        let (graph, cx, note) = setup();
        let mut share = ShareNote::new();
        share.level = AccessLevel::Write;
        cx.spawn(share, &note).expect("shares");
        assert_eq!(graph.granted(&note), Some(AccessLevel::Write));
        cx.spawn(UnshareNote::new(), &note).expect("unshares");
        assert_eq!(graph.granted(&note), None);

        let friend = "ab".repeat(16);
        cx.spawn(AllowUser::new(friend.clone()), &note)
            .expect("allows");
        assert_eq!(
            graph.allowed(&note, &Id::from(&friend)),
            Some(AccessLevel::Read)
        );
        cx.spawn(AllowMyGraph::new(friend.clone()), cx.root())
            .expect("allows root");
        assert_eq!(
            graph.allowed(cx.root().id(), &Id::from(&friend)),
            Some(AccessLevel::Read)
        );
    }

    #[test]
    fn linked_notes_are_listed_from_the_note() {
        let (_, cx, note) = setup();
        let other = cx.create(Note::new("other")).expect("creates");
        cx.spawn(LinkNote::new(other.id().as_str()), &note)
            .expect("links");
        assert_eq!(cx.take_reports()[0]["_jac_archetype"], "edge");
        cx.spawn(LinkedNotes::new(), &note).expect("lists");
        assert_eq!(cx.take_reports()[0][0]["text"], "other");
    }

    #[test]
    fn note_walkers_spawned_on_root_raise_type_error() {
        let (_, cx, _) = setup();
        let error = cx
            .spawn(ReadNote::new(), cx.root())
            .expect_err("root is no note");
        assert_eq!(error.to_string(), "TypeError: expected a Note, got a Root");
    }
}
