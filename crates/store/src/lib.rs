//! Durable state of Switchboard: configuration tables, callback requests, interactions, the
//! append-only event log, sessions and API tokens.
//!
//! One implementation serves SQLite (the embedded default, in WAL mode) and PostgreSQL through
//! sqlx's `Any` driver: the SQL is written in the common subset of both dialects, times are
//! BIGINT milliseconds and structured settings are JSON text. Each backend has its own
//! migration files. One contract test suite (`tests/contract.rs`) runs against both.
//!
//! API Boundary: only this crate knows SQL.

mod actions;
mod auth;
mod callbacks;
mod campaigns;
mod config_tables;
pub use config_tables::SettingsTable;
mod events;
mod migrate;
mod rows;
mod stats;
mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use thiserror::Error;

pub use actions::{ActionRow, ACTION_FAILED, ACTION_PENDING, ACTION_SENT, DUE_ACTIONS_MAX};
pub use callbacks::{InsertOutcome, NewCallback};
pub use campaigns::{
    AgentCallRow, CallFigures, CallRow, CampaignRow, ContactRow, DncRow, NewContact,
};
pub use rows::*;
pub use stats::StatsInteraction;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("unsupported database url (use sqlite:// or postgres://)")]
    UnsupportedUrl,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Connections in the pool. SQLite serialises writers anyway; PostgreSQL gets a few.
const POOL_CONNECTIONS_MAX: u32 = 8;

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects and applies pending migrations. `sqlite://PATH` (created if missing) or
    /// `postgres://...`.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let url = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => POOL_CONNECTIONS_MAX,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let store = Store { pool, backend };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// Creates (or recreates) an empty PostgreSQL database next to `admin_url` and returns its
    /// URL. For tests and benchmarks, which each want a clean database.
    pub async fn create_postgres_database(admin_url: &str, name: &str) -> Result<String> {
        use sqlx::Connection;
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::UnsupportedUrl);
        }
        let mut conn = sqlx::PgConnection::connect(admin_url).await?;
        conn.execute(format!("DROP DATABASE IF EXISTS {name}").as_str()).await?;
        conn.execute(format!("CREATE DATABASE {name}").as_str()).await?;
        let base = admin_url.rsplit_once('/').map(|(b, _)| b).ok_or(StoreError::UnsupportedUrl)?;
        Ok(format!("{base}/{name}"))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction that will write. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads first cannot upgrade once another writer
    /// has committed, and fails with "database is locked" instead of waiting.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Maps a unique-constraint violation to `Conflict(what)`.
pub(crate) fn conflict(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Db(e),
    }
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}
