//! Who is calling: passwords (argon2id), JWTs (HS256, algorithm pinned) and hashed API keys.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tessera_core::ids::{AgencyId, ApiKeyId, UserId};
use tessera_core::user::{Role, Scope, User};
use tessera_storage::{ApiKeyRecord, NewApiKey, NewUser};
use uuid::Uuid;

use crate::{AppError, Tessera};

/// An authenticated caller and what they may reach.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub scope: Scope,
    /// The API key the request came with (None for a JWT), so limits can be kept per key.
    pub api_key: Option<ApiKeyId>,
}

impl Principal {
    /// The operator at the command line (and the demo seeder): an admin who is no stored user. Only the binary
    /// builds one; every request is authenticated into a stored user instead.
    pub fn operator() -> Self {
        let user = User {
            id: UserId(Uuid::nil()),
            username: "operator".into(),
            role: Role::Admin,
            agency_id: None,
            session_epoch: 0,
        };
        Self { user, scope: Scope::All, api_key: None }
    }

    /// What rate limits count against: the API key, or the user for a token.
    pub fn credential_key(&self) -> String {
        match self.api_key {
            Some(key) => format!("key:{key}"),
            None => format!("user:{}", self.user.id),
        }
    }
}

impl Principal {
    pub fn role(&self) -> Role {
        self.user.role
    }

    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    pub(crate) fn require_admin(&self) -> Result<(), AppError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden(self.user.role.as_str()))
        }
    }

    /// Admins manage every user's keys; others only their own (someone else's user is answered as missing).
    pub(crate) fn require_self_or_admin(&self, user: UserId) -> Result<(), AppError> {
        if self.is_admin() || self.user.id == user {
            Ok(())
        } else {
            Err(AppError::NotFound("user"))
        }
    }

    /// Admins, or agents of that agency; customers never.
    pub(crate) fn require_agency_staff(&self, agency: AgencyId) -> Result<(), AppError> {
        match (self.user.role, self.user.agency_id) {
            (Role::Admin, _) => Ok(()),
            (Role::Agent, Some(own)) if own == agency => Ok(()),
            // Another agency's resource is answered like a missing one.
            (Role::Agent, _) => Err(AppError::NotFound("agency")),
            (Role::Customer, _) => Err(AppError::Forbidden("customer")),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    agency: Option<String>,
    roles: Vec<String>,
    iat: i64,
    exp: i64,
    jti: String,
    /// The user's session epoch when the token was issued; tokens from before it existed count as the first.
    #[serde(default)]
    sv: i64,
}

/// What sign-in answers.
#[derive(Debug, Clone, Serialize)]
pub struct AccessToken {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
}

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing: {e}")))
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash to verify against when the user does not exist, so both paths cost one argon2 verification
/// and response time does not reveal which usernames exist.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy-password-for-timing").unwrap_or_default())
}

pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Every API key starts with this, which tells it apart from a JWT in a header that may carry either.
pub const API_KEY_PREFIX: &str = "tsk_";

