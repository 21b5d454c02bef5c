//! The spec's webhook and WebSocket walkers written in Jac (`examples/realtime-jac/app.jac`,
//! built with `jac-scale build`), served by the real binary: the scenarios of `webhooks`
//! and `websockets` that exercise the walkers themselves, run against the Jac build.
//! `PaymentReceived` with the spec's cURL + openssl example (with and without timestamp),
//! each refusal, no `/walker/` route; `EchoMessage`, `ChatRoom` (`broadcast=True`) to
//! several clients, error frames, and the protected `WhoAmI` refused without a token.
//! The host-only cases (key storage, config, Redis, connection slots) run once, with the
//! Rust build; the async case is in `async_walkers`.

mod webhooks {
    crate::support::app_scenarios!(crate::support::App::RealtimeJac; crate::webhooks:
        the_specs_curl_and_openssl_example_works_verbatim,
        signed_calls_run_as_the_keys_owner_with_or_without_timestamp,
        each_refusal_has_its_own_status_and_message,
        webhook_walkers_exist_only_at_webhook_routes,
    );
}

mod websockets {
    crate::support::app_scenarios!(crate::support::App::RealtimeJac; crate::websockets:
        echo_answers_each_message_with_the_walkers_reports,
        malformed_frames_get_error_frames_and_the_connection_stays_usable,
        protected_walker_takes_the_token_from_each_route,
        broadcast_reaches_every_client_and_echo_only_the_sender,
    );
}
