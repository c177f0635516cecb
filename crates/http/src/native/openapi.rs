//! The native API's OpenAPI 3.1 document: what is not a route (title, security schemes, shared schemas).
//! Paths come from the routes themselves (see [`super::routes`]), so none is listed twice.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

use super::{lifecycle, wire};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera native API", description = "Ticket issuance and e-ticket distribution. Errors are application/problem+json (RFC 9457) with a stable `code`; see docs/api.md."),
    components(schemas(wire::BookingBody, wire::BookingList, wire::TicketBody, wire::IssuanceBody, wire::AgencyBody,
        wire::LedgerBody, wire::UserBody, wire::ApiKeyBody, wire::LinkBody, wire::TaxBody, wire::InvoiceBody,
        lifecycle::RefundRequest, lifecycle::CheckinRequest)),
    modifiers(&Security),
    security(("bearer" = []), ("api_key" = []))
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        components
            .add_security_scheme("api_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-KEY"))));
    }
}

/// An empty router carrying the document's frame; the routes add their paths to it.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::RefOr;

    /// Every answer with a body names its schema (204 and 304 have none), and filters are query parameters.
    #[test]
    fn every_response_is_typed_and_every_filter_is_a_query_parameter() {
        let doc = super::super::openapi_document();
        let mut operations = 0;
        for (path, item) in &doc.paths.paths {
            let ops = [&item.get, &item.post, &item.put, &item.delete, &item.patch];
            for op in ops.into_iter().flatten() {
                operations += 1;
                for (status, response) in &op.responses.responses {
                    let RefOr::T(response) = response else { continue };
                    if status == "204" || status == "304" {
                        continue;
                    }
                    assert!(
                        !response.content.is_empty() && response.content.values().all(|c| c.schema.is_some()),
                        "{path} {status} has no typed body"
                    );
                }
                for p in op.parameters.iter().flatten() {
                    let in_path = path.contains(&format!("{{{}}}", p.name));
                    assert_eq!(in_path, p.parameter_in == ParameterIn::Path, "{path}: parameter {}", p.name);
                }
            }
        }
        assert_eq!(operations, 65, "every route is in the document");
    }
}
