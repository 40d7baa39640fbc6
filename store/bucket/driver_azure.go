//go:build !noazure

package bucket

// The azure driver; build with -tags noazure to leave it out.
import _ "gocloud.dev/blob/azureblob"
