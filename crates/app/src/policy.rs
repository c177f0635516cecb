//! Role and ownership decisions the vendor profiles used to make themselves: who may use the agency's ticketing
//! desk, whether a caller is the kind of user its request says, and who may have a link to an issuance's
//! documents. A profile asks and translates the answer into its own words; the decision is made here.

use serde::Deserialize;
use tessera_core::ids::{IssuanceId, MessageId};
use tessera_core::issuance::IssueError;
use tessera_core::user::{Role, Scope};
use tessera_storage::{Actor, DocumentOwner};

use crate::issuing::{IssueCommand, Issued};
use crate::links::SignedLink;
use crate::mail::Delivery;
use crate::{AppError, Principal, Tessera};

/// What a caller says it is (the agent API's `user_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserType {
    Agent,
    Customer,
}

impl Principal {
    /// Agency staff: admins and agents. A customer is refused, named by role.
    pub fn require_staff(&self) -> Result<(), AppError> {
        match self.role() {
            Role::Admin | Role::Agent => Ok(()),
            Role::Customer => Err(AppError::Forbidden(self.role().as_str())),
        }
    }

    /// Whether the caller is what its request says: an agent (or admin) ticketing for its agency, or a customer
    /// (or admin) for itself. Saying nothing is fine; saying something else means the request does not describe
    /// its caller, and is refused like any other request that does not match.
    pub fn acting_as(&self, said: Option<UserType>) -> Result<(), AppError> {
        match (said, self.role()) {
            (None, _)
            | (Some(UserType::Agent), Role::Admin | Role::Agent)
            | (Some(UserType::Customer), Role::Customer | Role::Admin) => Ok(()),
            _ => Err(AppError::Issue(IssueError::RequestMismatch("request"))),
        }
    }
}

/// The agency's ticketing desk: ticketing a booking by its code and e-mailing its tickets, for staff only.
/// The only way to get one is [`Tessera::staff_desk`], so no caller can skip the check.
#[derive(Clone)]
pub struct StaffDesk {
    app: Tessera,
    who: Principal,
}

impl Tessera {
    /// The desk for `who`, or why not (a customer is [`AppError::Forbidden`]).
    pub fn staff_desk(&self, who: Principal) -> Result<StaffDesk, AppError> {
        who.require_staff()?;
        Ok(StaffDesk { app: self.clone(), who })
    }

    /// A fresh link to an issuance's combined document, if the caller can reach that issuance.
    pub async fn issuance_link(&self, who: &Principal, id: IssuanceId) -> Result<SignedLink, AppError> {
        self.get_issuance(who, id).await?;
        self.sign_link(who.scope, DocumentOwner::Issuance(id)).await
    }

    /// A link to the combined document of an issuance just made: whoever made it may open it.
    pub async fn issued_link(&self, issued: &Issued) -> Result<SignedLink, AppError> {
        self.sign_link(Scope::All, DocumentOwner::Issuance(issued.record.id)).await
    }
}

impl StaffDesk {
    pub fn who(&self) -> &Principal {
        &self.who
    }

    /// Tickets the caller's booking with this code (PNR or event booking code), with no further options.
    pub async fn issue_by_code(&self, code: &str, actor: Actor) -> Result<Issued, AppError> {
        let booking = self.app.find_booking_by_code(&self.who, code.trim()).await?;
        let cmd = IssueCommand { profile: crate::telemetry::Profile::Group, ..IssueCommand::default() };
        self.app.issue_booking(booking, cmd, actor).await
    }

    /// E-mails the tickets of the caller's booking with this code to the booking's contact.
    pub async fn email_tickets_by_code(&self, code: &str) -> Result<(MessageId, Delivery), AppError> {
        let booking = self.app.find_booking_by_code(&self.who, code.trim()).await?;
        self.app.email_tickets(&self.who, &booking).await
    }
}

#[cfg(test)]
mod tests {
    use tessera_core::ids::{AgencyId, UserId};
    use tessera_core::user::User;

    use super::*;

    fn principal(role: Role) -> Principal {
        let user = User {
            id: UserId::generate(),
            username: role.as_str().into(),
            role,
            agency_id: Some(AgencyId::generate()),
            session_epoch: 0,
        };
        let scope = Scope::of(&user).unwrap();
        Principal { user, scope, api_key: None }
    }

    #[test]
    fn only_staff_get_the_desk() {
        assert!(principal(Role::Admin).require_staff().is_ok());
        assert!(principal(Role::Agent).require_staff().is_ok());
        assert!(matches!(principal(Role::Customer).require_staff(), Err(AppError::Forbidden("customer"))));
    }

    #[test]
    fn callers_are_what_they_say() {
        let mismatch = |r: Result<(), AppError>| matches!(r, Err(AppError::Issue(IssueError::RequestMismatch(_))));
        for role in [Role::Admin, Role::Agent, Role::Customer] {
            assert!(principal(role).acting_as(None).is_ok(), "{role:?} says nothing");
        }
        assert!(principal(Role::Admin).acting_as(Some(UserType::Agent)).is_ok());
        assert!(principal(Role::Admin).acting_as(Some(UserType::Customer)).is_ok());
        assert!(principal(Role::Agent).acting_as(Some(UserType::Agent)).is_ok());
        assert!(mismatch(principal(Role::Agent).acting_as(Some(UserType::Customer))));
        assert!(principal(Role::Customer).acting_as(Some(UserType::Customer)).is_ok());
        assert!(mismatch(principal(Role::Customer).acting_as(Some(UserType::Agent))));
    }

    #[test]
    fn user_types_are_the_seeds_words() {
        assert_eq!(serde_json::from_str::<UserType>(r#""agent""#).unwrap(), UserType::Agent);
        assert_eq!(serde_json::from_str::<UserType>(r#""customer""#).unwrap(), UserType::Customer);
        assert!(serde_json::from_str::<UserType>(r#""Agent""#).is_err());
        assert!(serde_json::from_str::<UserType>(r#""pilot""#).is_err());
    }
}
