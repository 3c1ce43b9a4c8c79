//! Reading records out of rows, shared by the backends: both name their columns alike and keep
//! every integer as a 64-bit one.

use std::str::FromStr;

use sqlx::{ColumnIndex, Database, Decode, Row, Type};
use vmafx_core::SegmentSpec;

use crate::codec;
use crate::records::{ItemRecord, JobRecord};
use crate::StoreError;

/// The column types a backend must read for [`job_from_row`] and [`item_from_row`].
pub(crate) trait Readable<'r>: Row
where
    &'r str: ColumnIndex<Self>,
{
    fn int(&'r self, column: &'r str) -> Result<i64, StoreError>;
    fn opt_int(&'r self, column: &'r str) -> Result<Option<i64>, StoreError>;
    fn text(&'r self, column: &'r str) -> Result<String, StoreError>;
    fn opt_text(&'r self, column: &'r str) -> Result<Option<String>, StoreError>;
    fn opt_bytes(&'r self, column: &'r str) -> Result<Option<Vec<u8>>, StoreError>;
    fn opt_float(&'r self, column: &'r str) -> Result<Option<f64>, StoreError>;
}

impl<'r, R: Row> Readable<'r> for R
where
    &'r str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    f64: Decode<'r, R::Database> + Type<R::Database>,
    R::Database: Database,
{
    fn int(&'r self, column: &'r str) -> Result<i64, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn opt_int(&'r self, column: &'r str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn text(&'r self, column: &'r str) -> Result<String, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn opt_text(&'r self, column: &'r str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn opt_bytes(&'r self, column: &'r str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn opt_float(&'r self, column: &'r str) -> Result<Option<f64>, StoreError> {
        Ok(self.try_get(column)?)
    }
}

/// A state (or other enum) as the store writes it.
pub(crate) fn parse<T: FromStr<Err = String>>(s: &str) -> Result<T, StoreError> {
    s.parse().map_err(StoreError::Corrupt)
}

pub(crate) fn job_from_row<'r, R: Readable<'r>>(r: &'r R) -> Result<JobRecord, StoreError>
where
    &'r str: ColumnIndex<R>,
{
    let spec = r.text("spec")?;
    Ok(JobRecord {
        seq: r.int("seq")?,
        id: r.text("id")?,
        idempotency_key: r.opt_text("idempotency_key")?,
        spec: serde_json::from_str(&spec).map_err(|e| StoreError::Corrupt(format!("job spec: {e}")))?,
        state: parse(&r.text("state")?)?,
        priority: r.int("priority")? as i32,
        total_frames: r.int("total_frames")? as u64,
        submitted_ms: r.int("submitted_ms")?,
        started_ms: r.opt_int("started_ms")?,
        finished_ms: r.opt_int("finished_ms")?,
        error: r.opt_text("error")?,
        items_total: r.int("items_total")? as u32,
        items_done: r.int("items_done")? as u32,
        vmaf: r.opt_float("vmaf")?,
        owner: r.text("owner")?,
    })
}

pub(crate) fn item_from_row<'r, R: Readable<'r>>(r: &'r R) -> Result<ItemRecord, StoreError>
where
    &'r str: ColumnIndex<R>,
{
    Ok(ItemRecord {
        id: r.int("id")?,
        job_id: r.text("job_id")?,
        index: r.int("idx")? as u32,
        segment: SegmentSpec { start: r.int("start_frame")? as u64, frames: r.int("frames")? as u64 },
        state: parse(&r.text("state")?)?,
        attempts: r.int("attempts")? as u32,
        not_before_ms: r.int("not_before_ms")?,
        lease_node: r.opt_text("lease_node")?,
        lease_expires_ms: r.opt_int("lease_expires_ms")?,
        fence: r.int("fence")?,
        result: r
            .opt_bytes("result")?
            .map(|bytes| codec::decode(r.int("result_version")?, &bytes))
            .transpose()?,
        last_error: r.opt_text("last_error")?,
    })
}
