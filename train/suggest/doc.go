// Package suggest turns a model into a points rules file marketers can read and edit.
package suggest
