//! `examples/social-jac` through the real binary: ann, bob and cat each have a profile on
//! their own root; everything they do to each other goes through grants (profiles at
//! ConnectPerm, tweets at WritePerm, channels at ConnectPerm or ReadPerm plus
//! `allow_root`). Anonymous callers use the `:pub` walkers. Ids the app reports are the
//! permanent ones: every test posts them back to `/walker/{name}/{id}`.

use serde_json::{Value, json};

use crate::support::{App, Reply, Server, User, assert_node, is_hex_id};

/// A server with three users, each with a profile.
struct World {
    server: Server,
    ann: User,
    bob: User,
    cat: User,
    /// Profile ids of ann, bob and cat.
    profiles: [String; 3],
}

fn world() -> World {
    let server = Server::start(App::SocialJac);
    let users = ["ann", "bob", "cat"].map(|name| {
        let user = server.register_and_login(&format!("{name}@example.com"));
        let body = json!({"username": name, "bio": format!("I am {name}")});
        let reply = server.post_auth("/walker/setup_profile", body, &user.token);
        let report = reply.only_report();
        assert_eq!(report["created"], true, "{reply:?}");
        let id = permanent_id(&report["profile"]["id"], &reply);
        (user, id)
    });
    let [(ann, a), (bob, b), (cat, c)] = users;
    World {
        server,
        ann,
        bob,
        cat,
        profiles: [a, b, c],
    }
}

/// A 32-hex id that is not a provisional one (those began with 16 zeros).
fn permanent_id(value: &Value, reply: &Reply) -> String {
    assert!(is_hex_id(value), "not an id: {value} in {reply:?}");
    let id = value.as_str().unwrap_or_default();
    assert!(
        !id.starts_with("0000000000000000"),
        "provisional id {id}: {reply:?}"
    );
    id.to_owned()
}

