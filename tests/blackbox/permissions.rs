//! The permission matrix with the shared-notes app: alice owns a note; bob is another
//! user; carol is a third user who is never given anything; anonymous callers have no
//! token. Every shared-notes walker is protected, so anonymous callers get 401.

use crate::support::{App, Reply, Server, User, assert_node, is_hex_id};
use serde_json::{Value, json};

/// Alice, bob and carol on a fresh shared-notes server, with one note of alice's.
struct World {
    server: Server,
    alice: User,
    bob: User,
    carol: User,
    note: String,
}

fn world() -> World {
    let server = Server::start(App::SharedNotes);
    let alice = server.register_and_login("alice@example.com");
    let bob = server.register_and_login("bob@example.com");
    let carol = server.register_and_login("carol@example.com");
    let note = create_note(&server, &alice, "alice's note");
    World {
        server,
        alice,
        bob,
        carol,
        note,
    }
}

fn create_note(server: &Server, owner: &User, text: &str) -> String {
    let reply = server.post_auth("/walker/CreateNote", json!({"text": text}), &owner.token);
    let note = reply.only_report();
    assert_eq!(note["text"], text, "{reply:?}");
    assert_node(note, "Note").to_owned()
}

impl World {
    /// Runs `walker` spawned on `node` as `user`.
    fn on(&self, walker: &str, node: &str, body: Value, user: &User) -> Reply {
        self.server
            .post_auth(&format!("/walker/{walker}/{node}"), body, &user.token)
    }

    /// The note's text as `user` reads it, or `None` if it is not found for them.
    fn text_seen_by(&self, user: &User) -> Option<String> {
        let reply = self.on("ReadNote", &self.note, json!({}), user);
        if reply.status == 404 {
            reply.err(404, "NOT_FOUND");
            return None;
        }
        let note = reply.only_report();
        assert_eq!(assert_node(note, "Note"), self.note, "{reply:?}");
        Some(note["text"].as_str().unwrap_or_default().to_owned())
    }

    /// `user`'s level on the note, as the host reports it to the guest.
    fn level_of(&self, user: &User) -> Value {
        let reply = self.on("MyAccess", &self.note, json!({}), user);
        reply.only_report()["level"].clone()
    }

    /// Alice opens her note to everyone at `level`.
    fn share(&self, level: &str) {
        let reply = self.on(
            "ShareNote",
            &self.note,
            json!({"level": level}),
            &self.alice,
        );
        assert_eq!(
            reply.only_report(),
            &json!({"shared": self.note, "level": level}),
            "{reply:?}"
        );
    }

    /// Alice gives one user `level` on her note.
    fn allow(&self, user: &User, level: &str) {
        let body = json!({"root_id": user.root_id, "level": level});
        let reply = self.on("AllowUser", &self.note, body, &self.alice);
        assert_eq!(
            reply.only_report(),
            &json!({"allowed": user.root_id, "note": self.note, "level": level}),
            "{reply:?}"
        );
    }

    /// `user` tries to edit the note; asserts it is refused and nothing changed.
    fn assert_edit_refused(&self, user: &User) {
        let before = self.text_seen_by(&self.alice);
        let reply = self.on("EditNote", &self.note, json!({"text": "defaced"}), user);
        reply.err(403, "FORBIDDEN");
        assert!(
            !reply.text.contains("defaced"),
            "refused write echoed: {reply:?}"
        );
        assert_eq!(
            self.text_seen_by(&self.alice),
            before,
            "refused edit was applied"
        );
    }

    /// `user` tries to delete the note; asserts it is refused and the note remains.
    fn assert_delete_refused(&self, user: &User) {
        self.on("DeleteNote", &self.note, json!({}), user)
            .err(403, "FORBIDDEN");
        assert!(
            self.text_seen_by(&self.alice).is_some(),
            "refused delete was applied"
        );
    }

    /// `user` links a note of their own to alice's note.
    fn link_from_own_note(&self, user: &User) -> Reply {
        let own = create_note(&self.server, user, "linker");
        self.on("LinkNote", &own, json!({"target_id": self.note}), user)
    }
}

