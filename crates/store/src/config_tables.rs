//! Departments, queues, scripts and widgets: configuration kept as JSON settings.

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{
    conflict, parse_json, DepartmentRow, Result, SettingsRow, Store, StoreError, WidgetRow,
};

/// The two tables whose rows are (id, name, JSON body).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingsTable {
    Queues,
    Scripts,
}

impl SettingsTable {
    fn sql_names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            SettingsTable::Queues => ("queues", "settings", "queue"),
            SettingsTable::Scripts => ("scripts", "definition", "script"),
        }
    }
}

fn widget(row: &AnyRow) -> Result<WidgetRow> {
    Ok(WidgetRow {
        id: row.try_get("id")?,
        key: row.try_get("widget_key")?,
        name: row.try_get("name")?,
        queue_id: row.try_get("queue_id")?,
        settings: parse_json("widgets.settings", &row.try_get::<String, _>("settings")?)?,
    })
}

impl Store {
    pub async fn create_department(&self, name: &str) -> Result<i64> {
        let row = sqlx::query("INSERT INTO departments (name) VALUES ($1) RETURNING id")
            .bind(name)
            .fetch_one(self.pool())
            .await
            .map_err(conflict("department"))?;
        Ok(row.try_get(0)?)
    }

    pub async fn update_department(&self, id: i64, name: &str) -> Result<()> {
        let done = sqlx::query("UPDATE departments SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(conflict("department"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("department"));
        }
        Ok(())
    }

    pub async fn list_departments(&self) -> Result<Vec<DepartmentRow>> {
        let rows = sqlx::query("SELECT id, name FROM departments ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok(DepartmentRow { id: r.try_get("id")?, name: r.try_get("name")? }))
            .collect()
    }

    pub async fn create_settings(
        &self,
        table: SettingsTable,
        name: &str,
        body: &Value,
    ) -> Result<i64> {
        let (t, col, what) = table.sql_names();
        let row =
            sqlx::query(&format!("INSERT INTO {t} (name, {col}) VALUES ($1, $2) RETURNING id"))
                .bind(name)
                .bind(body.to_string())
                .fetch_one(self.pool())
                .await
                .map_err(conflict(what))?;
        Ok(row.try_get(0)?)
    }

    pub async fn update_settings(
        &self,
        table: SettingsTable,
        id: i64,
        name: &str,
        body: &Value,
    ) -> Result<()> {
        let (t, col, what) = table.sql_names();
        let done = sqlx::query(&format!("UPDATE {t} SET name = $1, {col} = $2 WHERE id = $3"))
            .bind(name)
            .bind(body.to_string())
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(conflict(what))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(what));
        }
        Ok(())
    }

    pub async fn list_settings(&self, table: SettingsTable) -> Result<Vec<SettingsRow>> {
        let (t, col, what) = table.sql_names();
        let rows = sqlx::query(&format!("SELECT id, name, {col} FROM {t} ORDER BY id"))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(SettingsRow {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    settings: parse_json(what, &r.try_get::<String, _>(col)?)?,
                })
            })
            .collect()
    }

    pub async fn settings(&self, table: SettingsTable, id: i64) -> Result<Option<SettingsRow>> {
        Ok(self.list_settings(table).await?.into_iter().find(|r| r.id == id))
    }

    pub async fn create_widget(
        &self,
        key: &str,
        name: &str,
        queue_id: i64,
        settings: &Value,
    ) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO widgets (widget_key, name, queue_id, settings) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(key)
        .bind(name)
        .bind(queue_id)
        .bind(settings.to_string())
        .fetch_one(self.pool())
        .await
        .map_err(conflict("widget"))?;
        Ok(row.try_get(0)?)
    }

    pub async fn update_widget(
        &self,
        id: i64,
        name: &str,
        queue_id: i64,
        settings: &Value,
    ) -> Result<()> {
        let done =
            sqlx::query("UPDATE widgets SET name = $1, queue_id = $2, settings = $3 WHERE id = $4")
                .bind(name)
                .bind(queue_id)
                .bind(settings.to_string())
                .bind(id)
                .execute(self.pool())
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("widget"));
        }
        Ok(())
    }

    pub async fn list_widgets(&self) -> Result<Vec<WidgetRow>> {
        let rows =
            sqlx::query("SELECT id, widget_key, name, queue_id, settings FROM widgets ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(widget).collect()
    }

    pub async fn widget_by_key(&self, key: &str) -> Result<Option<WidgetRow>> {
        let row = sqlx::query(
            "SELECT id, widget_key, name, queue_id, settings FROM widgets WHERE widget_key = $1",
        )
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(widget).transpose()
    }
}
