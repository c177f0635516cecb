-- The generation of a user's sessions: access tokens carry the number they were issued under, and signing out
-- moves it on, so every token issued before stops working (tessera_core::user::User::session_epoch).
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
