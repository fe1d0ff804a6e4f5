//! Parquet writers for populations (`gen`) and result tables (`match`): rows appended to
//! column builders, every `ROW_GROUP_ROWS` rows written out as one row group on a thread
//! of its own, so memory holds one row group whatever the number of rows.

use super::*;

use polars::prelude::CompatLevel;
use polars_arrow::array::Array;

use super::parquet_file::ParquetFile;
use super::text_column::TextColumn;

/// Rows per row group of the Parquet files written here. The writers hold one row group in
/// memory, so this, not the number of rows, bounds their memory.
pub(super) const ROW_GROUP_ROWS: usize = 1 << 17;

/// The Parquet type of a column being written.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Str,
    Int,
    Float,
    /// Days since 1970-01-01, written as Date.
    Date,
    Bool,
    /// List(String).
    Tags,
}

impl From<ColType> for Kind {
    fn from(ty: ColType) -> Kind {
        match ty {
            ColType::Str => Kind::Str,
            ColType::Int => Kind::Int,
            ColType::Float => Kind::Float,
        }
    }
}

impl From<FieldType> for Kind {
    fn from(ty: FieldType) -> Kind {
        match ty {
            FieldType::Number => Kind::Float,
            FieldType::Integer => Kind::Int,
            FieldType::Date => Kind::Date,
            FieldType::Bool => Kind::Bool,
        }
    }
}

/// The values of one column in the row group being gathered.
pub(super) enum Values {
    Str(TextColumn),
    Int(pl::PrimitiveChunkedBuilder<pl::Int64Type>),
    Float(pl::PrimitiveChunkedBuilder<pl::Float64Type>),
    Date(pl::PrimitiveChunkedBuilder<pl::Int32Type>),
    Bool(pl::BooleanChunkedBuilder),
    Tags(pl::ListStringChunkedBuilder),
}

/// Tags per row the tag column reserves room for.
pub(super) const TAGS_PER_ROW: usize = 4;

impl Kind {
    /// The column's type in the file and in memory.
    fn dtype(self) -> pl::DataType {
        match self {
            Kind::Str => pl::DataType::String,
            Kind::Int => pl::DataType::Int64,
            Kind::Float => pl::DataType::Float64,
            Kind::Date => pl::DataType::Date,
            Kind::Bool => pl::DataType::Boolean,
            Kind::Tags => pl::DataType::List(Box::new(pl::DataType::String)),
        }
    }
}

impl Values {
    fn new(kind: Kind, name: pl::PlSmallStr, rows: usize) -> Values {
        match kind {
            Kind::Str => Values::Str(TextColumn::with_capacity(rows)),
            Kind::Int => Values::Int(pl::PrimitiveChunkedBuilder::new(name, rows)),
            Kind::Float => Values::Float(pl::PrimitiveChunkedBuilder::new(name, rows)),
            Kind::Date => Values::Date(pl::PrimitiveChunkedBuilder::new(name, rows)),
            Kind::Bool => Values::Bool(pl::BooleanChunkedBuilder::new(name, rows)),
            Kind::Tags => Values::Tags(pl::ListStringChunkedBuilder::new(
                name,
                rows,
                rows * TAGS_PER_ROW,
            )),
        }
    }

    fn push_null(&mut self) {
        match self {
            Values::Str(b) => b.push_null(),
            Values::Int(b) => b.append_null(),
            Values::Float(b) => b.append_null(),
            Values::Date(b) => b.append_null(),
            Values::Bool(b) => b.append_null(),
            Values::Tags(b) => b.append_null(),
        }
    }

    /// The array of the values gathered: text as a dictionary where rows share texts,
    /// unless `plain` (see [`TextColumn::take`]).
    fn finish(self, plain: bool) -> pl::PolarsResult<Box<dyn Array>> {
        let series = match self {
            Values::Str(mut b) => return Ok(b.take(plain)),
            Values::Int(b) => b.finish().into_series(),
            Values::Float(b) => b.finish().into_series(),
            Values::Date(b) => b.finish().into_series().cast(&pl::DataType::Date)?,
            Values::Bool(b) => b.finish().into_series(),
            Values::Tags(mut b) => b.finish().into_series(),
        };
        Ok(series.rechunk().to_arrow(0, CompatLevel::newest()))
    }
}

