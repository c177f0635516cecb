//! Typed identifiers, so an agency id can never be passed where a booking id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh time-ordered id (UUIDv7), so ids sort by creation and index well.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// An agency.
    AgencyId
);
uuid_id!(
    /// A user (admin, agent or customer).
    UserId
);
uuid_id!(
    /// An API key (not the key itself).
    ApiKeyId
);
uuid_id!(
    /// A booking; the agent profile calls it `bookingReferenceID`.
    BookingId
);
uuid_id!(
    /// One act of ticketing; the agent profile calls it `ticketReferenceID`.
    IssuanceId
);
uuid_id!(
    /// A stored document (PDF, zip).
    DocumentId
);
uuid_id!(
    /// An outbox e-mail.
    MessageId
);
uuid_id!(
    /// A webhook endpoint an agency registered.
    WebhookId
);
uuid_id!(
    /// One event of the webhook outbox (the `webhook-id` header: the same on every attempt and endpoint).
    WebhookEventId
);
uuid_id!(
    /// One event on its way to one endpoint, with its attempts.
    WebhookDeliveryId
);
