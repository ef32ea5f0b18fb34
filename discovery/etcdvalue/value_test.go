package etcdvalue

import (
	"strings"
	"testing"

	"github.com/lbtrust/lb/discovery"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     discovery.Target
		err      string // a part of the error; "" for none
	}{
		{"address and weight", `{"address":"10.0.0.5:8080","weight":2}`, discovery.Target{Address: "10.0.0.5:8080", Weight: 2}, ""},
		{"weight defaults to 1", `{"address":"10.0.0.5:8080"}`, discovery.Target{Address: "10.0.0.5:8080", Weight: 1}, ""},
		{"other fields ignored", `{"address":"10.0.0.5:80","zone":"a","weight":3}`, discovery.Target{Address: "10.0.0.5:80", Weight: 3}, ""},
		{"surrounding space", " {\"address\":\"10.0.0.5:80\"}\n", discovery.Target{Address: "10.0.0.5:80", Weight: 1}, ""},
		{"ipv6 compressed", `{"address":"[2001:db8:0:0::1]:443"}`, discovery.Target{Address: "[2001:db8::1]:443", Weight: 1}, ""},
		{"ipv4-mapped becomes ipv4", `{"address":"[::ffff:10.0.0.5]:80"}`, discovery.Target{Address: "10.0.0.5:80", Weight: 1}, ""},
		{"large weight", `{"address":"10.0.0.5:80","weight":1000}`, discovery.Target{Address: "10.0.0.5:80", Weight: 1000}, ""},
		{"empty", ``, discovery.Target{}, "not a JSON object"},
		{"not json", `10.0.0.5:8080`, discovery.Target{}, "not a JSON object"},
		{"array", `["10.0.0.5:8080"]`, discovery.Target{}, "not a JSON object"},
		{"two objects", `{"address":"10.0.0.5:80"}{}`, discovery.Target{}, "data after the object"},
		{"no address", `{"weight":2}`, discovery.Target{}, `no "address"`},
		{"address not a string", `{"address":8080}`, discovery.Target{}, "not a JSON object"},
		{"host name", `{"address":"web1.internal:8080"}`, discovery.Target{}, "host name is not resolved"},
		{"no port", `{"address":"10.0.0.5"}`, discovery.Target{}, "want IP:port"},
		{"port 0", `{"address":"10.0.0.5:0"}`, discovery.Target{}, "port 0"},
		{"port too big", `{"address":"10.0.0.5:65536"}`, discovery.Target{}, "want IP:port"},
		{"named port", `{"address":"10.0.0.5:http"}`, discovery.Target{}, "want IP:port"},
		{"ipv6 without brackets", `{"address":"2001:db8::1:80"}`, discovery.Target{}, "want IP:port"},
		{"weight 0", `{"address":"10.0.0.5:80","weight":0}`, discovery.Target{}, "weight 0: must be at least 1"},
		{"negative weight", `{"address":"10.0.0.5:80","weight":-2}`, discovery.Target{}, "weight -2"},
		{"fractional weight", `{"address":"10.0.0.5:80","weight":1.5}`, discovery.Target{}, "not a JSON object"},
		{"weight as string", `{"address":"10.0.0.5:80","weight":"2"}`, discovery.Target{}, "not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.in))
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Parse(%q): %v", tc.in, err)
			case tc.err != "" && err == nil:
				t.Fatalf("Parse(%q) = %+v, want an error with %q", tc.in, got, tc.err)
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Fatalf("Parse(%q): error %q, want it to contain %q", tc.in, err, tc.err)
			case got != tc.want:
				t.Fatalf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestValueRoundTrips(t *testing.T) {
	in := discovery.Target{Address: "10.0.0.5:8080", Weight: 7}
	got, err := Parse(Encode(in.Address, in.Weight))
	if err != nil || got != in {
		t.Fatalf("Parse(Encode(%+v)) = %+v, %v", in, got, err)
	}
}

// FuzzParse: any bytes give a target or an error, never a panic; a
// target has a canonical IP:port address and a weight of at least 1, and
// its own value parses back to it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"address":"10.0.0.5:8080","weight":2}`, `{"address":"[::1]:80"}`, `{"address":"x:1"}`, `{}`, `[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Parse(b)
		if err != nil {
			return
		}
		if got.Weight < 1 {
			t.Fatalf("weight %d", got.Weight)
		}
		if a, err := ParseAddress(got.Address); err != nil || a != got.Address {
			t.Fatalf("address %q not canonical: %q, %v", got.Address, a, err)
		}
		if again, err := Parse(Encode(got.Address, got.Weight)); err != nil || again != got {
			t.Fatalf("round trip %+v: %+v, %v", got, again, err)
		}
	})
}