impl Tessera {
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<AccessToken, AppError> {
        // No stored username has control characters (or is that long); don't send such text to the database.
        let creds = if username.chars().any(char::is_control) || username.len() > 64 {
            None
        } else {
            self.db.find_credentials(username).await?
        };
        let hash = creds.as_ref().map_or(decoy_hash(), |c| c.password_hash.as_str()).to_owned();
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|e| AppError::Internal(format!("password check: {e}")))?;
        match creds {
            Some(c) if ok => self.issue_token(&c.user),
            _ => Err(AppError::InvalidCredentials),
        }
    }

    pub fn issue_token(&self, user: &User) -> Result<AccessToken, AppError> {
        let now = self.now().timestamp();
        let ttl = self.settings.token_ttl.as_secs();
        let claims = Claims {
            sub: user.id.to_string(),
            agency: user.agency_id.map(|a| a.to_string()),
            roles: vec![user.role.as_str().to_owned()],
            iat: now,
            exp: now + ttl as i64,
            jti: Uuid::new_v4().to_string(),
            sv: user.session_epoch,
        };
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(self.settings.jwt_secret.expose()),
        )
        .map_err(|e| AppError::Internal(format!("token signing: {e}")))?;
        Ok(AccessToken { access_token: token, token_type: "Bearer", expires_in: ttl })
    }

    /// Verifies a JWT (HS256 only; `none` and every other algorithm are refused) and loads its user.
    pub async fn authenticate_token(&self, token: &str) -> Result<Principal, AppError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        let data = decode::<Claims>(token, &DecodingKey::from_secret(self.settings.jwt_secret.expose()), &validation)
            .map_err(|_| AppError::InvalidCredentials)?;
        // jsonwebtoken checks `exp` against the system clock; also check ours so a moved test clock agrees.
        if data.claims.exp <= self.now().timestamp() {
            return Err(AppError::InvalidCredentials);
        }
        let id: Uuid = data.claims.sub.parse().map_err(|_| AppError::InvalidCredentials)?;
        let user = self.db.get_user(UserId(id)).await?.ok_or(AppError::InvalidCredentials)?;
        // Signed out since: the token is of an earlier generation of the user's sessions.
        if data.claims.sv != user.session_epoch {
            return Err(AppError::InvalidCredentials);
        }
        principal(user)
    }

    /// Ends every session of `user` (the caller's own, or anyone's for an admin): each access token issued to
    /// them before stops working on every node at once, as the check above reads the user on every request.
    /// API keys are not sessions and stay; revoke those one by one.
    pub async fn end_sessions(&self, who: &Principal, user: UserId) -> Result<User, AppError> {
        who.require_self_or_admin(user)?;
        self.db.end_sessions(user).await?.ok_or(AppError::NotFound("user"))
    }

    pub async fn authenticate_api_key(&self, key: &str) -> Result<Principal, AppError> {
        if !key.starts_with(API_KEY_PREFIX) {
            return Err(AppError::InvalidCredentials);
        }
        let (record, user) = self.db.find_api_key(&hash_api_key(key)).await?.ok_or(AppError::InvalidCredentials)?;
        let mut who = principal(user)?;
        who.api_key = Some(record.id);
        Ok(who)
    }

    /// Opens a user account (admins only).
    pub async fn create_user(
        &self,
        who: &Principal,
        username: &str,
        password: &str,
        role: Role,
        agency_id: Option<AgencyId>,
    ) -> Result<User, AppError> {
        who.require_admin()?;
        let username = username.trim();
        if username.is_empty() || username.len() > 64 || username.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AppError::Validation(tessera_core::intake::ValidationErrors::single(
                "/username",
                "must be 1-64 characters without spaces",
            )));
        }
        if password.chars().count() < 8 {
            return Err(AppError::Validation(tessera_core::intake::ValidationErrors::single(
                "/password",
                "must be at least 8 characters",
            )));
        }
        match (role, agency_id) {
            (Role::Agent | Role::Customer, None) => {
                return Err(AppError::Validation(tessera_core::intake::ValidationErrors::single(
                    "/agency_id",
                    "agents and customers belong to an agency",
                )))
            }
            (_, Some(agency)) if self.db.get_agency(agency).await?.is_none() => {
                return Err(AppError::Validation(tessera_core::intake::ValidationErrors::single(
                    "/agency_id",
                    format!("no agency {agency}"),
                )))
            }
            _ => {}
        }
        let password = password.to_owned();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| AppError::Internal(format!("password hashing: {e}")))??;
        let user = NewUser {
            id: UserId::generate(),
            username: username.to_owned(),
            password_hash,
            role,
            agency_id,
            created_at: self.now(),
        };
        Ok(self.db.create_user(&user).await?)
    }

    /// [`Tessera::create_user`] with the role as a client names it (`admin`, `agent` or `customer`); an unknown
    /// one is refused as `/role`, after the caller is known to be an admin.
    pub async fn create_user_in_role(
        &self,
        who: &Principal,
        username: &str,
        password: &str,
        role: &str,
        agency_id: Option<AgencyId>,
    ) -> Result<User, AppError> {
        who.require_admin()?;
        let role = Role::parse(role).ok_or_else(|| {
            AppError::Validation(tessera_core::intake::ValidationErrors::single(
                "/role",
                "must be `admin`, `agent` or `customer`",
            ))
        })?;
        self.create_user(who, username, password, role, agency_id).await
    }

    /// Every user, or those of one agency (admins only).
    pub async fn list_users(&self, who: &Principal, agency: Option<AgencyId>) -> Result<Vec<User>, AppError> {
        who.require_admin()?;
        Ok(self.db.list_users(agency).await?)
    }

    /// Creates an API key for a user (the caller's own, or anyone's for an admin); the key is returned once and
    /// only its hash is stored.
    pub async fn create_api_key(&self, who: &Principal, user: UserId) -> Result<(ApiKeyRecord, String), AppError> {
        who.require_self_or_admin(user)?;
        self.db.get_user(user).await?.ok_or(AppError::NotFound("user"))?;
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let key = format!("{API_KEY_PREFIX}{}", hex::encode(bytes));
        let record = self
            .db
            .create_api_key(&NewApiKey {
                id: ApiKeyId::generate(),
                user_id: user,
                key_hash: hash_api_key(&key),
                prefix: key.chars().take(API_KEY_PREFIX.len() + 6).collect(),
                created_at: self.now(),
            })
            .await?;
        Ok((record, key))
    }

    /// A user's keys, live and revoked (the caller's own, or anyone's for an admin).
    pub async fn list_api_keys(&self, who: &Principal, user: UserId) -> Result<Vec<ApiKeyRecord>, AppError> {
        who.require_self_or_admin(user)?;
        Ok(self.db.list_api_keys(user).await?)
    }

    /// Revokes a key: any key for an admin, one of their own for anyone else (another's is answered as missing).
    pub async fn revoke_api_key(&self, who: &Principal, id: ApiKeyId) -> Result<(), AppError> {
        if !who.is_admin() && !self.db.list_api_keys(who.user.id).await?.iter().any(|k| k.id == id) {
            return Err(AppError::NotFound("api key"));
        }
        if self.db.revoke_api_key(id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("api key"))
        }
    }

    pub async fn find_user_by_username(&self, username: &str) -> Result<User, AppError> {
        self.db.find_credentials(username).await?.map(|c| c.user).ok_or(AppError::NotFound("user"))
    }
}

fn principal(user: User) -> Result<Principal, AppError> {
    let scope = Scope::of(&user).ok_or(AppError::InvalidCredentials)?;
    Ok(Principal { user, scope, api_key: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn api_key_hash_is_sha256_hex() {
        assert_eq!(hash_api_key("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn key_ids_are_distinct() {
        assert_ne!(ApiKeyId::generate(), ApiKeyId::generate());
    }
}
