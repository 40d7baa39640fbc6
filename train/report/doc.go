// Package report renders results for people and tools: conversion-rate tables as text, CSV and JSON, a
// scorecard's points, a store's model versions and one model, a file's columns, and the progress of
// reading and training on a terminal.
package report
