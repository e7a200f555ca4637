//! The landing page at `/` and the API reference at `/api/docs`: plain HTML, a small
//! script that reads the OpenAPI document, and a stylesheet, all embedded in the binary.

use actix_web::{HttpResponse, web};

const INDEX: &str = include_str!("assets/index.html");
const DOCS: &str = include_str!("assets/docs.html");
const DOCS_JS: &str = include_str!("assets/docs.js");
const CSS: &str = include_str!("assets/peerline.css");

/// Only this server's own files and its own API: no inline script, nothing fetched
/// from elsewhere.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
                   img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Security-Policy", CSP))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(body)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/",
        web::get().to(|| async { asset("text/html; charset=utf-8", INDEX) }),
    )
    .route(
        "/api/docs",
        web::get().to(|| async { asset("text/html; charset=utf-8", DOCS) }),
    )
    .route(
        "/assets/docs.js",
        web::get().to(|| async { asset("text/javascript; charset=utf-8", DOCS_JS) }),
    )
    .route(
        "/assets/peerline.css",
        web::get().to(|| async { asset("text/css; charset=utf-8", CSS) }),
    );
}
