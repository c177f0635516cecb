//! The connection itself.

use std::sync::Arc;

use crate::Database;

checks! {
    async fn ping(db: Arc<dyn Database>) {
        db.ping().await.expect("ping");
        assert!(!db.backend().is_empty());
    }
}
