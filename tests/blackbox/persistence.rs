use crate::support::{App, Server, User, assert_node, for_both_todo_builds, on_mongodb};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::thread;

for_both_todo_builds!(
    users_and_their_graphs_survive_a_restart,
    tokens_survive_a_restart_with_a_generated_secret,
    duplicate_registration_is_refused_after_a_restart,
    sixty_four_concurrent_creates_on_one_root_are_all_kept,
    eight_users_creating_at_once_on_their_own_roots_keep_every_write,
    sixty_four_concurrent_increments_of_one_node_are_all_kept,
);

fn list_titles(server: &Server, token: &str) -> Vec<Value> {
    let reply = server.post_auth("/walker/ListTodos", json!({}), token);
    reply
        .only_report()
        .as_array()
        .unwrap_or_else(|| panic!("{reply:?}"))
        .iter()
        .map(|todo| todo["title"].clone())
        .collect()
}

fn users_and_their_graphs_survive_a_restart(app: App) {
    let mut server = Server::start(app);
    let user = server.register_and_login("durable@example.com");
    for title in ["a", "b", "c"] {
        server
            .post_auth("/walker/CreateTodo", json!({"title": title}), &user.token)
            .ok();
    }
    server
        .post_auth("/walker/CompleteTodo", json!({"title": "b"}), &user.token)
        .ok();

    server.restart();

    let again = server.login("durable@example.com");
    assert_eq!(again.root_id, user.root_id);
    assert_eq!(again.user_id, user.user_id);
    assert_eq!(
        list_titles(&server, &again.token),
        vec![json!("a"), json!("b"), json!("c")]
    );
    let reply = server.post_auth("/walker/ListTodos", json!({}), &again.token);
    let done: Vec<_> = reply
        .only_report()
        .as_array()
        .unwrap_or_else(|| panic!("{reply:?}"))
        .iter()
        .map(|todo| todo["done"].clone())
        .collect();
    assert_eq!(
        done,
        vec![json!(false), json!(true), json!(false)],
        "{reply:?}"
    );
}

fn tokens_survive_a_restart_with_a_generated_secret(app: App) {
    // No JWT_SECRET: the server generates one and must keep it in the data dir.
    let mut server = Server::start(app);
    let user = server.register_and_login("token@example.com");
    server
        .post_auth("/walker/CreateTodo", json!({"title": "kept"}), &user.token)
        .ok();
    server.restart();
    assert_eq!(list_titles(&server, &user.token), vec![json!("kept")]);
}

fn duplicate_registration_is_refused_after_a_restart(app: App) {
    let mut server = Server::start(app);
    server.register_and_login("once@example.com");
    server.restart();
    server
        .post(
            "/user/register",
            json!({"email": "once@example.com", "password": "x-password"}),
        )
        .err(400, "IDENTITY_TAKEN");
}

#[test]
fn access_given_to_others_survives_a_restart() {
    let mut server = Server::start(App::SharedNotes);
    let alice = server.register_and_login("alice@example.com");
    let bob = server.register_and_login("bob@example.com");
    let carol = server.register_and_login("carol@example.com");
    let note_of = |text: &str| {
        let reply = server.post_auth("/walker/CreateNote", json!({"text": text}), &alice.token);
        assert_node(reply.only_report(), "Note").to_owned()
    };
    let (public, private) = (note_of("for everyone"), note_of("for bob"));
    server
        .post_auth(
            &format!("/walker/ShareNote/{public}"),
            json!({"level": "READ"}),
            &alice.token,
        )
        .ok();
    server
        .post_auth(
            &format!("/walker/AllowUser/{private}"),
            json!({"root_id": bob.root_id, "level": "WRITE"}),
            &alice.token,
        )
        .ok();

    server.restart();

    let level = |note: &str, user: &crate::support::User| {
        let reply = server.post_auth(&format!("/walker/MyAccess/{note}"), json!({}), &user.token);
        if reply.status == 404 {
            return json!("NOT_FOUND");
        }
        reply.only_report()["level"].clone()
    };
    assert_eq!(level(&public, &bob), "READ");
    assert_eq!(level(&public, &carol), "READ");
    assert_eq!(level(&private, &bob), "WRITE");
    assert_eq!(level(&private, &carol), "NOT_FOUND");
}