pub(super) struct OutColumn {
    name: pl::PlSmallStr,
    kind: Kind,
    values: Values,
}

impl OutColumn {
    /// The column gathered so far; gathering starts again, with room for `rows` rows.
    fn take(&mut self, rows: usize, plain: bool) -> pl::PolarsResult<Box<dyn Array>> {
        let fresh = Values::new(self.kind, self.name.clone(), rows);
        std::mem::replace(&mut self.values, fresh).finish(plain)
    }
}

/// Where the row groups go.
enum Dest {
    /// Writes each row group (its rows and columns), given with the context of its
    /// errors, then the footer.
    File(WriterThread<RowGroup, TabularError>),
    /// Kept as data frames, one a row group (an in-memory table, for Arrow output).
    Memory(Vec<pl::DataFrame>),
}

/// One row group handed to the writing thread: where it is in the file (for errors), its
/// rows, its columns.
type RowGroup = (String, usize, Vec<Box<dyn Array>>);

/// A Parquet file written a row group at a time: rows are appended to the columns, and
/// every `row_group_rows` rows are handed out as one row group and dropped. Row groups are
/// encoded and written on a thread of their own while the next one is filled. In memory,
/// the row groups are kept instead, with the columns and types the file would have.
pub(super) struct RowGroups {
    /// The file, or the table's name in memory: what errors name.
    path: PathBuf,
    columns: Vec<OutColumn>,
    /// The columns' types, as every row group has them.
    schema: pl::Schema,
    dest: Dest,
    row_group_rows: usize,
    /// Rows appended to `columns` and not written yet.
    buffered: usize,
    written: usize,
}

impl RowGroups {
    /// Row groups written to the file at `path`, or kept in memory (`path` then only names
    /// the table in errors).
    fn create(
        path: &Path,
        columns: Vec<(pl::PlSmallStr, Kind)>,
        row_group_rows: usize,
        in_memory: bool,
    ) -> Result<RowGroups, TabularError> {
        let row_group_rows = row_group_rows.max(1);
        let columns: Vec<OutColumn> = columns
            .into_iter()
            .map(|(name, kind)| OutColumn {
                values: Values::new(kind, name.clone(), row_group_rows),
                name,
                kind,
            })
            .collect();
        let schema: pl::Schema = columns
            .iter()
            .map(|c| pl::Field::new(c.name.clone(), c.kind.dtype()))
            .collect();
        let dest = if in_memory {
            Dest::Memory(Vec::new())
        } else {
            Dest::File(Self::writer(path, &schema)?)
        };
        Ok(RowGroups {
            path: path.to_owned(),
            columns,
            schema,
            dest,
            row_group_rows,
            buffered: 0,
            written: 0,
        })
    }

    /// The Parquet file's writer, on a thread of its own.
    fn writer(
        path: &Path,
        schema: &pl::Schema,
    ) -> Result<WriterThread<RowGroup, TabularError>, TabularError> {
        let file = File::create(path).map_err(io_err(path))?;
        let mut writer = guarded(path, "", || ParquetFile::create(file, schema))?;
        // One row group waits while another is written: memory stays at two row groups.
        let file_path = path.to_owned();
        Ok(WriterThread::spawn(
            move |row_groups: Receiver<RowGroup>| {
                for (context, rows, arrays) in row_groups {
                    guarded(&file_path, &context, || writer.write(rows, &arrays))?;
                }
                // Reached also when the table is dropped unfinished, after an error
                // elsewhere: the partial output folder holding it is removed then.
                guarded(&file_path, "", || writer.finish()).map(drop)
            },
        ))
    }

    /// The 1-based number of the row being appended.
    fn next_row(&self) -> usize {
        self.written + self.buffered + 1
    }

