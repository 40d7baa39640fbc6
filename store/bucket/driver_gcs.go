//go:build !nogcs

package bucket

// The gcs driver; build with -tags nogcs to leave it out.
import _ "gocloud.dev/blob/gcsblob"