#[test]
fn owner_reads_edits_shares_and_deletes_their_note() {
    let w = world();
    assert_eq!(w.text_seen_by(&w.alice).as_deref(), Some("alice's note"));
    assert_eq!(w.level_of(&w.alice), "WRITE");
    let reply = w.on("EditNote", &w.note, json!({"text": "edited"}), &w.alice);
    assert_eq!(reply.only_report()["text"], "edited", "{reply:?}");
    assert_eq!(w.text_seen_by(&w.alice).as_deref(), Some("edited"));
    w.share("READ");
    let reply = w.on("DeleteNote", &w.note, json!({}), &w.alice);
    assert_eq!(
        reply.only_report(),
        &json!({"deleted": w.note}),
        "{reply:?}"
    );
    assert_eq!(w.text_seen_by(&w.alice), None);
    assert_eq!(w.text_seen_by(&w.bob), None);
}

#[test]
fn other_user_cannot_see_an_unshared_note() {
    let w = world();
    assert_eq!(w.text_seen_by(&w.bob), None);
    for (walker, body) in [
        ("EditNote", json!({"text": "defaced"})),
        ("DeleteNote", json!({})),
        ("ShareNote", json!({"level": "WRITE"})),
        ("UnshareNote", json!({})),
        (
            "AllowUser",
            json!({"root_id": w.bob.root_id, "level": "WRITE"}),
        ),
        ("MyAccess", json!({})),
        ("LinkedNotes", json!({})),
        ("LinkNote", json!({"target_id": w.bob.root_id})),
    ] {
        let reply = w.on(walker, &w.note, body, &w.bob);
        reply.err(404, "NOT_FOUND");
        assert!(!reply.text.contains("alice's note"), "{reply:?}");
    }
    w.link_from_own_note(&w.bob).err(404, "NOT_FOUND");
    assert_eq!(w.text_seen_by(&w.alice).as_deref(), Some("alice's note"));
    // Nor through alice's root.
    w.on("LinkedNotes", &w.alice.root_id, json!({}), &w.bob)
        .err(404, "NOT_FOUND");
}

#[test]
fn anonymous_callers_are_unauthorized_on_protected_walkers() {
    let w = world();
    for walker in [
        "ReadNote",
        "EditNote",
        "DeleteNote",
        "ShareNote",
        "MyAccess",
    ] {
        w.server
            .post(
                &format!("/walker/{walker}/{}", w.note),
                json!({"text": "x"}),
            )
            .err(401, "UNAUTHORIZED");
    }
    w.server
        .post("/walker/CreateNote", json!({"text": "x"}))
        .err(401, "UNAUTHORIZED");
    // Even a note shared with everyone stays closed to callers without a token.
    w.share("WRITE");
    w.server
        .post(&format!("/walker/ReadNote/{}", w.note), json!({}))
        .err(401, "UNAUTHORIZED");
}

#[test]
fn granting_read_lets_everyone_read_but_not_link_edit_or_delete() {
    let w = world();
    w.share("READ");
    for user in [&w.bob, &w.carol] {
        assert_eq!(w.text_seen_by(user).as_deref(), Some("alice's note"));
        assert_eq!(w.level_of(user), "READ");
    }
    w.link_from_own_note(&w.bob).err(403, "FORBIDDEN");
    w.assert_edit_refused(&w.bob);
    w.assert_delete_refused(&w.bob);
    // Sharing needs write access too: bob cannot raise his own level.
    w.on("ShareNote", &w.note, json!({"level": "WRITE"}), &w.bob)
        .err(403, "FORBIDDEN");
    assert_eq!(w.level_of(&w.bob), "READ");
}

#[test]
fn granting_connect_lets_everyone_link_but_not_edit_or_delete() {
    let w = world();
    w.share("CONNECT");
    assert_eq!(w.level_of(&w.bob), "CONNECT");
    let reply = w.link_from_own_note(&w.bob);
    let edge = reply.only_report();
    assert_eq!(edge["_jac_archetype"], "edge", "{reply:?}");
    assert!(is_hex_id(&edge["_jac_id"]), "{reply:?}");
    w.assert_edit_refused(&w.bob);
    w.assert_delete_refused(&w.bob);
}

