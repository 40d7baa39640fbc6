// Package codec is a gRPC codec that marshals and unmarshals protobuf messages with their generated
// vtprotobuf code, and refuses exactly the input protobuf's own decoder refuses.
package codec