fn sixty_four_concurrent_creates_on_one_root_are_all_kept(app: App) {
    let server = Server::start(app);
    let user = server.register_and_login("burst@example.com");
    concurrent_creates(&server, &[user], 64);
}

fn eight_users_creating_at_once_on_their_own_roots_keep_every_write(app: App) {
    let server = Server::start(app);
    let users: Vec<User> = (0..8)
        .map(|i| server.register_and_login(&format!("writer{i}@example.com")))
        .collect();
    concurrent_creates(&server, &users, 8);
}

/// Calls that read, change and write back one node at once.
const WRITERS_ON_ONE_NODE: i64 = 64;

fn sixty_four_concurrent_increments_of_one_node_are_all_kept(app: App) {
    let server = Server::start(app);
    let user = server.register_and_login("counter@example.com");
    let reply = server.post_auth("/walker/CreateCounter", json!({}), &user.token);
    let counter = assert_node(reply.only_report(), "Counter").to_owned();
    let increment = format!("/walker/IncrementCounter/{counter}");
    let seen: Vec<i64> = thread::scope(|scope| {
        let calls: Vec<_> = (0..WRITERS_ON_ONE_NODE)
            .map(|_| {
                let (server, increment, token) = (&server, &increment, &user.token);
                scope.spawn(move || {
                    let reply = server.post_auth(increment, json!({}), token);
                    assert_eq!(reply.status, 200, "{reply:?}");
                    reply.only_report()["count"]
                        .as_i64()
                        .unwrap_or_else(|| panic!("{reply:?}"))
                })
            })
            .collect();
        calls
            .into_iter()
            .map(|call| call.join().expect("increment call"))
            .collect()
    });
    // The calls took turns: each answered the count it left, one of 1..=64 each.
    let mut seen = seen;
    seen.sort_unstable();
    assert_eq!(seen, (1..=WRITERS_ON_ONE_NODE).collect::<Vec<_>>());
    let reply = server.post_auth(&increment, json!({"by": 0}), &user.token);
    assert_eq!(
        reply.only_report()["count"],
        WRITERS_ON_ONE_NODE,
        "{reply:?}"
    );
}

/// `per_user` CreateTodo calls for each of `users`, all at once: every call answers 200
/// with its node, and each user's list holds exactly their nodes and titles.
fn concurrent_creates(server: &Server, users: &[User], per_user: usize) {
    let created: Vec<Vec<String>> = thread::scope(|scope| {
        let calls: Vec<Vec<_>> = users
            .iter()
            .map(|user| {
                (0..per_user)
                    .map(|i| {
                        let token = &user.token;
                        scope.spawn(move || {
                            let reply = server.post_auth(
                                "/walker/CreateTodo",
                                json!({"title": format!("t{i}")}),
                                token,
                            );
                            assert_node(&reply.only_report()[0], "Todo").to_owned()
                        })
                    })
                    .collect()
            })
            .collect();
        calls
            .into_iter()
            .map(|user_calls| {
                user_calls
                    .into_iter()
                    .map(|call| call.join().expect("create call"))
                    .collect()
            })
            .collect()
    });

    for (user, created_ids) in users.iter().zip(created) {
        let reply = server.post_auth("/walker/CountTodos", json!({}), &user.token);
        assert_eq!(
            reply.only_report(),
            &json!({"count": per_user}),
            "{reply:?}"
        );

        let reply = server.post_auth("/walker/ListTodos", json!({}), &user.token);
        let listed: HashSet<String> = reply
            .only_report()
            .as_array()
            .unwrap_or_else(|| panic!("{reply:?}"))
            .iter()
            .map(|todo| assert_node(todo, "Todo").to_owned())
            .collect();
        assert_eq!(listed.len(), per_user, "{reply:?}");
        assert_eq!(listed, created_ids.into_iter().collect(), "{reply:?}");
        let titles: HashSet<Value> = list_titles(server, &user.token).into_iter().collect();
        let expected: HashSet<Value> = (0..per_user).map(|i| json!(format!("t{i}"))).collect();
        assert_eq!(titles, expected);
    }
}

