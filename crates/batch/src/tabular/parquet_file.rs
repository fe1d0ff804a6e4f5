//! A Parquet file written a row group at a time from Arrow arrays, through polars' own
//! Parquet encoder with the options `ParquetWriter` uses by default (zstd, statistics,
//! format version 1). Below polars' `DataFrame` writer so that a text column can be
//! handed over as the dictionary it was gathered as ([`super::text_column`]): the file's
//! schema says text, as it always did, and the dictionary becomes the column's Parquet
//! dictionary page without a value being hashed.

use std::fs::File;
use std::io::{BufWriter, Write};

use polars::prelude as pl;
use polars::prelude::{CompatLevel, SchemaExt};
use polars_arrow::array::Array;
use polars_parquet::read::ParquetError;
use polars_parquet::write::{
    CompressionOptions, Compressor, DynIter, DynStreamingIterator, Encoding,
    FallibleStreamingIterator, FileWriter, ParquetType, StatisticsOptions, Version, WriteOptions,
    array_to_columns, get_dtype_encoding,
};

pub(super) struct ParquetFile {
    writer: FileWriter<BufWriter<File>>,
    /// The Parquet type of each column, and the encodings of its leaves.
    columns: Vec<(ParquetType, Vec<Encoding>)>,
    options: WriteOptions,
}

impl ParquetFile {
    /// A file whose columns have the types of `schema`.
    pub(super) fn create(file: File, schema: &pl::Schema) -> pl::PolarsResult<ParquetFile> {
        let arrow = schema.to_arrow(CompatLevel::newest());
        let options = WriteOptions {
            statistics: StatisticsOptions::default(),
            compression: CompressionOptions::Zstd(None),
            version: Version::V1,
            data_page_size: None,
        };
        let encodings: Vec<Vec<Encoding>> = arrow
            .iter_values()
            .map(|f| get_dtype_encoding(&f.dtype))
            .collect();
        let writer = FileWriter::try_new(BufWriter::new(file), arrow, options)?;
        let columns = writer
            .parquet_schema()
            .fields()
            .iter()
            .cloned()
            .zip(encodings)
            .collect();
        Ok(ParquetFile {
            writer,
            columns,
            options,
        })
    }

    /// Writes one row group: a column per array, each of `rows` rows, in schema order.
    /// A text column may be a dictionary of its texts.
    pub(super) fn write(&mut self, rows: usize, arrays: &[Box<dyn Array>]) -> pl::PolarsResult<()> {
        let options = self.options;
        let mut columns = Vec::with_capacity(arrays.len());
        for (array, (ty, encodings)) in arrays.iter().zip(&self.columns) {
            for pages in array_to_columns(array, ty.clone(), options, encodings)? {
                let pages = pages
                    .map(|page| page.map_err(|e| ParquetError::FeatureNotSupported(e.to_string())));
                let compressed = Compressor::new_from_vec(pages, options.compression, Vec::new())
                    .map_err(pl::PolarsError::from);
                columns.push(Ok(DynStreamingIterator::new(compressed)));
            }
        }
        self.writer
            .write(rows as u64, DynIter::new(columns.into_iter()))
    }

    /// Writes the footer and flushes the file.
    pub(super) fn finish(mut self) -> pl::PolarsResult<()> {
        self.writer.end(None)?;
        self.writer.into_inner().flush()?;
        Ok(())
    }
}
