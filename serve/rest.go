package serve

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// OpenAPI is the OpenAPI 3 document of the REST/JSON front, served at /openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// restJSON writes answers: the gRPC messages in protojson with the .proto field names (as the
// requests use them), default values included so that a client never meets a missing number.
var restJSON = protojson.MarshalOptions{UseProtoNames: true, EmitDefaultValues: true}

// HTTPHandler returns the REST/JSON front of the service. Every call runs the gRPC handlers through the
// same interceptors (auth, limits, metrics, request log) as a gRPC call:
//
//	POST /v1/models/{model}:predict       PredictRequest without model, contact properties as plain JSON
//	POST /v1/models/{model}:predictBatch  PredictBatchRequest likewise
//	GET  /v1/models                       ListModelsResponse
//	GET  /v1/models/{model}               GetModelResponse
//	GET  /healthz                         200 while the process runs
//	GET  /readyz                          200 while a model has an available version and the server is not
//	                                      shutting down, else 503
//	GET  /openapi.json                    the OpenAPI document
//
// Errors answer with the HTTP status of their gRPC code and a JSON body (see restError).
func (s *Server) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/models/{call}", s.restPredict)
	mux.HandleFunc("GET /v1/models", s.restListModels)
	mux.HandleFunc("GET /v1/models/{name}", s.restGetModel)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, []byte(`{"status":"alive"}`))
	})
	mux.HandleFunc("GET /readyz", s.restReady)
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, OpenAPI)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, status.Errorf(codes.NotFound, "serve: no route %s %s (see /openapi.json)", r.Method, r.URL.Path))
	})
	return mux
}

// fullMethod returns the full gRPC method name of a LeadScoring method.
func fullMethod(name string) string { return "/" + ServiceName + "/" + name }

// restAuthorized checks the request's bearer token before its body is read, so that a caller
// without the token learns nothing about the API; the interceptors check it again as for gRPC.
func (s *Server) restAuthorized(r *http.Request) error {
	if !s.tokens.on() {
		return nil
	}
	return s.tokenIn(metadata.MD{"authorization": r.Header.Values("Authorization")})
}

// restCall runs the gRPC handler of method through the server's interceptor chain, as a gRPC call,
// with the HTTP request's bearer token as metadata. The call takes a concurrency slot first, as the
// transport's tap does for a gRPC call.
func (s *Server) restCall(r *http.Request, method string, req any, h grpc.UnaryHandler) (any, error) {
	ctx := r.Context()
	if auth := r.Header.Values("Authorization"); len(auth) > 0 {
		ctx = metadata.NewIncomingContext(ctx, metadata.MD{"authorization": auth})
	}
	full := fullMethod(method)
	if s.limit > 0 {
		if err := s.tryAcquire(); err != nil {
			if s.shed != nil {
				s.shed.WithLabelValues(full).Inc()
			}
			return nil, status.Error(codes.ResourceExhausted, err.Error())
		}
		sl := &slot{s: s}
		defer sl.free()
		ctx = context.WithValue(ctx, slotKey{}, sl)
	}
	return s.unary(ctx, req, &grpc.UnaryServerInfo{Server: s, FullMethod: full}, h)
}

// restPredict answers POST /v1/models/{model}:predict and :predictBatch.
func (s *Server) restPredict(w http.ResponseWriter, r *http.Request) {
	model, verb, _ := cutLast(r.PathValue("call"), ":")
	if model == "" || (verb != "predict" && verb != "predictBatch") {
		writeError(w, status.Errorf(codes.NotFound, "serve: no route POST %s: want /v1/models/{model}:predict or :predictBatch", r.URL.Path))
		return
	}
	if err := s.restAuthorized(r); err != nil {
		writeError(w, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(s.opts.MaxMsgBytes)))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeErrorAs(w, http.StatusRequestEntityTooLarge, status.Newf(codes.ResourceExhausted,
			"serve: request body over %d bytes; send fewer contacts per call", tooLarge.Limit))
		return
	case err != nil:
		writeError(w, status.Errorf(codes.InvalidArgument, "serve: reading request body: %v", err))
		return
	}
	var resp any
	if verb == "predict" {
		var req *leadscorev1.PredictRequest
		if req, err = predictRequestFromJSON(model, body); err == nil {
			resp, err = s.restCall(r, "Predict", req, func(ctx context.Context, req any) (any, error) {
				return s.Predict(ctx, req.(*leadscorev1.PredictRequest))
			})
		}
	} else {
		var req *leadscorev1.PredictBatchRequest
		if req, err = predictBatchRequestFromJSON(model, body); err == nil {
			resp, err = s.restCall(r, "PredictBatch", req, func(ctx context.Context, req any) (any, error) {
				return s.PredictBatch(ctx, req.(*leadscorev1.PredictBatchRequest))
			})
		}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeMessage(w, resp.(proto.Message))
}

