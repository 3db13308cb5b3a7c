//! Users: agents, supervisors and admins, with their routing profile and last status.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{conflict, parse_json, NewUser, Result, Store, StoreError, UserRow};

const COLUMNS: &str =
    "id, login, name, role, password_hash, profile, status, status_reason, status_since";

fn user(row: &AnyRow) -> Result<UserRow> {
    Ok(UserRow {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        password_hash: row.try_get("password_hash")?,
        profile: parse_json("users.profile", &row.try_get::<String, _>("profile")?)?,
        status: row.try_get("status")?,
        status_reason: row.try_get("status_reason")?,
        status_since: row.try_get("status_since")?,
    })
}

impl Store {
    pub async fn create_user(&self, new: &NewUser) -> Result<i64> {
        let id: i64 = sqlx::query(
            "INSERT INTO users (login, name, role, password_hash, profile) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&new.login)
        .bind(&new.name)
        .bind(&new.role)
        .bind(&new.password_hash)
        .bind(new.profile.to_string())
        .fetch_one(self.pool())
        .await
        .map_err(conflict("login"))?
        .try_get(0)?;
        Ok(id)
    }

    /// Replaces name, role and profile; the password only when `password_hash` is given.
    pub async fn update_user(&self, id: i64, new: &NewUser, password: bool) -> Result<()> {
        let sql = if password {
            "UPDATE users SET login = $1, name = $2, role = $3, profile = $4, password_hash = $5 \
             WHERE id = $6"
        } else {
            "UPDATE users SET login = $1, name = $2, role = $3, profile = $4 \
             WHERE id = $6 AND $5 = $5"
        };
        let done = sqlx::query(sql)
            .bind(&new.login)
            .bind(&new.name)
            .bind(&new.role)
            .bind(new.profile.to_string())
            .bind(&new.password_hash)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(conflict("login"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }

    pub async fn list_users(&self) -> Result<Vec<UserRow>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM users ORDER BY id"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(user).collect()
    }

    pub async fn user(&self, id: i64) -> Result<Option<UserRow>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user).transpose()
    }

    pub async fn user_by_login(&self, login: &str) -> Result<Option<UserRow>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE login = $1"))
            .bind(login)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user).transpose()
    }
}
