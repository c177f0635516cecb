//! Layout of the one-page receipt for an Electronic Miscellaneous Document (a paid ancillary service).

use super::blocks::*;
use super::layout::*;
use crate::error::DocumentError;
use crate::model::EmdView;

/// The notices under the receipt, as message ids of their titles and texts.
const NOTICES: &[(&str, &str)] =
    &[("notice-emd-title", "notice-emd"), ("notice-emd-changes-title", "notice-emd-changes")];

/// Lays out the receipt for one EMD on a new page.
pub(crate) fn emd(doc: &mut Doc, view: &EmdView) -> Result<(), DocumentError> {
    doc.start_group(Group {
        footer_left: if view.agency.name.trim().is_empty() {
            doc.t("issued-electronically").to_owned()
        } else {
            doc.ta("issued-by", &[("name", &view.agency.name)])
        },
        footer_right: doc.ta("emd-footer", &[("document", &view.document_number), ("pnr", &view.pnr)]),
        running_title: doc.t("emd-continued").to_owned(),
        running_detail: format!("{}   ·   {}", view.passenger_name, view.document_number),
        watermark: view.watermark.clone(),
        status: status_mark(view.status_mark.as_deref()).map(str::to_owned),
    });
    header(doc, &view.agency, doc.t("emd-title"), doc.t("emd-subtitle"), &view.qr_payload)?;
    status_stamp(doc, view.status_mark.as_deref(), doc.t("emd-changed-status"));

    let rows = vec![
        vec![
            Field::new(doc.t("passenger"), &view.passenger_name).wide(2).strong(),
            Field::new(doc.t("document-number"), &view.document_number).strong(),
            Field::new(doc.t("date-of-issue"), &view.issue_date),
        ],
        vec![
            Field::new(doc.t("booking-reference"), &view.pnr),
            Field::new(doc.t("related-ticket"), &view.related_ticket),
            Field::new(doc.t("service-type"), &view.service_type),
            Field::new(doc.t("service-code"), &view.service_code),
        ],
    ];
    detail_panel(doc, &rows, &[]);

    section(doc, doc.t("section-service"), 14.0);
    // Capped so that a runaway description cannot push the receipt onto a second page.
    let style = BODY.sized(9.0);
    let description = doc.wrap_max(style, &view.description, CONTENT_W, 12).join("\n");
    paragraph(doc, style, &description, 0.0);
    doc.advance(12.0);

    fare_section(doc, doc.t("section-payment"), &view.fare);

    let notices = translated(doc, NOTICES);
    notices_section(doc, doc.t("important-information"), &notices);
    Ok(())
}