    /// Counts a row appended to every column; a full row group is written out.
    fn row_done(&mut self) -> Result<(), TabularError> {
        self.buffered += 1;
        if self.buffered >= self.row_group_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), TabularError> {
        if self.buffered == 0 {
            return Ok(());
        }
        let path = self.path.as_path();
        let rows = self.row_group_rows;
        let in_memory = matches!(self.dest, Dest::Memory(_));
        let arrays = self
            .columns
            .iter_mut()
            .map(|c| c.take(rows, in_memory))
            .collect::<pl::PolarsResult<Vec<_>>>()
            .map_err(pl_err(path))?;
        let context = format!(
            "in rows {}–{}: ",
            self.written + 1,
            self.written + self.buffered
        );
        match &mut self.dest {
            Dest::File(writer) => {
                writer.send((context, self.buffered, arrays), || TabularError::Polars {
                    path: show(path),
                    message: "the writing thread stopped".into(),
                })?
            }
            Dest::Memory(frames) => {
                let columns = self
                    .columns
                    .iter()
                    .zip(arrays)
                    .map(|(c, a)| pl::Series::from_arrow(c.name.clone(), a).map(pl::Column::from))
                    .collect::<pl::PolarsResult<Vec<_>>>()
                    .map_err(pl_err(path))?;
                let df = pl::DataFrame::new(self.buffered, columns).map_err(pl_err(path))?;
                frames.push(df);
            }
        }
        self.written += self.buffered;
        self.buffered = 0;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the number of rows.
    fn finish(self) -> Result<usize, TabularError> {
        let rows = self.written + self.buffered;
        self.into_frames()?;
        Ok(rows)
    }

    /// Finishes, and gives the columns' types and the row groups kept in memory (none when
    /// they went to a file).
    fn into_frames(mut self) -> Result<(pl::Schema, Vec<pl::DataFrame>), TabularError> {
        self.flush()?;
        match self.dest {
            Dest::File(mut writer) => {
                writer.finish()?;
                Ok((self.schema, Vec::new()))
            }
            Dest::Memory(frames) => Ok((self.schema, frames)),
        }
    }
}

pub(super) fn describe(v: &RawValue) -> String {
    match v {
        RawValue::Number(n) => format!("the number {n}"),
        RawValue::Integer(i) => format!("the integer {i}"),
        RawValue::Text(s) => format!("the text \"{s}\""),
        RawValue::Bool(b) => format!("the bool {b}"),
    }
}

/// A field value converted to its column's type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum FieldValue {
    Missing,
    Float(f64),
    Int(i64),
    Days(i32),
    Bool(bool),
}

/// Writes RawRecords as a Parquet population file in the population layout (for `gen`):
/// `id`, `name` String, `tags` List(String), then each schema field as Float64, Int64, Date
/// or Boolean. Records are written a row group at a time, so memory holds one row group
/// whatever the number of records.
pub struct PopulationParquetWriter<'s> {
    schema: &'s Schema,
    out: RowGroups,
    /// The fields of the record being appended, by field index.
    fields: Vec<FieldValue>,
}

