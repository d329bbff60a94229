//! Running one query of npm `pg`'s `client.query` on a connection: the extended protocol with
//! the rows read as they stream in (binary values decoded by [`super::pg_decode`], other types
//! fetched in their text form), or the simple protocol for a parameterless text of several
//! statements. Every row read is charged to the container's host buffers and one result is
//! capped at [`MAX_RESULT_BYTES`], so a huge result fails the query instead of growing the host.

use super::pg::{BoxError, Param, Val, err, pg_error, s, usage};
use super::pg_decode::{Dec, conv_for, dec_for, decode, hex};
use futures_util::TryStreamExt;
use tokio_postgres::types::{FromSql, Kind, ToSql, Type};
use tokio_postgres::{Client, SimpleQueryMessage};

/// Values converted to text per round trip for types without a binary decoder.
const TEXT_BATCH: usize = 500;

/// A column value's raw bytes, whatever its type.
struct Raw<'a>(Option<&'a [u8]>);

/// Largest query result read into a script (the sum of the raw column values).
const MAX_RESULT_BYTES: usize = 32 * 1024 * 1024;

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Raw(Some(raw)))
    }
    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Raw(None))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

// --- decoding -------------------------------------------------------------------------------

/// `{ count, fields: [{name, dataTypeID, tableID, columnID, dataTypeModifier, conv}], rows }`
/// (the facade reads `command` and `rowCount` from the statement's text and `count`).
pub(super) fn result(count: u64, fields: Vec<Val>, rows: Vec<Vec<Val>>) -> Val {
    let rows = rows.into_iter().map(Val::Array).collect();
    Val::Obj(vec![
        ("count", Val::Num(count as f64)),
        ("fields", Val::Array(fields)),
        ("rows", Val::Array(rows)),
    ])
}

fn field(name: &str, oid: u32, table: u32, column: i16, modifier: i32, conv: &str) -> Val {
    Val::Obj(vec![
        ("name", s(name)),
        ("dataTypeID", Val::Num(oid.into())),
        ("tableID", Val::Num(table.into())),
        ("columnID", Val::Num(column.into())),
        ("dataTypeModifier", Val::Num(modifier.into())),
        ("conv", s(conv)),
    ])
}

/// The server's text form of binary values of type `ty`; `\x...` hex where it cannot say.
async fn server_text(client: &Client, ty: &Type, values: Vec<Vec<u8>>) -> Vec<String> {
    let mut out = Vec::with_capacity(values.len());
    // Anonymous records and pseudo-types cannot be received back: do not even try (a failed
    // statement would abort the script's open transaction).
    let convertible = ty.oid() != 2249 && !matches!(ty.kind(), Kind::Pseudo);
    for chunk in values.chunks(TEXT_BATCH) {
        let mut rows = None;
        if convertible {
            let cols: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}::text")).collect();
            let params: Vec<Param> = chunk.iter().cloned().map(Param::Binary).collect();
            let typed: Vec<(&(dyn ToSql + Sync), Type)> = params
                .iter()
                .map(|p| (p as &(dyn ToSql + Sync), ty.clone()))
                .collect();
            let sql = format!("SELECT {}", cols.join(", "));
            rows = client.query_typed(&sql, &typed).await.ok();
        }
        match rows.as_deref() {
            Some([row]) => out.extend((0..chunk.len()).map(|i| {
                let t = row.try_get::<_, Option<String>>(i).ok().flatten();
                t.unwrap_or_default()
            })),
            _ => out.extend(chunk.iter().map(|b| format!("\\x{}", hex(b)))),
        }
    }
    out
}

