//! E-mail through a transactional outbox: every message is recorded (queued, sent, failed; attempts; last
//! error) in the same database before anything is sent, sent once synchronously when asked, and otherwise by
//! the background worker with exponential backoff. Storage leases messages, so on several nodes each message
//! is sent by one of them.

use std::time::Duration;

use chrono::TimeDelta;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tessera_core::booking::Booking;
use tessera_core::ids::MessageId;
use tessera_core::user::Scope;
use tessera_documents::i18n::{t, t_args};
use tessera_storage::{DocumentOwner, MessageAttachment, NewMessage, OutboxMessage};

use crate::{AppError, Principal, Secret, Tessera};

/// How long a claimed message stays reserved for the node that claimed it.
const LEASE: TimeDelta = TimeDelta::seconds(120);
/// After this many failed attempts a message is marked failed and left for an operator.
pub const MAX_ATTEMPTS: u32 = 10;

/// SMTP settings, validated at start.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://host:port`, `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://host:465` (TLS).
    pub smtp_url: Secret,
    pub from: String,
    /// First retry delay; each further attempt doubles it, up to an hour.
    pub retry_base: Duration,
}

/// A connected SMTP transport and the sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    retry_base: Duration,
}

impl Mailer {
    pub fn new(settings: &MailSettings) -> Result<Self, String> {
        let url =
            std::str::from_utf8(settings.smtp_url.expose()).map_err(|_| "the SMTP URL is not UTF-8".to_owned())?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("invalid SMTP URL: {e}"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = settings.from.parse().map_err(|e| format!("invalid sender address: {e}"))?;
        Ok(Self { transport, from, retry_base: settings.retry_base })
    }

    fn retry_delay(&self, attempts: u32) -> TimeDelta {
        let factor = 1u32 << attempts.min(12);
        let delay = self.retry_base.saturating_mul(factor).min(Duration::from_secs(3600));
        TimeDelta::from_std(delay).unwrap_or(TimeDelta::hours(1))
    }
}

/// What happened to a message the caller asked to send now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// No SMTP relay is configured: the message waits in the outbox.
    Queued,
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Tessera {
    /// Every ticket's PDF, with the ticket numbers the message lists.
    async fn ticket_attachments(
        &self,
        who: &Principal,
        issuance: tessera_core::ids::IssuanceId,
    ) -> Result<(Vec<MessageAttachment>, Vec<String>), AppError> {
        let tickets = self.db.tickets_of_issuance(who.scope, issuance).await?;
        let mut attachments = Vec::new();
        for ticket in &tickets {
            // A message names a stored file: a document still pending (rendered after the issuance's answer) is
            // rendered and stored first.
            let doc = self.filled(Scope::All, &DocumentOwner::Ticket(ticket.number.clone())).await?;
            attachments.push(attachment(doc));
        }
        Ok((attachments, tickets.iter().map(|t| t.number.to_string()).collect()))
    }

    /// The PDFs of every event ticket we distribute ourselves; tickets others distribute are not ours to send.
    async fn event_attachments(
        &self,
        who: &Principal,
        booking: tessera_core::ids::BookingId,
    ) -> Result<(Vec<MessageAttachment>, Vec<String>), AppError> {
        let mut attachments = Vec::new();
        let mut lines = Vec::new();
        for order in self.db.orders_of_booking(who.scope, booking).await? {
            for item in order.items.iter().filter(|i| i.downloadable()) {
                for d in &item.downloads {
                    let owner = DocumentOwner::Download(order.id.clone(), d.id.clone());
                    let doc = self.filled(Scope::All, &owner).await?;
                    attachments.push(attachment(doc));
                    let label = if d.label.is_empty() { String::new() } else { format!(", {}", d.label) };
                    lines.push(format!("{} — {}{label}", order.event.name, item.ticket_name));
                }
            }
        }
        Ok((attachments, lines))
    }

    /// Queues an e-mail with every ticket document of a booking to its contact, then sends it at once when an
    /// SMTP relay is configured. A failed send leaves the message queued for the worker and is reported.
    pub async fn email_tickets(&self, who: &Principal, booking: &Booking) -> Result<(MessageId, Delivery), AppError> {
        let issuance = self.db.find_issuance_by_booking(who.scope, booking.id).await?.ok_or(AppError::NothingToSend)?;
        let (attachments, numbers) = match &booking.detail {
            tessera_core::booking::BookingDetail::Flight(_) => self.ticket_attachments(who, issuance.id).await?,
            tessera_core::booking::BookingDetail::Event(_) => self.event_attachments(who, booking.id).await?,
        };
        if attachments.is_empty() {
            return Err(AppError::NothingToSend);
        }
        let recipient = match &booking.detail {
            tessera_core::booking::BookingDetail::Flight(f) => f.contact.email.clone(),
            tessera_core::booking::BookingDetail::Event(e) => e.contact.email.clone(),
        };
        let lang = crate::views::lang(booking.language());
        let what = t_args(lang, "mail-what", &[("code", booking.code())]);
        let reference = issuance.id.to_string();
        let text = format!(
            "{}\n\n{}\n{}\n\n{}\n",
            t(lang, "mail-hello"),
            t_args(lang, "mail-attached", &[("what", &what), ("items", &numbers.join(", "))]),
            t(lang, "mail-carry"),
            t_args(lang, "mail-reference", &[("reference", &reference)]),
        );
        let items: String = numbers.iter().map(|n| format!("<li>{}</li>", html_escape(n))).collect();
        let strong_what = format!("<strong>{}</strong>", html_escape(&what));
        let html = format!(
            "<html><body><p>{}</p><p>{}</p><ul>{items}</ul><p>{}</p><p>{}</p></body></html>",
            html_escape(t(lang, "mail-hello")),
            t_args(lang, "mail-attached-html", &[("what", &strong_what)]),
            html_escape(t(lang, "mail-carry")),
            html_escape(&t_args(lang, "mail-reference", &[("reference", &reference)])),
        );
        let message = NewMessage {
            id: MessageId::generate(),
            agency_id: Some(booking.agency_id),
            booking_id: Some(booking.id),
            recipient,
            subject: t_args(lang, "mail-subject", &[("what", &what)]),
            text_body: text,
            html_body: html,
            attachments,
            created_at: self.now(),
        };
        self.db.enqueue_message(&message).await?;
        let Some(mailer) = &self.mailer else { return Ok((message.id, Delivery::Queued)) };
        match self.db.claim_message(message.id, self.now(), LEASE).await? {
            Some(claimed) => self.deliver(mailer, &claimed).await.map(|()| (message.id, Delivery::Sent)),
            // The worker got to it first; it will report the outcome in the outbox.
            None => Ok((message.id, Delivery::Queued)),
        }
    }

    /// Sends the messages that are due; returns how many were sent. Called periodically by the worker.
    pub async fn deliver_due_messages(&self, limit: u32) -> Result<usize, AppError> {
        let Some(mailer) = &self.mailer else { return Ok(0) };
        let claimed = self.db.claim_due_messages(self.now(), LEASE, limit).await?;
        let mut sent = 0;
        for message in &claimed {
            if self.deliver(mailer, message).await.is_ok() {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// Sends one claimed message and records the outcome.
    async fn deliver(&self, mailer: &Mailer, message: &OutboxMessage) -> Result<(), AppError> {
        match self.send(mailer, message).await {
            Ok(()) => {
                self.db.mark_message_sent(message.id, self.now()).await?;
                tracing::info!(message = %message.id, "e-mail sent");
                Ok(())
            }
            Err(reason) => {
                let attempts = message.attempts + 1;
                let retry_at = (attempts < MAX_ATTEMPTS).then(|| self.now() + mailer.retry_delay(message.attempts));
                self.db.mark_message_failed(message.id, &reason, retry_at).await?;
                tracing::warn!(message = %message.id, attempts, error = %reason, "e-mail not sent");
                Err(AppError::MailFailed(reason))
            }
        }
    }

    async fn send(&self, mailer: &Mailer, message: &OutboxMessage) -> Result<(), String> {
        let to: Mailbox = message.recipient.parse().map_err(|e| format!("invalid recipient: {e}"))?;
        let body = MultiPart::alternative_plain_html(message.text_body.clone(), message.html_body.clone());
        let mut mixed = MultiPart::mixed().multipart(body);
        for a in &message.attachments {
            let bytes = self.attachment_bytes(a).await.map_err(|e| format!("attachment {}: {e:?}", a.filename))?;
            let content_type = ContentType::parse(&a.content_type).map_err(|e| e.to_string())?;
            let part: SinglePart = Attachment::new(a.filename.clone()).body(bytes.to_vec(), content_type);
            mixed = mixed.singlepart(part);
        }
        let email = Message::builder()
            .from(mailer.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .message_id(Some(format!("<{}@tessera>", message.id)))
            .multipart(mixed)
            .map_err(|e| format!("building the message: {e}"))?;
        mailer.transport.send(email).await.map(|_| ()).map_err(|e| e.to_string())
    }

    /// An attachment's bytes: the version the message was queued with, from the store, or re-rendered and
    /// verified when the store lost it and it is still the owner's current version (a superseded version, e.g.
    /// a ticket voided since, cannot be rendered again and is reported).
    async fn attachment_bytes(&self, a: &MessageAttachment) -> Result<bytes::Bytes, AppError> {
        let key = tessera_documents::DocumentKey::parse(&a.storage_key)?;
        match self.docs.get(&key).await {
            Ok(bytes) => return Ok(bytes),
            Err(tessera_documents::DocumentError::NotFound(_)) if a.owner.is_some() => {}
            Err(e) => return Err(AppError::DocumentUnavailable(e.to_string())),
        }
        let owner = a.owner.as_ref().ok_or(AppError::NotFound("document"))?;
        let current = self.db.get_document(Scope::All, owner).await?;
        match current {
            Some(record) if record.storage_key == a.storage_key && record.sha256 == a.sha256 => {
                self.document_bytes(&record).await
            }
            _ => Err(AppError::DocumentUnavailable(format!(
                "{} {} was re-rendered since the message was queued and the store lost the queued version",
                owner.kind(),
                owner.key()
            ))),
        }
    }

    pub async fn outbox(&self, who: &Principal, limit: u32) -> Result<Vec<OutboxMessage>, AppError> {
        who.require_admin()?;
        Ok(self.db.list_outbox(who.scope, limit).await?)
    }

    /// One message of the outbox (admins only).
    pub async fn outbox_message(&self, who: &Principal, id: MessageId) -> Result<OutboxMessage, AppError> {
        who.require_admin()?;
        self.db.get_message(id).await?.ok_or(AppError::NotFound("message"))
    }

    /// Makes a queued or failed message due now, for the worker's next run (admins only). Returns whether it
    /// was, and the message as it stands: one being sent or already sent is left alone (retrying it could send
    /// it twice).
    pub async fn retry_message(&self, who: &Principal, id: MessageId) -> Result<(bool, OutboxMessage), AppError> {
        who.require_admin()?;
        let retried = match self.db.retry_message(id, self.now()).await {
            Ok(retried) => retried,
            Err(tessera_storage::StorageError::NotFound) => return Err(AppError::NotFound("message")),
            Err(e) => return Err(e.into()),
        };
        let message = self.db.get_message(id).await?.ok_or(AppError::NotFound("message"))?;
        Ok((retried, message))
    }

    /// Messages waiting to be sent, for the `tessera_outbox_pending` gauge.
    pub async fn outbox_pending(&self) -> Result<u64, AppError> {
        Ok(self.db.count_pending_messages().await?)
    }
}

fn attachment(doc: tessera_storage::DocumentRecord) -> MessageAttachment {
    MessageAttachment {
        filename: doc.filename,
        storage_key: doc.storage_key,
        sha256: doc.sha256,
        content_type: doc.content_type,
        owner: Some(doc.owner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The pooled transport spawns its pool on the Tokio runtime, as the server's is.
    #[tokio::test]
    async fn retry_delays_double_up_to_an_hour() {
        let settings = MailSettings {
            smtp_url: Secret::new(b"smtp://127.0.0.1:2525".to_vec()),
            from: "Tessera <tickets@example.com>".into(),
            retry_base: Duration::from_secs(30),
        };
        let mailer = Mailer::new(&settings).unwrap();
        assert_eq!(mailer.retry_delay(0), TimeDelta::seconds(30));
        assert_eq!(mailer.retry_delay(1), TimeDelta::seconds(60));
        assert_eq!(mailer.retry_delay(20), TimeDelta::hours(1));
    }

    #[tokio::test]
    async fn bad_settings_are_refused() {
        let bad = |url: &str, from: &str| {
            Mailer::new(&MailSettings {
                smtp_url: Secret::new(url.as_bytes().to_vec()),
                from: from.into(),
                retry_base: Duration::from_secs(1),
            })
            .is_err()
        };
        assert!(bad("http://example.com", "a@example.com"));
        assert!(bad("smtp://127.0.0.1:25", "not an address"));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(html_escape("<b>&\""), "&lt;b&gt;&amp;&quot;");
    }
}
