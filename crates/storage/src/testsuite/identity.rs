//! Users and API keys.

use std::collections::HashSet;
use std::sync::Arc;

use tessera_core::ids::{ApiKeyId, UserId};
use tessera_core::user::{Role, User};

use super::data::*;
use crate::{Database, NewApiKey, NewUser, StorageError};

checks! {
    async fn users_create_find_list(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let other = new_agency(db, 0).await;
        let admin = new_user(db, None, Role::Admin).await;
        assert_eq!(admin.role, Role::Admin);
        assert_eq!(admin.agency_id, None);
        let agent = new_user(db, Some(agency.id), Role::Agent).await;
        let customer = new_user(db, Some(agency.id), Role::Customer).await;
        let other_agent = new_user(db, Some(other.id), Role::Agent).await;
        assert_eq!(agent.agency_id, Some(agency.id));

        let duplicate = db
            .create_user(&NewUser {
                id: UserId::generate(),
                username: agent.username.clone(),
                password_hash: "x".into(),
                role: Role::Customer,
                agency_id: Some(other.id),
                created_at: now(),
            })
            .await;
        assert!(matches!(duplicate, Err(StorageError::Conflict("username"))), "got {duplicate:?}");

        let credentials = db.find_credentials(&agent.username).await.expect("find credentials").expect("found");
        assert_eq!(credentials.user, agent);
        assert!(credentials.password_hash.starts_with("$argon2id$"));
        assert!(db.find_credentials("nobody").await.expect("find credentials").is_none());

        assert_eq!(db.get_user(customer.id).await.expect("get user"), Some(customer.clone()));
        assert_eq!(db.get_user(UserId::generate()).await.expect("get user"), None);

        let sorted = |mut users: Vec<User>| {
            users.sort_by_key(|u| u.id);
            users
        };
        assert_eq!(
            sorted(db.list_users(Some(agency.id)).await.expect("list users")),
            sorted(vec![agent.clone(), customer.clone()])
        );
        assert_eq!(sorted(db.list_users(Some(other.id)).await.expect("list users")), vec![other_agent.clone()]);
        assert_eq!(
            sorted(db.list_users(None).await.expect("list users")),
            sorted(vec![admin, agent, customer, other_agent])
        );
    }

    async fn ending_sessions_moves_the_epoch_on(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let agent = new_user(db, Some(agency.id), Role::Agent).await;
        let other = new_user(db, Some(agency.id), Role::Agent).await;
        assert_eq!(agent.session_epoch, 0, "a new user's sessions are of the first generation");
        let ended = db.end_sessions(agent.id).await.expect("end sessions").expect("the user exists");
        assert_eq!(ended, User { session_epoch: 1, ..agent.clone() });
        let again = db.end_sessions(agent.id).await.expect("end sessions").expect("the user exists");
        assert_eq!(again.session_epoch, 2);
        assert_eq!(db.get_user(agent.id).await.expect("get user"), Some(again.clone()));
        let credentials = db.find_credentials(&agent.username).await.expect("find credentials").expect("found");
        assert_eq!(credentials.user, again, "sign-in reads the epoch tokens are issued under");
        assert_eq!(db.get_user(other.id).await.expect("get user"), Some(other), "another user's sessions stay");
        assert_eq!(db.end_sessions(UserId::generate()).await.expect("end sessions"), None);
    }

    async fn api_keys_lifecycle(db: Arc<dyn Database>) {
        let db = &*db;
        let agency = new_agency(db, 0).await;
        let agent = new_user(db, Some(agency.id), Role::Agent).await;
        let other = new_user(db, Some(agency.id), Role::Customer).await;
        let key = |user: &User, hash: &str| NewApiKey {
            id: ApiKeyId::generate(),
            user_id: user.id,
            key_hash: hash.into(),
            prefix: format!("tk_{}", &hash[..6]),
            created_at: now(),
        };
        let first = key(&agent, "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2");
        let second = key(&agent, "ffeeddccbbaaffeeddccbbaaffeeddccbbaaffeeddccbbaaffeeddccbbaaffee");
        let created = db.create_api_key(&first).await.expect("create api key");
        assert_eq!(created.id, first.id);
        assert_eq!(created.user_id, agent.id);
        assert_eq!(created.prefix, first.prefix);
        assert_eq!(created.created_at, first.created_at);
        assert_eq!(created.revoked_at, None);
        db.create_api_key(&second).await.expect("create api key");
        db.create_api_key(&key(&other, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))
            .await
            .expect("create api key");

        let (found, owner) = db.find_api_key(&first.key_hash).await.expect("find api key").expect("found");
        assert_eq!(found.id, first.id);
        assert_eq!(found.prefix, first.prefix);
        assert_eq!(found.revoked_at, None);
        assert_eq!(owner, agent);
        assert!(db.find_api_key("0000").await.expect("find api key").is_none());

        let duplicate = db.create_api_key(&key(&other, &first.key_hash)).await;
        assert!(matches!(duplicate, Err(StorageError::Conflict(_))), "got {duplicate:?}");

        let ids: HashSet<ApiKeyId> = db.list_api_keys(agent.id).await.expect("list").iter().map(|k| k.id).collect();
        assert_eq!(ids, HashSet::from([first.id, second.id]));

        assert!(db.revoke_api_key(first.id).await.expect("revoke"));
        assert!(!db.revoke_api_key(first.id).await.expect("revoke again"), "already revoked");
        assert!(!db.revoke_api_key(ApiKeyId::generate()).await.expect("revoke unknown"));
        assert!(db.find_api_key(&first.key_hash).await.expect("find api key").is_none(), "a revoked key is not found");
        assert!(db.find_api_key(&second.key_hash).await.expect("find api key").is_some(), "others still work");

        let listed = db.list_api_keys(agent.id).await.expect("list");
        let revoked = listed.iter().find(|k| k.id == first.id).expect("revoked keys are still listed");
        assert!(revoked.revoked_at.is_some());
        assert!(listed.iter().find(|k| k.id == second.id).is_some_and(|k| k.revoked_at.is_none()));
    }
}
