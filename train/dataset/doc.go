// Package dataset reads and writes contact tables (Parquet and CSV) as typed feature frames and turns an outcome column into labels.
package dataset