fn warnings(reply: &Reply) -> Vec<String> {
    reply.ok()["warnings"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|w| w.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn usernames(cards: &Value) -> Vec<&str> {
    cards
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {cards}"))
        .iter()
        .map(|card| card["username"].as_str().unwrap_or_default())
        .collect()
}

impl World {
    fn call(&self, walker: &str, body: Value, user: &User) -> Reply {
        self.server
            .post_auth(&format!("/walker/{walker}"), body, &user.token)
    }

    fn on(&self, walker: &str, node: &str, body: Value, user: &User) -> Reply {
        self.server
            .post_auth(&format!("/walker/{walker}/{node}"), body, &user.token)
    }

    /// `POST /walker/{walker}[/{node}]` without a token.
    fn anonymous(&self, walker: &str, node: Option<&str>, body: Value) -> Reply {
        match node {
            Some(node) => self.server.post(&format!("/walker/{walker}/{node}"), body),
            None => self.server.post(&format!("/walker/{walker}"), body),
        }
    }

    fn follow(&self, user: &User, profile: usize) -> Value {
        let reply = self.on("follow_user", &self.profiles[profile], json!({}), user);
        assert!(warnings(&reply).is_empty(), "{reply:?}");
        reply.only_report().clone()
    }

    fn tweet(&self, user: &User, content: &str) -> String {
        let reply = self.call("create_tweet", json!({"content": content}), user);
        let report = reply.only_report();
        let id = permanent_id(&report["id"], &reply);
        assert_eq!(report["anchor"], id, "__jac__.id.hex is jid: {reply:?}");
        assert_eq!(assert_node(&report["tweet"], "Tweet"), id, "{reply:?}");
        id
    }

    /// The card of every profile, as an anonymous caller lists them.
    fn cards(&self) -> Value {
        let reply = self.anonymous("list_profiles", None, json!({}));
        reply.only_report().clone()
    }

    fn feed_of(&self, user: &User) -> Vec<String> {
        let reply = self.call("load_feed", json!({}), user);
        let feed = reply.only_report();
        feed.as_array()
            .unwrap_or_else(|| panic!("{reply:?}"))
            .iter()
            .map(|tweet| tweet["content"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

#[test]
fn profiles_are_listed_found_and_followed_across_users() {
    let w = world();
    // Setting up again keeps the existing profile.
    let reply = w.call("setup_profile", json!({"username": "other"}), &w.cat);
    let report = reply.only_report();
    assert_eq!(report["created"], false, "{reply:?}");
    assert_eq!(report["profile"]["username"], "cat", "{reply:?}");

    // allroots() lists every user's root; an anonymous caller reads the shared profiles.
    let cards = w.cards();
    assert_eq!(usernames(&cards), ["ann", "bob", "cat"]);
    let ids: Vec<&Value> = cards.as_array().unwrap().iter().map(|c| &c["id"]).collect();
    assert_eq!(ids, w.profiles.iter().collect::<Vec<_>>());

    // find_profile visits other users' roots and disengages at the match.
    let reply = w.anonymous("find_profile", None, json!({"username": "bob"}));
    assert_eq!(reply.only_report()["id"], w.profiles[1], "{reply:?}");
    let visited = reply.result()["visited"].as_i64().unwrap_or_default();
    assert!((1..=3).contains(&visited), "{reply:?}");
    let reply = w.anonymous("find_profile", None, json!({"username": "nobody"}));
    assert!(reply.reports().is_empty(), "{reply:?}");
    assert_eq!(reply.result()["visited"], 3, "{reply:?}");

    // Following: a node ability where `root` is the caller's root.
    assert_eq!(
        w.follow(&w.bob, 0),
        json!({"following": "ann", "new": true})
    );
    assert_eq!(
        w.follow(&w.bob, 0),
        json!({"following": "ann", "new": false})
    );
    assert_eq!(
        w.follow(&w.bob, 1),
        json!({"error": "you cannot follow yourself"})
    );
    w.follow(&w.cat, 0);
    w.follow(&w.cat, 1);
    let cards = w.cards();
    assert_eq!(cards[0]["followers"], json!(["bob", "cat"]), "{cards}");
    assert_eq!(cards[2]["following"], json!(["ann", "bob"]), "{cards}");

    // Unfollow deletes the caller's own edge; a second unfollow finds none.
    let reply = w.on("unfollow_user", &w.profiles[0], json!({}), &w.bob);
    assert_eq!(
        reply.only_report(),
        &json!({"unfollowed": "ann", "followers": ["cat"]}),
        "{reply:?}"
    );
    let reply = w.on("unfollow_user", &w.profiles[0], json!({}), &w.bob);
    assert_eq!(
        reply.only_report(),
        &json!({"unfollowed": false}),
        "{reply:?}"
    );
    assert_eq!(w.cards()[0]["followers"], json!(["cat"]));
}

#[test]
fn feeds_follow_typed_paths_through_other_users_graphs() {
    let w = world();
    w.tweet(&w.ann, "ann 1");
    w.tweet(&w.bob, "bob 1");
    w.tweet(&w.ann, "ann 2");
    assert_eq!(w.feed_of(&w.cat), Vec::<String>::new());
    w.follow(&w.cat, 0);
    w.follow(&w.cat, 1);
    w.follow(&w.bob, 0);
    // Newest first: the exit ability sorts what the entry abilities collected.
    assert_eq!(w.feed_of(&w.cat), ["ann 2", "bob 1", "ann 1"]);
    assert_eq!(w.feed_of(&w.bob), ["ann 2", "bob 1", "ann 1"]);
    assert_eq!(w.feed_of(&w.ann), ["ann 2", "ann 1"]);
    w.on("unfollow_user", &w.profiles[0], json!({}), &w.cat)
        .only_report();
    assert_eq!(w.feed_of(&w.cat), ["bob 1"]);
}

#[test]
fn others_like_and_comment_by_writing_shared_tweets_and_trending_ranks_them() {
    let w = world();
    let ann_tweet = w.tweet(&w.ann, "ann's news");
    let bob_tweet = w.tweet(&w.bob, "bob's news");
    // The ids reported in the creating call reach the tweets.
    for (user, likes) in [(&w.bob, 1), (&w.cat, 2), (&w.cat, 2)] {
        let reply = w.on("like_tweet", &ann_tweet, json!({}), user);
        assert_eq!(reply.only_report()["likes"], likes, "{reply:?}");
        assert!(warnings(&reply).is_empty(), "{reply:?}");
    }
    w.on("like_tweet", &bob_tweet, json!({}), &w.ann)
        .only_report();

    let reply = w.on(
        "comment_tweet",
        &bob_tweet,
        json!({"text": "well said"}),
        &w.cat,
    );
    let reports = reply.reports();
    let comment = &reports[0];
    assert_eq!(comment["_jac_type"], "Comment", "{reply:?}");
    assert_eq!(comment["_jac_archetype"], "archetype", "{reply:?}");
    permanent_id(&comment["_jac_id"], &reply);
    assert_eq!(
        reports[1]["comments"],
        json!([{"author": "cat", "text": "well said"}]),
        "{reply:?}"
    );

    let reply = w.anonymous("trending", None, json!({"limit": 2}));
    let top = reply.only_report();
    let ranked: Vec<(&Value, &Value)> = top
        .as_array()
        .unwrap_or_else(|| panic!("{reply:?}"))
        .iter()
        .map(|t| (&t["id"], &t["likes"]))
        .collect();
    assert_eq!(
        ranked,
        [
            (&json!(ann_tweet), &json!(2)),
            (&json!(bob_tweet), &json!(1))
        ],
        "{reply:?}"
    );
    assert_eq!(top[1]["comments"][0]["text"], "well said", "{reply:?}");
}

#[test]
fn a_profile_others_may_only_connect_to_refuses_their_writes() {
    let w = world();
    let reply = w.on(
        "update_bio",
        &w.profiles[0],
        json!({"bio": "defaced"}),
        &w.bob,
    );
    let shown = reply.only_report();
    assert_eq!(assert_node(shown, "Profile"), w.profiles[0], "{reply:?}");
    assert_eq!(
        shown["bio"], "I am ann",
        "the refused write is not shown: {reply:?}"
    );
    let refused = warnings(&reply);
    assert_eq!(refused.len(), 1, "{reply:?}");
    assert!(refused[0].contains(&w.profiles[0]), "{reply:?}");
    assert_eq!(w.cards()[0]["bio"], "I am ann");

    let reply = w.on("update_bio", &w.profiles[0], json!({"bio": "mine"}), &w.ann);
    assert!(warnings(&reply).is_empty(), "{reply:?}");
    assert_eq!(reply.only_report()["bio"], "mine", "{reply:?}");
    assert_eq!(w.cards()[0]["bio"], "mine");
}

#[test]
fn channels_enforce_connect_access_and_invitations() {
    let w = world();
    let create = |name: &str, announce: bool| {
        let body = json!({"name": name, "announce": announce});
        let reply = w.call("create_channel", body, &w.ann);
        let report = reply.only_report();
        assert_eq!(report["members"], json!(["ann"]), "{reply:?}");
        permanent_id(&report["id"], &reply)
    };
    let open = create("open", false);
    let news = create("news", true);
    let members = |channel: &str| {
        let reply = w.anonymous("read_channel", Some(channel), json!({}));
        reply.only_report()["members"].clone()
    };

    // An open channel: bob joins and posts into it.
    let reply = w.on("join_channel", &open, json!({}), &w.bob);
    assert_eq!(
        reply.only_report()["members"],
        json!(["ann", "bob"]),
        "{reply:?}"
    );
    let reply = w.on(
        "post_to_channel",
        &open,
        json!({"content": "hi all"}),
        &w.bob,
    );
    let posted = permanent_id(&reply.only_report()["posted"], &reply);
    let reply = w.anonymous("read_channel", Some(&open), json!({}));
    let posts = &reply.only_report()["posts"];
    assert_eq!(posts[0]["id"], posted, "{reply:?}");
    assert_eq!(posts[0]["author"], "bob", "{reply:?}");

    // An announcement channel is readable, not connectable: the join and the post are
    // refused, the walker carries on and the response lists the refusals.
    let reply = w.on("join_channel", &news, json!({}), &w.cat);
    assert_eq!(reply.only_report()["members"], json!(["ann"]), "{reply:?}");
    let refused = warnings(&reply);
    assert_eq!(refused.len(), 1, "{reply:?}");
    assert!(refused[0].contains(&news), "{reply:?}");
    let reply = w.on("post_to_channel", &news, json!({"content": "spam"}), &w.cat);
    assert_eq!(reply.only_report(), &json!({"posted": null}), "{reply:?}");
    assert_eq!(warnings(&reply).len(), 1, "{reply:?}");
    let reply = w.anonymous("read_channel", Some(&news), json!({}));
    assert_eq!(reply.only_report()["posts"], json!([]), "{reply:?}");

    // Only the owner invites; an invitation (allow_root) lets exactly that user join.
    let invite =
        |by: &User, whom: &User| w.on("invite", &news, json!({"root_id": whom.root_id}), by);
    let reply = invite(&w.bob, &w.bob);
    assert_eq!(warnings(&reply).len(), 1, "{reply:?}");
    invite(&w.ann, &w.cat).only_report();
    let reply = w.on("join_channel", &news, json!({}), &w.cat);
    assert!(warnings(&reply).is_empty(), "{reply:?}");
    assert_eq!(members(&news), json!(["ann", "cat"]));
    let reply = w.on("join_channel", &news, json!({}), &w.bob);
    assert_eq!(warnings(&reply).len(), 1, "{reply:?}");
    assert_eq!(members(&news), json!(["ann", "cat"]));

    // Leaving deletes the caller's own membership edge only.
    let reply = w.on("leave_channel", &open, json!({}), &w.bob);
    assert_eq!(reply.only_report()["members"], json!(["ann"]), "{reply:?}");
    let reply = w.on("leave_channel", &news, json!({}), &w.cat);
    assert_eq!(reply.only_report()["members"], json!(["ann"]), "{reply:?}");
}

#[test]
fn protected_walkers_refuse_anonymous_callers_and_the_base_walker_is_not_served() {
    let w = world();
    let tweet = w.tweet(&w.ann, "hello");
    for (walker, node) in [
        ("setup_profile", None),
        ("follow_user", Some(w.profiles[0].as_str())),
        ("unfollow_user", Some(w.profiles[0].as_str())),
        ("update_bio", Some(w.profiles[0].as_str())),
        ("create_tweet", None),
        ("like_tweet", Some(tweet.as_str())),
        ("comment_tweet", Some(tweet.as_str())),
        ("load_feed", None),
        ("create_channel", None),
    ] {
        w.anonymous(
            walker,
            node,
            json!({"username": "x", "content": "x", "text": "x", "bio": "x", "name": "x"}),
        )
        .err(401, "UNAUTHORIZED");
    }
    w.call("Acting", json!({}), &w.ann).err(404, "NOT_FOUND");
    // A node nobody shared is not found, also for a public walker.
    let reply = w.call("create_channel", json!({"name": "c"}), &w.ann);
    let channel = permanent_id(&reply.only_report()["id"], &reply);
    w.anonymous("read_channel", Some(&channel), json!({}))
        .only_report();
    w.anonymous("read_channel", Some(&w.ann.root_id), json!({}))
        .err(404, "NOT_FOUND");
}
