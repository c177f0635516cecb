//! Users and their roles; who may see what is decided from these.

use serde::{Deserialize, Serialize};

use crate::ids::{AgencyId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, every agency.
    Admin,
    /// Everything within the own agency.
    Agent,
    /// Only the bookings the customer created.
    Customer,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Agent => "agent",
            Self::Customer => "customer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "agent" => Some(Self::Agent),
            "customer" => Some(Self::Customer),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub agency_id: Option<AgencyId>,
    /// Which generation of the user's sessions is valid: access tokens carry the number they were issued under,
    /// and ending the user's sessions (signing out) moves it on, so every older token stops working at once.
    pub session_epoch: i64,
}

/// What a caller may reach. Every storage read is filtered by one of these, so isolation is not optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Agency(AgencyId),
    Customer { agency: AgencyId, user: UserId },
}

impl Scope {
    pub fn of(user: &User) -> Option<Scope> {
        match (user.role, user.agency_id) {
            (Role::Admin, _) => Some(Scope::All),
            (Role::Agent, Some(agency)) => Some(Scope::Agency(agency)),
            (Role::Customer, Some(agency)) => Some(Scope::Customer { agency, user: user.id }),
            // An agent or customer without an agency can reach nothing.
            _ => None,
        }
    }

    pub fn agency(&self) -> Option<AgencyId> {
        match self {
            Scope::All => None,
            Scope::Agency(a) | Scope::Customer { agency: a, .. } => Some(*a),
        }
    }

    pub fn customer(&self) -> Option<UserId> {
        match self {
            Scope::Customer { user, .. } => Some(*user),
            _ => None,
        }
    }
}
