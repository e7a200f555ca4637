//! The checked-in OpenAPI document matches the code, and the server serves it.

use reqwest::{Method, StatusCode};

use crate::helpers::spawn_app;

#[test]
fn checked_in_openapi_document_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == peerline::openapi::document_json(),
        "openapi/openapi.json is stale: refresh it with `cargo run -q -- openapi > openapi/openapi.json`"
    );
}

#[tokio::test]
async fn server_serves_the_document() {
    let app = spawn_app().await;
    let reply = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body["paths"]["/api/v1/helplines/{id}/coverage"]["get"].is_object());
    assert!(reply.body["components"]["securitySchemes"]["bearer"].is_object());
}
