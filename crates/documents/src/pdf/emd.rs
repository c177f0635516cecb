//! Layout of the one-page receipt for an Electronic Miscellaneous Document (a paid ancillary service).

use super::blocks::*;
use super::layout::*;
use crate::error::DocumentError;
use crate::model::EmdView;

pub(crate) const TITLE: &str = "Electronic Miscellaneous Document — Receipt";

const NOTICES: &[(&str, &str)] = &[
    (
        "About this document",
        "This receipt confirms payment for the service described above. The EMD is valid only for the \
         passenger named and, where a related ticket is shown, only together with that ticket. The service \
         is provided by the carrier under its conditions of carriage and the rules applicable to this \
         service.",
    ),
    (
        "Changes and refunds",
        "Unused services may be refundable or exchangeable according to the carrier's rules; fees may apply. \
         Please contact your travel agent quoting the document number and booking reference.",
    ),
];

/// Lays out the receipt for one EMD on a new page.
pub(crate) fn emd(doc: &mut Doc, view: &EmdView) -> Result<(), DocumentError> {
    doc.start_group(Group {
        footer_left: if view.agency.name.trim().is_empty() {
            "Issued electronically".to_owned()
        } else {
            format!("Issued by {}", view.agency.name)
        },
        footer_right: format!("EMD {}   ·   Booking {}", view.document_number, view.pnr),
        running_title: "EMD Receipt (continued)".to_owned(),
        running_detail: format!("{}   ·   {}", view.passenger_name, view.document_number),
        watermark: view.watermark.clone(),
        status: status_mark(view.status_mark.as_deref()).map(str::to_owned),
    });
    header(
        doc,
        &view.agency,
        TITLE,
        "Receipt for a paid service. Keep it with your electronic ticket.",
        &view.qr_payload,
    )?;
    status_stamp(doc, view.status_mark.as_deref(), "This document has changed status since it was issued.");

    let rows = vec![
        vec![
            Field::new("Passenger", &view.passenger_name).wide(2).strong(),
            Field::new("Document number", &view.document_number).strong(),
            Field::new("Date of issue", &view.issue_date),
        ],
        vec![
            Field::new("Booking reference (PNR)", &view.pnr),
            Field::new("Related ticket", &view.related_ticket),
            Field::new("Service type", &view.service_type),
            Field::new("Service code", &view.service_code),
        ],
    ];
    detail_panel(doc, &rows, &[]);

    section(doc, "Service", 14.0);
    // Capped so that a runaway description cannot push the receipt onto a second page.
    let style = BODY.sized(9.0);
    let description = doc.wrap_max(style, &view.description, CONTENT_W, 12).join("\n");
    paragraph(doc, style, &description, 0.0);
    doc.advance(12.0);

    fare_section(doc, "Payment", &view.fare);

    notices_section(doc, "Important information", NOTICES);
    Ok(())
}
