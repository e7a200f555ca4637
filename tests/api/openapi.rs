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

#[tokio::test]
async fn the_landing_page_and_the_api_reference_are_served_from_the_binary() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", app.base)).send();

    let landing = get("/").await.unwrap();
    assert_eq!(landing.status(), StatusCode::OK);
    assert!(
        landing.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let html = landing.text().await.unwrap();
    assert!(html.contains("lang=\"en\"") && html.contains("<title>peerline</title>"));
    for link in [
        "href=\"/console\"",
        "href=\"/api/docs\"",
        "href=\"/api/openapi.json\"",
        "href=\"/readyz\"",
    ] {
        assert!(html.contains(link), "{link} missing");
    }

    let docs = get("/api/docs").await.unwrap().text().await.unwrap();
    assert!(docs.contains("<script src=\"/assets/docs.js\" defer></script>"));
    assert!(
        docs.contains("<label for=\"filter\">"),
        "the filter is labelled"
    );
    let script = get("/assets/docs.js").await.unwrap();
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(
        script
            .text()
            .await
            .unwrap()
            .contains("fetch(\"/api/openapi.json\")")
    );
    let css = get("/assets/peerline.css").await.unwrap();
    assert_eq!(css.status(), StatusCode::OK);
}

#[test]
fn every_api_operation_documents_the_errors_any_of_them_can_answer() {
    let document: serde_json::Value =
        serde_json::from_str(&peerline::openapi::document_json()).unwrap();
    let paths = document["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths.iter().filter(|(p, _)| p.starts_with("/api/v1")) {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            for status in ["401", "403", "404", "429", "503"] {
                assert!(
                    operation["responses"][status].is_object(),
                    "{method} {path} does not document {status}"
                );
            }
        }
    }
    assert!(operations > 50, "{operations}");
}
