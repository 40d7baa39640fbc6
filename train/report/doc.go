// Package report renders training results for people and tools: conversion-rate tables as text, CSV and JSON, a scorecard's points, and a store's model versions.
package report
