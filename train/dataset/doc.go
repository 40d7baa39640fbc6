// Package dataset reads and writes contact tables (Parquet and CSV, one file or many parts, UTF-8 or
// Windows-1252) as typed feature frames and turns an outcome column, or an outcome joined from a second
// file, into labels.
package dataset