/// Several statements in one parameterless text: the simple protocol, every value a string.
/// Rows are read as they stream in and charged to the container's host buffers, under the same
/// size cap as one result of the extended protocol.
async fn simple(
    client: &Client,
    text: &str,
    buffers: &crate::budget::HostBuffers,
) -> Result<Val, Val> {
    let stream = client
        .simple_query_raw(text)
        .await
        .map_err(|e| pg_error(&e))?;
    futures_util::pin_mut!(stream);
    let (mut out, mut fields, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    let mut bytes = 0usize;
    let mut charge = buffers.charge();
    while let Some(m) = stream.try_next().await.map_err(|e| pg_error(&e))? {
        match m {
            SimpleQueryMessage::RowDescription(cols) => {
                fields = cols
                    .iter()
                    .map(|c| field(c.name(), 25, 0, 0, -1, ""))
                    .collect();
            }
            SimpleQueryMessage::Row(r) => {
                let size: usize = (0..r.len()).map(|i| r.get(i).map_or(0, str::len)).sum();
                bytes += size;
                charge
                    .grow(size + 16 * r.len())
                    .map_err(|m| usage(format!("pg: {m}")))?;
                if bytes > MAX_RESULT_BYTES {
                    return Err(too_large());
                }
                rows.push(
                    (0..r.len())
                        .map(|i| r.get(i).map_or(Val::Null, s))
                        .collect(),
                );
            }
            SimpleQueryMessage::CommandComplete(n) => {
                out.push(result(
                    n,
                    std::mem::take(&mut fields),
                    std::mem::take(&mut rows),
                ));
            }
            _ => {}
        }
    }
    Ok(Val::Obj(vec![("multi", Val::Array(out))]))
}

/// The error for a result past [`MAX_RESULT_BYTES`].
fn too_large() -> Val {
    usage(format!(
        "pg: the query result is larger than {} MiB; select fewer rows or columns",
        MAX_RESULT_BYTES / (1024 * 1024)
    ))
}

pub(super) async fn run_query(
    client: &Client,
    text: &str,
    params: Vec<Param>,
    buffers: &crate::budget::HostBuffers,
) -> Result<Val, Val> {
    let stmt = match client.prepare(text).await {
        Ok(st) => st,
        Err(e)
            if params.is_empty()
                && e.as_db_error().is_some_and(|d| {
                    d.code().code() == "42601" && d.message().contains("multiple commands")
                }) =>
        {
            return simple(client, text, buffers).await;
        }
        Err(e) => return Err(pg_error(&e)),
    };
    if stmt.params().len() != params.len() {
        let message = format!(
            "bind message supplies {} parameters, but prepared statement \"\" requires {}",
            params.len(),
            stmt.params().len()
        );
        return Err(err(
            "db",
            message,
            vec![("severity", s("ERROR")), ("code", s("08P01"))],
        ));
    }
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    let cols = stmt.columns();
    if cols.is_empty() {
        let n = client
            .execute(&stmt, &refs)
            .await
            .map_err(|e| pg_error(&e))?;
        return Ok(result(n, Vec::new(), Vec::new()));
    }
    // Read rows as they stream in and stop at the size cap, so a huge result is never
    // buffered whole in Rust before the script's memory limit could apply.
    let stream = client
        .query_raw(&stmt, refs.iter().copied())
        .await
        .map_err(|e| pg_error(&e))?;
    futures_util::pin_mut!(stream);
    let mut rows = Vec::new();
    let mut bytes = 0usize;
    let mut charge = buffers.charge();
    while let Some(row) = stream.try_next().await.map_err(|e| pg_error(&e))? {
        let before = bytes;
        for i in 0..row.len() {
            if let Ok(Raw(Some(b))) = row.try_get::<_, Raw>(i) {
                bytes += b.len();
            }
        }
        charge
            .grow(bytes - before + 16 * row.len())
            .map_err(|m| usage(format!("pg: {m}")))?;
        if bytes > MAX_RESULT_BYTES {
            return Err(too_large());
        }
        rows.push(row);
    }
    let decs: Vec<Dec> = cols.iter().map(|c| dec_for(c.type_())).collect();
    let mut pending: Vec<Vec<Vec<u8>>> = vec![Vec::new(); cols.len()];
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut vals = Vec::with_capacity(cols.len());
        for (i, dec) in decs.iter().enumerate() {
            let raw = row
                .try_get::<_, Raw>(i)
                .map_err(|e| usage(format!("pg: {e}")))?;
            vals.push(match (raw.0, dec) {
                (None, _) => Val::Null,
                (Some(b), Dec::Text) => {
                    pending[i].push(b.to_vec());
                    Val::Pending(pending[i].len() - 1)
                }
                (Some(b), d) => decode(d, b).map_err(|e| {
                    let (name, ty) = (cols[i].name(), cols[i].type_());
                    usage(format!("pg: cannot read column {name} (type {ty}): {e}"))
                })?,
            });
        }
        out.push(vals);
    }
    for (i, values) in pending.into_iter().enumerate() {
        if values.is_empty() {
            continue;
        }
        let mut texts = server_text(client, cols[i].type_(), values).await;
        for row in &mut out {
            if let Some(Val::Pending(k)) = row.get(i) {
                row[i] = s(texts.get_mut(*k).map(std::mem::take).unwrap_or_default());
            }
        }
    }
    let fields = cols
        .iter()
        .map(|c| {
            let (t, col) = (c.table_oid().unwrap_or(0), c.column_id().unwrap_or(0));
            field(
                c.name(),
                c.type_().oid(),
                t,
                col,
                c.type_modifier(),
                conv_for(c.type_()),
            )
        })
        .collect();
    Ok(result(out.len() as u64, fields, out))
}
