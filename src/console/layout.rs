//! The frame of every console page: language, title, stylesheet, the navigation for the
//! viewer's role, and the headers that keep the page to this server's own files.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

use super::session::{FORM_TOKEN_FIELD, Viewer};
use crate::domain::access::Role;

/// Only this server's own files: no inline script or style, no framing, forms only back to
/// this server, and no address (a sign-in link's token) passed on to another site.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Where the vendored htmx is served.
pub const HTMX_PATH: &str = "/console/assets/htmx-2.0.11.min.js";

/// A page with status 200.
pub fn page(title: &str, viewer: Option<&Viewer>, body: Markup) -> HttpResponse {
    page_with_status(StatusCode::OK, title, viewer, body)
}

pub fn page_with_status(
    status: StatusCode,
    title: &str,
    viewer: Option<&Viewer>,
    body: Markup,
) -> HttpResponse {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Peerline" }
                link rel="stylesheet" href="/console/assets/console.css";
                // htmx refreshes the live board; no page needs it to work.
                meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}"#;
                script src=(HTMX_PATH) defer {}
            }
            body {
                a class="skip" href="#main" { "Skip to the page" }
                header { (navigation(viewer)) }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", CSP))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("Cache-Control", "no-store"))
        .body(markup.into_string())
}

/// After a form: on to `location` (a fresh GET, so a reload does not post again).
pub fn see_other(location: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location.into()))
        .finish()
}

/// A part of a page, for htmx to swap in.
pub fn fragment(markup: Markup) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", CSP))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-store"))
        .body(markup.into_string())
}

/// A page that explains why a request could not be done.
pub fn problem(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    page_with_status(
        status,
        title,
        None,
        html! {
            p role="alert" { (message) }
            p { a href="/console" { "Back to the console" } }
        },
    )
}

fn navigation(viewer: Option<&Viewer>) -> Markup {
    html! {
        nav aria-label="Console" {
            a class="brand" href="/console" { "Peerline" }
            @if let Some(viewer) = viewer {
                @match viewer.who.role {
                    Role::Volunteer => { a href="/console/me" { "My shifts and contacts" } }
                    Role::Supervisor | Role::Admin => {
                        a href="/console/reviews" { "Review queue" }
                        a href="/console/helplines" { "Helplines" }
                        a href="/console/debriefs" { "Debriefs" }
                        a href="/console/audit" { "Audit log" }
                        @if viewer.who.is_admin() { a href="/console/admin/users" { "People" } }
                    }
                }
                form method="post" action="/console/sign-out" class="inline" {
                    (form_token(viewer))
                    button type="submit" class="link" { "Sign out" }
                }
            }
        }
    }
}

/// The hidden anti-forgery field of a signed-in form.
pub fn form_token(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name=(FORM_TOKEN_FIELD) value=(viewer.form_token); }
}