#[test]
fn linked_note_is_listed_for_whoever_may_read_it() {
    let w = world();
    w.share("CONNECT");
    let bobs = create_note(&w.server, &w.bob, "bob's hub");
    w.on("LinkNote", &bobs, json!({"target_id": w.note}), &w.bob)
        .only_report();
    let reply = w.on("LinkedNotes", &bobs, json!({}), &w.bob);
    let linked = reply
        .only_report()
        .as_array()
        .unwrap_or_else(|| panic!("{reply:?}"));
    let ids: Vec<&str> = linked
        .iter()
        .map(|note| assert_node(note, "Note"))
        .collect();
    assert_eq!(ids, vec![w.note.as_str()], "{reply:?}");

    // Once alice revokes, the edge stays but her note drops out of bob's view.
    w.on("UnshareNote", &w.note, json!({}), &w.alice)
        .only_report();
    let reply = w.on("LinkedNotes", &bobs, json!({}), &w.bob);
    assert_eq!(reply.only_report(), &json!([]), "{reply:?}");
}

#[test]
fn granting_write_lets_everyone_edit_and_delete() {
    let w = world();
    w.share("WRITE");
    assert_eq!(w.level_of(&w.bob), "WRITE");
    let reply = w.on("EditNote", &w.note, json!({"text": "bob was here"}), &w.bob);
    assert_eq!(reply.only_report()["text"], "bob was here", "{reply:?}");
    assert_eq!(w.text_seen_by(&w.alice).as_deref(), Some("bob was here"));
    w.on("DeleteNote", &w.note, json!({}), &w.carol)
        .only_report();
    assert_eq!(w.text_seen_by(&w.alice), None);
}

#[test]
fn revoking_takes_back_access_given_to_everyone() {
    let w = world();
    w.share("WRITE");
    assert!(w.text_seen_by(&w.bob).is_some());
    let reply = w.on("UnshareNote", &w.note, json!({}), &w.alice);
    assert_eq!(
        reply.only_report(),
        &json!({"unshared": w.note}),
        "{reply:?}"
    );
    assert_eq!(w.text_seen_by(&w.bob), None);
    assert_eq!(w.text_seen_by(&w.alice).as_deref(), Some("alice's note"));
}

#[test]
fn allowing_one_root_opens_the_note_to_that_user_only() {
    let w = world();
    w.allow(&w.bob, "READ");
    assert_eq!(w.text_seen_by(&w.bob).as_deref(), Some("alice's note"));
    assert_eq!(w.text_seen_by(&w.carol), None);
    w.assert_edit_refused(&w.bob);

    w.allow(&w.bob, "WRITE");
    assert_eq!(w.level_of(&w.bob), "WRITE");
    w.on("EditNote", &w.note, json!({"text": "co-written"}), &w.bob)
        .only_report();
    assert_eq!(w.text_seen_by(&w.alice).as_deref(), Some("co-written"));
    assert_eq!(w.text_seen_by(&w.carol), None);
}

#[test]
fn allowing_connect_to_one_root_lets_that_user_link() {
    let w = world();
    w.allow(&w.bob, "CONNECT");
    w.link_from_own_note(&w.bob).only_report();
    w.link_from_own_note(&w.carol).err(404, "NOT_FOUND");
}

#[test]
fn disallowing_one_root_takes_back_that_users_access() {
    let w = world();
    w.allow(&w.bob, "WRITE");
    w.allow(&w.carol, "READ");
    let body = json!({"root_id": w.bob.root_id});
    let reply = w.on("DisallowUser", &w.note, body, &w.alice);
    assert_eq!(
        reply.only_report(),
        &json!({"disallowed": w.bob.root_id, "note": w.note}),
        "{reply:?}"
    );
    assert_eq!(w.text_seen_by(&w.bob), None);
    assert_eq!(w.text_seen_by(&w.carol).as_deref(), Some("alice's note"));
}

#[test]
fn a_per_user_entry_wins_over_the_level_given_to_everyone() {
    let w = world();
    w.share("WRITE");
    w.allow(&w.bob, "READ");
    assert_eq!(w.level_of(&w.bob), "READ");
    assert_eq!(w.level_of(&w.carol), "WRITE");
    w.assert_edit_refused(&w.bob);
}

