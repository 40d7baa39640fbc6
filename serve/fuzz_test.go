package serve

import (
	"context"
	"math"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// FuzzPredict feeds random contacts to Server.Predict: it must never panic, answer only OK or
// InvalidArgument, and never put a NaN or infinity in a response.
func FuzzPredict(f *testing.F) {
	f.Add("Software", 120.0, "7", false, int64(1700000000), "webinar", 1.0)
	f.Add("", math.NaN(), "", true, int64(0), "", 0.0)
	f.Add("Retail", math.Inf(1), "1e308", false, int64(-62135596800), "industry", -1e308)
	f.Add("Health", -1e308, "many", true, int64(253402300799), "employees", 5e-324)
	f.Add("\xff", 1e300, "0x10", false, int64(math.MaxInt64), "visits", math.Inf(-1))
	fx := newFixture(f, RegistryOptions{})
	srv := mustServer(f, fx.reg, Options{})
	f.Fuzz(func(t *testing.T, industry string, employees float64, visits string, unsub bool, created int64, key string, extra float64) {
		c := &leadscorev1.Contact{Id: industry, Properties: map[string]*leadscorev1.Value{
			"industry":     str(industry),
			"employees":    num(employees),
			"visits":       str(visits),
			"unsubscribed": flag(unsub),
			"created_at":   {Kind: &leadscorev1.Value_TimestampValue{TimestampValue: &timestamppb.Timestamp{Seconds: created}}},
		}}
		if key != "" {
			c.Properties[key] = num(extra)
		}
		resp, err := srv.Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead", Contact: c})
		if err != nil {
			if code := status.Code(err); code != codes.InvalidArgument {
				t.Fatalf("got %v, want OK or InvalidArgument", err)
			}
			return
		}
		nums := []float64{resp.GetProbability(), resp.GetManual().GetScore()}
		for _, r := range resp.GetReasons() {
			nums = append(nums, r.GetContribution(), r.GetConversionRate())
		}
		for _, h := range resp.GetManual().GetHits() {
			nums = append(nums, h.GetPoints())
		}
		for _, g := range resp.GetManual().GetGroups() {
			nums = append(nums, g)
		}
		if !finite(nums...) {
			t.Fatalf("non-finite number in %v", resp)
		}
		if p := resp.GetProbability(); p < 0 || p > 1 {
			t.Fatalf("probability %v outside [0, 1]", p)
		}
	})
}

// FuzzPredictWire feeds random bytes to the server as a PredictRequest on the wire would arrive:
// whatever decodes must be answered without a panic, with OK, InvalidArgument or NotFound, and with
// finite numbers only.
func FuzzPredictWire(f *testing.F) {
	valid, err := proto.Marshal(&leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte{})
	other, _ := proto.Marshal(&leadscorev1.PredictRequest{Model: "lead", Version: 99, Label: "stable", Contact: &leadscorev1.Contact{
		Properties: map[string]*leadscorev1.Value{"visits": num(math.NaN()), "": str(""), "created_at": {Kind: &leadscorev1.Value_TimestampValue{TimestampValue: &timestamppb.Timestamp{Seconds: 1 << 62}}}},
	}})
	f.Add(other)
	fx := newFixture(f, RegistryOptions{})
	srv := mustServer(f, fx.reg, Options{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var req leadscorev1.PredictRequest
		if proto.Unmarshal(data, &req) != nil {
			return // gRPC answers that itself (Internal: grpc: error unmarshalling request)
		}
		resp, err := srv.Predict(context.Background(), &req)
		if err != nil {
			switch status.Code(err) {
			case codes.InvalidArgument, codes.NotFound:
				return
			}
			t.Fatalf("got %v, want OK, InvalidArgument or NotFound", err)
		}
		nums := []float64{resp.GetProbability(), resp.GetManual().GetScore()}
		for _, r := range resp.GetReasons() {
			nums = append(nums, r.GetContribution(), r.GetConversionRate())
		}
		if !finite(nums...) || resp.GetProbability() < 0 || resp.GetProbability() > 1 {
			t.Fatalf("bad numbers in %v", resp)
		}
	})
}
