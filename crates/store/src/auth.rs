//! Login sessions and API tokens. Only hashes of secrets are stored.

use sqlx::Row;

use crate::{conflict, Result, SessionRow, Store, TokenRow};

fn token(r: &sqlx::any::AnyRow) -> Result<TokenRow> {
    Ok(TokenRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: r.try_get("role")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        expires_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(expires_at)
        .execute(self.pool())
        .await
        .map_err(conflict("session"))?;
        Ok(())
    }

    /// The session if it exists and has not expired at `now`.
    pub async fn session(&self, token_hash: &str, now: i64) -> Result<Option<SessionRow>> {
        let row = sqlx::query("SELECT user_id, csrf, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok(SessionRow {
                user_id: r.try_get("user_id")?,
                csrf: r.try_get("csrf")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn create_token(
        &self,
        name: &str,
        token_hash: &str,
        role: &str,
        now: i64,
    ) -> Result<i64> {
        let row = sqlx::query("INSERT INTO api_tokens (name, token_hash, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(name)
            .bind(token_hash)
            .bind(role)
            .bind(now)
            .fetch_one(self.pool())
            .await
            .map_err(conflict("token"))?;
        Ok(row.try_get(0)?)
    }

    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRow>> {
        let row =
            sqlx::query("SELECT id, name, role, created_at FROM api_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(token).transpose()
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query("SELECT id, name, role, created_at FROM api_tokens ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(token).collect()
    }

    /// Revokes a token; the next request with it is unauthenticated.
    pub async fn delete_token(&self, id: i64) -> Result<()> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(crate::StoreError::NotFound("token"));
        }
        Ok(())
    }
}