impl<'s> PopulationParquetWriter<'s> {
    pub fn create(
        path: &Path,
        schema: &'s Schema,
    ) -> Result<PopulationParquetWriter<'s>, TabularError> {
        Self::with_row_group_rows(path, schema, ROW_GROUP_ROWS)
    }

    pub(crate) fn with_row_group_rows(
        path: &Path,
        schema: &'s Schema,
        row_group_rows: usize,
    ) -> Result<PopulationParquetWriter<'s>, TabularError> {
        let columns = [("id", Kind::Str), ("name", Kind::Str), ("tags", Kind::Tags)]
            .into_iter()
            .map(|(name, kind)| (name.into(), kind))
            .chain(
                schema
                    .fields
                    .iter()
                    .map(|f| (f.name.as_str().into(), Kind::from(f.ty))),
            )
            .collect();
        Ok(PopulationParquetWriter {
            schema,
            out: RowGroups::create(path, columns, row_group_rows, false)?,
            fields: Vec::with_capacity(schema.fields.len()),
        })
    }

    /// Appends one record. A field the schema does not know, or a value that is not of its
    /// field's type, is an error naming the column, and nothing of the record is written.
    /// Of a field given twice, the last value counts.
    pub fn push(&mut self, record: &RawRecord) -> Result<(), TabularError> {
        let path = self.out.path.as_path();
        self.fields.clear();
        self.fields
            .resize(self.schema.fields.len(), FieldValue::Missing);
        for (name, v) in record.fields.iter().rev() {
            let Some(field) = self.schema.field(name) else {
                return Err(column_err(
                    path,
                    name,
                    format!("record {} has a field the schema does not know", record.row),
                ));
            };
            if self.fields[field.index] != FieldValue::Missing {
                continue;
            }
            let value = match (field.ty, v) {
                (FieldType::Number, RawValue::Number(x)) => Some(FieldValue::Float(*x)),
                (FieldType::Number, RawValue::Integer(i)) => Some(FieldValue::Float(*i as f64)),
                (FieldType::Integer, RawValue::Integer(i)) => Some(FieldValue::Int(*i)),
                (FieldType::Date, RawValue::Text(t)) => text_to_days(t).map(FieldValue::Days),
                (FieldType::Bool, RawValue::Bool(b)) => Some(FieldValue::Bool(*b)),
                _ => None,
            };
            self.fields[field.index] = value.ok_or_else(|| {
                column_err(
                    path,
                    &field.name,
                    format!(
                        "record {}: {} is not a {}",
                        record.row,
                        describe(v),
                        field.ty.as_str()
                    ),
                )
            })?;
        }

        let (head, fields) = self.out.columns.split_at_mut(3);
        for (column, text) in head.iter_mut().zip([&record.id, &record.name]) {
            if let Values::Str(b) = &mut column.values {
                match text {
                    Some(t) => b.push(CellRef::Text(t)),
                    None => b.push_null(),
                }
            }
        }
        if let Values::Tags(b) = &mut head[2].values {
            b.append_values_iter(record.tags.iter().map(String::as_str));
        }
        for (column, value) in fields.iter_mut().zip(&self.fields) {
            match (&mut column.values, *value) {
                (Values::Float(b), FieldValue::Float(x)) => b.append_value(x),
                (Values::Int(b), FieldValue::Int(i)) => b.append_value(i),
                (Values::Date(b), FieldValue::Days(d)) => b.append_value(d),
                (Values::Bool(b), FieldValue::Bool(v)) => b.append_value(v),
                (values, _) => values.push_null(),
            }
        }
        self.out.row_done()
    }

    /// Writes the last row group and the footer; returns the number of records.
    pub fn finish(self) -> Result<usize, TabularError> {
        self.out.finish()
    }
}

/// Writes an output table as Parquet (Str → String, Int → Int64, Float → Float64;
/// Cell::Null → null), a row group at a time, so memory holds one row group whatever the
/// number of rows. With no rows, the file still has the table's columns.
pub struct TableParquetWriter {
    types: Vec<ColType>,
    out: RowGroups,
}

