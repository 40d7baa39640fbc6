//go:build !nos3

package bucket

// The s3 driver; build with -tags nos3 to leave it out.
import _ "gocloud.dev/blob/s3blob"
