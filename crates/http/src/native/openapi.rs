//! The native API's OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{admin, audit, bookings, invoices, issuance, lifecycle, orders, outbox, sign_in, tickets, wire};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera native API", description = "Ticket issuance and e-ticket distribution. Errors are application/problem+json (RFC 9457) with a stable `code`; see docs/api.md."),
    paths(
        sign_in::sign_in,
        bookings::create, bookings::get, bookings::list,
        issuance::issue, issuance::get, invoices::list, invoices::pdf,
        tickets::get, tickets::ticket_pdf, tickets::issuance_pdf, tickets::ticket_link, tickets::issuance_link,
        admin::create_agency, admin::list_agencies, admin::get_agency, admin::top_up, admin::ledger, admin::agreements,
        admin::set_agreement, admin::add_tour_code, admin::add_corporate_account,
        admin::add_booker_code,
        admin::create_user, admin::list_users, admin::create_api_key, admin::list_api_keys, admin::revoke_api_key,
        audit::list,
        outbox::list,
        orders::set_channel, orders::downloads,
        admin::set_refund_approval,
        lifecycle::void, lifecycle::refund, lifecycle::approve, lifecycle::reject, lifecycle::exchange,
        lifecycle::use_coupon, lifecycle::checkin,
        lifecycle::void_item, lifecycle::refund_item, lifecycle::approve_item, lifecycle::reject_item,
    ),
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

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