#[test]
fn allowing_a_user_on_the_own_root_opens_the_whole_graph() {
    let w = world();
    let second = create_note(&w.server, &w.alice, "alice's second note");
    let body = json!({"root_id": w.bob.root_id, "level": "READ"});
    let reply = w
        .server
        .post_auth("/walker/AllowMyGraph", body, &w.alice.token);
    assert_eq!(
        reply.only_report(),
        &json!({"allowed": w.bob.root_id, "root": w.alice.root_id, "level": "READ"}),
        "{reply:?}"
    );

    assert_eq!(w.text_seen_by(&w.bob).as_deref(), Some("alice's note"));
    let reply = w.on("ReadNote", &second, json!({}), &w.bob);
    assert_eq!(
        reply.only_report()["text"],
        "alice's second note",
        "{reply:?}"
    );
    let reply = w.on("LinkedNotes", &w.alice.root_id, json!({}), &w.bob);
    let listed = reply
        .only_report()
        .as_array()
        .unwrap_or_else(|| panic!("{reply:?}"));
    let ids: Vec<&str> = listed
        .iter()
        .map(|note| assert_node(note, "Note"))
        .collect();
    assert_eq!(ids, vec![w.note.as_str(), second.as_str()], "{reply:?}");

    w.assert_edit_refused(&w.bob);
    assert_eq!(w.text_seen_by(&w.carol), None);
}

#[test]
fn all_roots_lists_the_roots_a_user_may_read() {
    let w = world();
    let roots_of = |user: &User| -> Vec<Value> {
        let reply = w
            .server
            .post_auth("/walker/ListRoots", json!({}), &user.token);
        reply.only_report()["roots"]
            .as_array()
            .unwrap_or_else(|| panic!("{reply:?}"))
            .clone()
    };
    let alice_root = json!(w.alice.root_id);
    assert!(!roots_of(&w.bob).contains(&alice_root));
    let body = json!({"root_id": w.bob.root_id, "level": "READ"});
    w.server
        .post_auth("/walker/AllowMyGraph", body, &w.alice.token)
        .only_report();
    assert!(roots_of(&w.bob).contains(&alice_root));
    assert!(!roots_of(&w.carol).contains(&alice_root));
}

#[test]
fn my_root_is_the_root_id_of_the_login() {
    let w = world();
    let reply = w
        .server
        .post_auth("/walker/MyRoot", json!({}), &w.bob.token);
    assert_eq!(
        reply.only_report(),
        &json!({"root_id": w.bob.root_id}),
        "{reply:?}"
    );
}

#[test]
fn notes_stay_on_their_owners_root() {
    let w = world();
    create_note(&w.server, &w.bob, "bob's note");
    let list = |user: &User| -> Vec<Value> {
        let reply = w
            .server
            .post_auth("/walker/ListNotes", json!({}), &user.token);
        reply
            .only_report()
            .as_array()
            .unwrap_or_else(|| panic!("{reply:?}"))
            .iter()
            .map(|note| note["text"].clone())
            .collect()
    };
    assert_eq!(list(&w.alice), vec![json!("alice's note")]);
    assert_eq!(list(&w.bob), vec![json!("bob's note")]);
    assert!(list(&w.carol).is_empty());
}

#[test]
fn unknown_or_malformed_note_ids_are_not_found() {
    let w = world();
    for id in [
        "0123456789abcdef0123456789abcdef",
        "0123456789ABCDEF0123456789ABCDEF",
        "not-a-node-id",
        "12345",
        "%00",
    ] {
        for walker in ["ReadNote", "EditNote", "DeleteNote"] {
            let reply = w.server.post_auth(
                &format!("/walker/{walker}/{id}"),
                json!({"text": "x"}),
                &w.alice.token,
            );
            reply.err(404, "NOT_FOUND");
        }
    }
}

#[test]
fn deleted_note_is_not_found_for_everyone() {
    let w = world();
    w.share("READ");
    w.on("DeleteNote", &w.note, json!({}), &w.alice)
        .only_report();
    for user in [&w.alice, &w.bob] {
        for walker in ["ReadNote", "EditNote", "DeleteNote"] {
            w.on(walker, &w.note, json!({"text": "x"}), user)
                .err(404, "NOT_FOUND");
        }
    }
}