func (s *Server) restListModels(w http.ResponseWriter, r *http.Request) {
	resp, err := s.restCall(r, "ListModels", &leadscorev1.ListModelsRequest{}, func(ctx context.Context, req any) (any, error) {
		return s.ListModels(ctx, req.(*leadscorev1.ListModelsRequest))
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeMessage(w, resp.(proto.Message))
}

func (s *Server) restGetModel(w http.ResponseWriter, r *http.Request) {
	req := &leadscorev1.GetModelRequest{Name: r.PathValue("name")}
	resp, err := s.restCall(r, "GetModel", req, func(ctx context.Context, req any) (any, error) {
		return s.GetModel(ctx, req.(*leadscorev1.GetModelRequest))
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeMessage(w, resp.(proto.Message))
}

// restReady answers /readyz: 200 while the server is ready to score (see Ready), else 503.
func (s *Server) restReady(w http.ResponseWriter, _ *http.Request) {
	if !s.Ready() {
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"not ready"}`))
		return
	}
	writeJSON(w, http.StatusOK, []byte(`{"status":"ready"}`))
}

// cutLast splits s around the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// jsonContact is a contact in a REST request: properties are plain JSON values.
type jsonContact struct {
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties"`
}

// jsonPredict is the body of :predict; jsonBatch of :predictBatch. Field names are the .proto ones.
type jsonPredict struct {
	Contact      *jsonContact `json:"contact"`
	Version      int64        `json:"version"`
	Label        string       `json:"label"`
	AsOf         string       `json:"as_of"`
	OmitRuleHits bool         `json:"omit_rule_hits"`
}

type jsonBatch struct {
	Contacts     []*jsonContact `json:"contacts"`
	Version      int64          `json:"version"`
	Label        string         `json:"label"`
	AsOf         string         `json:"as_of"`
	OmitRuleHits bool           `json:"omit_rule_hits"`
}

// decodeJSON decodes one JSON object into v, refusing unknown fields and trailing data; an error is
// InvalidArgument with the decoder's reason.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return status.Errorf(codes.InvalidArgument, "serve: request body is not valid JSON for this call: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return status.Error(codes.InvalidArgument, "serve: request body holds more than one JSON value")
	}
	return nil
}

func predictRequestFromJSON(model string, body []byte) (*leadscorev1.PredictRequest, error) {
	var in jsonPredict
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	asOf, err := asOfFromJSON(in.AsOf)
	if err != nil {
		return nil, err
	}
	c, err := contactFromJSON(in.Contact, "contact")
	if err != nil {
		return nil, err
	}
	return &leadscorev1.PredictRequest{Model: model, Version: in.Version, Label: in.Label, Contact: c, AsOf: asOf, OmitRuleHits: in.OmitRuleHits}, nil
}

func predictBatchRequestFromJSON(model string, body []byte) (*leadscorev1.PredictBatchRequest, error) {
	var in jsonBatch
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	asOf, err := asOfFromJSON(in.AsOf)
	if err != nil {
		return nil, err
	}
	req := &leadscorev1.PredictBatchRequest{Model: model, Version: in.Version, Label: in.Label, AsOf: asOf, OmitRuleHits: in.OmitRuleHits,
		Contacts: make([]*leadscorev1.Contact, len(in.Contacts))}
	for i, jc := range in.Contacts {
		if req.Contacts[i], err = contactFromJSON(jc, fmt.Sprintf("contacts[%d]", i)); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// asOfFromJSON parses an RFC 3339 as_of; "" is unset (now).
func asOfFromJSON(s string) (*timestamppb.Timestamp, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "serve: as_of %q is not an RFC 3339 time: %v", clip(s), err)
	}
	return timestamppb.New(t), nil
}

// contactFromJSON converts a REST contact; where names it in errors.
func contactFromJSON(jc *jsonContact, where string) (*leadscorev1.Contact, error) {
	if jc == nil {
		return nil, status.Errorf(codes.InvalidArgument, "serve: %s is required", where)
	}
	props, err := PropertiesFromJSON(jc.Properties)
	if err != nil {
		return nil, restPropertyError(fmt.Errorf("%s: %w", where, err))
	}
	return &leadscorev1.Contact{Id: jc.ID, Properties: props}, nil
}

// restPropertyError is err as InvalidArgument, naming its property in the status details.
func restPropertyError(err error) error {
	return propertyStatus(codes.InvalidArgument, err.Error(), propertyOf(err))
}

// restError is the JSON body of an error answer, after Google's JSON error format: code is the HTTP
// status, status the gRPC code's name, property the contact property at fault when there is one.
type restError struct {
	Error restErrorBody `json:"error"`
}

type restErrorBody struct {
	Code     int    `json:"code"`
	Status   string `json:"status"`
	Message  string `json:"message"`
	Property string `json:"property,omitempty"`
}

// writeError answers with err's gRPC status as HTTP.
func writeError(w http.ResponseWriter, err error) {
	st := status.Convert(err)
	writeErrorAs(w, HTTPStatus(st.Code()), st)
}

// writeErrorAs answers with st under the HTTP status httpStatus.
func writeErrorAs(w http.ResponseWriter, httpStatus int, st *status.Status) {
	b, _ := json.Marshal(restError{Error: restErrorBody{
		Code:     httpStatus,
		Status:   codeName(st.Code()),
		Message:  st.Message(),
		Property: statusProperty(st),
	}})
	if st.Code() == codes.Unauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="leadscore"`)
	}
	writeJSON(w, httpStatus, b)
}

// codeName is a gRPC code in the upper-case form of google.rpc.Code (INVALID_ARGUMENT).
func codeName(c codes.Code) string {
	var b strings.Builder
	for i, r := range c.String() {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// HTTPStatus maps a gRPC code to the HTTP status Google's APIs use for it (google/rpc/code.proto).
func HTTPStatus(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.Canceled:
		return 499 // client closed request
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func writeMessage(w http.ResponseWriter, m proto.Message) {
	b, err := restJSON.Marshal(m)
	if err != nil {
		writeError(w, status.Errorf(codes.Internal, "serve: encoding the answer: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func writeJSON(w http.ResponseWriter, code int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(b)
	if len(b) == 0 || b[len(b)-1] != '\n' {
		_, _ = w.Write([]byte{'\n'})
	}
}