impl TableParquetWriter {
    pub fn create(
        path: &Path,
        columns: &[(&'static str, ColType)],
    ) -> Result<TableParquetWriter, TabularError> {
        Self::with_row_group_rows(path, columns, ROW_GROUP_ROWS)
    }

    /// The same table kept in memory: the columns, types and values the Parquet file would
    /// have, taken by [`TableParquetWriter::into_arrow`]. `name` names it in errors.
    pub fn in_memory(
        name: &str,
        columns: &[(&'static str, ColType)],
    ) -> Result<TableParquetWriter, TabularError> {
        Self::build(Path::new(name), columns, ROW_GROUP_ROWS, true)
    }

    pub(crate) fn with_row_group_rows(
        path: &Path,
        columns: &[(&'static str, ColType)],
        row_group_rows: usize,
    ) -> Result<TableParquetWriter, TabularError> {
        Self::build(path, columns, row_group_rows, false)
    }

    fn build(
        path: &Path,
        columns: &[(&'static str, ColType)],
        row_group_rows: usize,
        in_memory: bool,
    ) -> Result<TableParquetWriter, TabularError> {
        let kinds = columns
            .iter()
            .map(|&(name, ty)| (name.into(), Kind::from(ty)))
            .collect();
        Ok(TableParquetWriter {
            types: columns.iter().map(|&(_, ty)| ty).collect(),
            out: RowGroups::create(path, kinds, row_group_rows, in_memory)?,
        })
    }

    /// Appends one row. A row of the wrong width, or a cell that does not fit its column
    /// (an Int fits a Float column), is an error naming the column, and nothing of the row
    /// is written.
    pub fn push(&mut self, row: &[Cell]) -> Result<(), TabularError> {
        let path = self.out.path.as_path();
        let n = self.out.next_row();
        if row.len() != self.types.len() {
            // The first missing column, or the last one for a row too long.
            let column = self
                .out
                .columns
                .get(row.len())
                .or(self.out.columns.last())
                .map_or("", |c| c.name.as_str());
            return Err(column_err(
                path,
                column,
                format!(
                    "row {n} has {} cells for {} columns",
                    row.len(),
                    self.types.len()
                ),
            ));
        }
        for ((column, &ty), cell) in self.out.columns.iter().zip(&self.types).zip(row) {
            let fits = matches!(
                (ty, cell),
                (_, Cell::Null)
                    | (ColType::Str, Cell::Str(_))
                    | (ColType::Int, Cell::Int(_))
                    | (ColType::Float, Cell::Float(_) | Cell::Int(_))
            );
            if !fits {
                return Err(column_err(
                    path,
                    &column.name,
                    format!("row {n}: {cell:?} in a {ty:?} column"),
                ));
            }
        }
        for (column, cell) in self.out.columns.iter_mut().zip(row) {
            match (&mut column.values, cell) {
                (Values::Str(b), Cell::Str(s)) => b.push(CellRef::Text(s)),
                (Values::Int(b), Cell::Int(i)) => b.append_value(*i),
                (Values::Float(b), Cell::Float(f)) => b.append_value(*f),
                (Values::Float(b), Cell::Int(i)) => b.append_value(*i as f64),
                (values, _) => values.push_null(),
            }
        }
        self.out.row_done()
    }

    /// Appends one row of borrowed cells ([`CellRef`]): what repeats is stored once. A
    /// row of the wrong width, or a cell that does not fit its column (an Int fits a Float
    /// column), is an error naming the column, and nothing of the row is written.
    pub fn push_cells(&mut self, row: &[CellRef<'_>]) -> Result<(), TabularError> {
        let fits = row.len() == self.types.len()
            && row.iter().zip(&self.types).all(|(cell, ty)| {
                matches!(
                    (ty, cell),
                    (
                        ColType::Str,
                        CellRef::Text(_) | CellRef::Run(..) | CellRef::Keyed(..)
                    ) | (ColType::Int, CellRef::Int(_))
                        | (ColType::Float, CellRef::Float(_) | CellRef::Int(_))
                )
            });
        if !fits {
            // The owned cells name what does not fit.
            let cells: Vec<Cell> = row.iter().map(CellRef::to_cell).collect();
            return self.push(&cells);
        }
        for (column, &cell) in self.out.columns.iter_mut().zip(row) {
            match (&mut column.values, cell) {
                (Values::Str(b), cell) => b.push(cell),
                (Values::Int(b), CellRef::Int(i)) => b.append_value(i),
                (Values::Float(b), CellRef::Float(f)) => b.append_option(f),
                (Values::Float(b), CellRef::Int(i)) => b.append_value(i as f64),
                (values, _) => values.push_null(),
            }
        }
        self.out.row_done()
    }

    /// Writes the last row group and the footer; returns the number of rows.
    pub fn finish(self) -> Result<usize, TabularError> {
        self.out.finish()
    }

    /// Finishes a table made by [`TableParquetWriter::in_memory`]: its rows as Arrow.
    pub fn into_arrow(self) -> Result<ArrowTable, TabularError> {
        let (schema, frames) = self.out.into_frames()?;
        Ok(ArrowTable::new(schema, frames))
    }
}

/// A whole output Table in memory, as [`write_table_parquet`] would write it.
pub fn table_to_arrow(table: &Table) -> Result<ArrowTable, TabularError> {
    let mut w = TableParquetWriter::in_memory(table.name, &table.columns)?;
    for row in &table.rows {
        w.push(row)?;
    }
    w.into_arrow()
}

/// Writes a whole output Table as Parquet, through [`TableParquetWriter`].
pub fn write_table_parquet(path: &Path, table: &Table) -> Result<(), TabularError> {
    let mut w = TableParquetWriter::create(path, &table.columns)?;
    for row in &table.rows {
        w.push(row)?;
    }
    w.finish()?;
    Ok(())
}