#[test]
fn a_refused_write_the_app_carries_on_after_is_listed_in_warnings_and_not_applied() {
    let w = world();
    w.share("READ");
    let reply = w.on("TryEditNote", &w.note, json!({"text": "defaced"}), &w.bob);
    let data = reply.ok();
    assert_eq!(data["reports"], json!([{"saved": false}]), "{reply:?}");
    let warnings = data["warnings"].as_array().expect("warnings listed");
    assert_eq!(warnings.len(), 1, "{reply:?}");
    assert!(
        warnings[0].as_str().unwrap_or_default().contains(&w.note),
        "{reply:?}"
    );
    assert_eq!(w.text_seen_by(&w.alice).as_deref(), Some("alice's note"));
}

#[test]
fn a_write_the_owner_makes_has_no_warnings() {
    let w = world();
    let reply = w.on("TryEditNote", &w.note, json!({"text": "new"}), &w.alice);
    let data = reply.ok();
    assert_eq!(data["reports"], json!([{"saved": true}]), "{reply:?}");
    assert!(data.get("warnings").is_none(), "{reply:?}");
    assert_eq!(w.text_seen_by(&w.alice).as_deref(), Some("new"));
}

/// The spec's permission functions, served from Jac (`examples/permissions-jac`):
/// `perm_grant`/`perm_revoke` open a node to everyone and close it again,
/// `allow_root`/`disallow_root` do the same for one user.
#[test]
fn spec_permission_functions_open_and_close_a_node() {
    let server = Server::start(App::PermissionsJac);
    let alice = server.register_and_login("alice@example.com");
    let bob = server.register_and_login("bob@example.com");
    let carol = server.register_and_login("carol@example.com");
    let on = |walker: &str, doc: &str, body: Value, user: &User| {
        server.post_auth(&format!("/walker/{walker}/{doc}"), body, &user.token)
    };
    let reply = server.post_auth("/walker/create_doc", json!({"text": "draft"}), &alice.token);
    let doc = assert_node(reply.only_report(), "Doc").to_owned();
    let text_for = |user: &User| -> Option<Value> {
        let reply = on("read_doc", &doc, json!({}), user);
        if reply.status == 404 {
            reply.err(404, "NOT_FOUND");
            return None;
        }
        Some(reply.only_report()["text"].clone())
    };
    assert_eq!(text_for(&alice), Some(json!("draft")));
    assert_eq!(text_for(&bob), None);

    on("grant_everyone", &doc, json!({"level": "READ"}), &alice).only_report();
    assert_eq!(text_for(&bob), Some(json!("draft")));
    assert_eq!(text_for(&carol), Some(json!("draft")));
    let reply = on("edit_doc", &doc, json!({"text": "bob's"}), &bob);
    assert!(
        reply.ok()["warnings"].to_string().contains(&doc),
        "{reply:?}"
    );
    assert_eq!(text_for(&alice), Some(json!("draft")));

    on("grant_everyone", &doc, json!({"level": "WRITE"}), &alice).only_report();
    let reply = on("edit_doc", &doc, json!({"text": "bob's"}), &bob);
    assert!(reply.ok().get("warnings").is_none(), "{reply:?}");
    assert_eq!(text_for(&alice), Some(json!("bob's")));

    on("revoke_everyone", &doc, json!({}), &alice).only_report();
    assert_eq!(text_for(&bob), None);
    assert_eq!(text_for(&carol), None);

    let grant = json!({"target_root_id": bob.root_id, "level": "READ"});
    on("allow_user", &doc, grant.clone(), &alice).only_report();
    assert_eq!(text_for(&bob), Some(json!("bob's")));
    assert_eq!(text_for(&carol), None);
    on("disallow_user", &doc, grant, &alice).only_report();
    assert_eq!(text_for(&bob), None);
    server
        .post(&format!("/walker/read_doc/{doc}"), json!({}))
        .err(401, "UNAUTHORIZED");
}