/// Posts at once into one channel of `examples/social-jac`: every post is an edge from
/// that one node (the hot spot of a store that counts edge positions per node).
const POSTS_ON_ONE_NODE: usize = 64;
/// Users posting (each sends `POSTS_ON_ONE_NODE / POSTERS` posts at once).
const POSTERS: usize = 8;

#[test]
fn sixty_four_concurrent_posts_into_one_node_are_all_kept_on_sqlite() {
    concurrent_posts_into_one_channel();
}

#[test]
fn sixty_four_concurrent_posts_into_one_node_are_all_kept_on_mongodb() {
    on_mongodb(concurrent_posts_into_one_channel);
}

/// `POSTERS` users with profiles post `POSTS_ON_ONE_NODE` tweets into the first one's
/// open channel, all at once: every call answers 200, and the channel lists every post.
fn concurrent_posts_into_one_channel() {
    let create = ("/walker/create_channel", json!({"name": "busy"}));
    at_once_on_one_social_node(
        create,
        "post_to_channel",
        "content",
        |server, channel, _| {
            let reply = server.post(&format!("/walker/read_channel/{channel}"), json!({}));
            reply.only_report()["posts"]
                .as_array()
                .unwrap_or_else(|| panic!("{reply:?}"))
                .iter()
                .map(|post| post["content"].clone())
                .collect()
        },
    );
}

#[test]
fn sixty_four_concurrent_comments_on_one_tweet_are_all_kept_on_sqlite() {
    concurrent_comments_on_one_tweet();
}

#[test]
fn sixty_four_concurrent_comments_on_one_tweet_are_all_kept_on_mongodb() {
    on_mongodb(concurrent_comments_on_one_tweet);
}

/// `POSTERS` users comment `POSTS_ON_ONE_NODE` times on the first one's tweet, all at
/// once: each comment is an append to the tweet's `comments` list (read, append, write
/// back), and the tweet keeps every one.
fn concurrent_comments_on_one_tweet() {
    let create = ("/walker/create_tweet", json!({"content": "talk to me"}));
    at_once_on_one_social_node(create, "comment_tweet", "text", |server, _, author| {
        let reply = server.post_auth("/walker/load_feed", json!({}), &author.token);
        let feed = reply.only_report();
        assert_eq!(feed.as_array().map(Vec::len), Some(1), "{reply:?}");
        feed[0]["comments"]
            .as_array()
            .unwrap_or_else(|| panic!("{reply:?}"))
            .iter()
            .map(|comment| comment["text"].clone())
            .collect()
    });
}

/// On `examples/social-jac`, `POSTERS` users with profiles call `walker` on one node (the
/// `create` call of the first made it and reported its `id`) `POSTS_ON_ONE_NODE` times
/// together, all at once, each with a distinct text in `field`: every call answers 200,
/// and `listed` (the server, the node's id, its creator) finds every text on the node.
fn at_once_on_one_social_node(
    (create, body): (&str, Value),
    walker: &str,
    field: &str,
    listed: impl Fn(&Server, &str, &User) -> HashSet<Value>,
) {
    let server = Server::start(App::SocialJac);
    let users: Vec<User> = (0..POSTERS)
        .map(|i| {
            let user = server.register_and_login(&format!("poster{i}@example.com"));
            let body = json!({"username": format!("poster{i}")});
            server
                .post_auth("/walker/setup_profile", body, &user.token)
                .only_report();
            user
        })
        .collect();
    let reply = server.post_auth(create, body, &users[0].token);
    let node = reply.only_report()["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{reply:?}"))
        .to_owned();
    let path = format!("/walker/{walker}/{node}");
    let text = |u: usize, n: usize| format!("u{u}-{n}");
    thread::scope(|scope| {
        for (u, user) in users.iter().enumerate() {
            for n in 0..POSTS_ON_ONE_NODE / POSTERS {
                let (server, path) = (&server, &path);
                scope.spawn(move || {
                    let reply = server.post_auth(path, json!({field: text(u, n)}), &user.token);
                    assert_eq!(reply.status, 200, "{reply:?}");
                });
            }
        }
    });
    let expected: HashSet<Value> = (0..POSTERS)
        .flat_map(|u| (0..POSTS_ON_ONE_NODE / POSTERS).map(move |n| json!(text(u, n))))
        .collect();
    assert_eq!(listed(&server, &node, &users[0]), expected);
}
