//! The OpenAPI document, collected from the handlers' annotations as they are registered.
//! `peerline openapi > openapi/openapi.json` refreshes the checked-in copy.

use actix_web::App;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{AppExt, scope};

use crate::routes::{api, health};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "peerline",
        description = "Routing backend for peer-support helplines: helplines, topics, volunteers, rota, access, supervision of contacts, the audit log and reports.",
        license(name = "MIT OR Apache-2.0")
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

/// Settings types refuse unknown fields (`deny_unknown_fields`), which the derived schemas
/// state as `additionalProperties: false`. The views built on them flatten those settings
/// together with ids and timestamps (`allOf`), which no object can satisfy if each part
/// forbids the other's properties. The document leaves additional properties open; the
/// server still refuses unknown fields in requests, naming them.
fn allow_additional_properties(components: &mut utoipa::openapi::Components) {
    use utoipa::openapi::{RefOr, Schema};
    for schema in components.schemas.values_mut() {
        if let RefOr::T(Schema::Object(object)) = schema {
            object.additional_properties = None;
        }
    }
}

/// Every `/api/v1` operation may answer 401 (no valid token), 403 (not allowed), 404
/// (nothing the caller may see), 429 (too many requests) and 503 (the database is not
/// answering): the document says so for each, with the error body, where its own
/// annotation did not already.
fn document_common_errors(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let common = [
        ("401", "a valid bearer token is required"),
        ("403", "the caller may not do this"),
        ("404", "nothing the caller may see is there"),
        ("429", "too many requests: wait for Retry-After seconds"),
        (
            "503",
            "the database is not answering: retry after Retry-After seconds",
        ),
    ];
    for (path, item) in document.paths.paths.iter_mut() {
        if !path.starts_with("/api/v1") {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, description) in common {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(description)
                            .content(
                                "application/json",
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                                    .build(),
                            )
                            .build()
                            .into()
                    });
            }
        }
    }
}

/// Registers the documented routes on an app: health probes and `/api/v1`.
pub fn documented_routes<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Error = actix_web::Error,
            InitError = (),
        >,
{
    app.openapi(ApiDoc::openapi())
        .service(health::healthz)
        .service(health::readyz)
        .service(scope::scope("/api/v1").configure(api::configure))
}

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut document = documented_routes(App::new().into_utoipa_app())
        .split_for_parts()
        .1;
    if let Some(components) = document.components.as_mut() {
        allow_additional_properties(components);
    }
    document_common_errors(&mut document);
    document
}

/// The document as checked in: pretty JSON with a final newline.
pub fn document_json() -> String {
    let mut json = document().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
