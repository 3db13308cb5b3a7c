//! Applies the embedded migrations of the connected backend, once each, in order.

use sqlx::{Executor, Row};

use crate::{Backend, Result, Store};

const SQLITE: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_campaigns.sql")),
    (3, include_str!("../migrations/sqlite/0003_campaign_answers_and_actions.sql")),
    (4, include_str!("../migrations/sqlite/0004_campaign_dispositions.sql")),
    (5, include_str!("../migrations/sqlite/0005_campaign_calls_by_agent.sql")),
];
const POSTGRES: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_campaigns.sql")),
    (3, include_str!("../migrations/postgres/0003_campaign_answers_and_actions.sql")),
    (4, include_str!("../migrations/postgres/0004_campaign_dispositions.sql")),
    (5, include_str!("../migrations/postgres/0005_campaign_calls_by_agent.sql")),
];

pub(crate) async fn run(store: &Store) -> Result<()> {
    let pool = store.pool();
    pool.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)")
        .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    let migrations = match store.backend() {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    for (version, sql) in migrations {
        if applied.contains(version) {
            continue;
        }
        let mut tx = store.begin_write().await?;
        // Statements hold no semicolons inside literals, so splitting is exact.
        for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            tx.execute(statement).await?;
        }
        sqlx::query("INSERT INTO schema_migrations (version) VALUES ($1)")
            .bind(*version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, "applied migration");
    }
    Ok(())
}
