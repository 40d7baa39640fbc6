// Package report renders training results for people and tools: conversion-rate tables as text, CSV and JSON.
package report
