package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseStatusRanges(t *testing.T) {
	tests := []struct {
		in      string
		want    []StatusRange
		wantErr string // substring of the error; empty means success
	}{
		{in: "200", want: []StatusRange{{200, 200}}},
		{in: "200,202", want: []StatusRange{{200, 200}, {202, 202}}},
		{in: "200-299", want: []StatusRange{{200, 299}}},
		{in: "200-204,301", want: []StatusRange{{200, 204}, {301, 301}}},
		{in: " 200 , 300 - 399 ", want: []StatusRange{{200, 200}, {300, 399}}},
		{in: "100-599", want: []StatusRange{{100, 599}}},
		{in: "204-204", want: []StatusRange{{204, 204}}},
		{in: "", wantErr: "no status codes"},
		{in: "  ", wantErr: "no status codes"},
		{in: "200,", wantErr: "empty item"},
		{in: ",200", wantErr: "empty item"},
		{in: "2xx", wantErr: `"2xx" is not a status code`},
		{in: "abc", wantErr: "not a status code"},
		{in: "+200", wantErr: "not a status code"},
		{in: "-200", wantErr: `"" is not a status code`},
		{in: "200-", wantErr: `"" is not a status code`},
		{in: "200-250-299", wantErr: "not a status code"},
		{in: "99", wantErr: "outside 100..599"},
		{in: "600", wantErr: "outside 100..599"},
		{in: "200-600", wantErr: "outside 100..599"},
		{in: "99999999999999999999", wantErr: "outside 100..599"},
		{in: "299-200", wantErr: "runs backwards"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseStatusRanges(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseStatusRanges(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseStatusRanges(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestStatusRangesContains(t *testing.T) {
	rs, err := ParseStatusRanges("200-204,301")
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[int]bool{199: false, 200: true, 202: true, 204: true, 205: false, 301: true, 302: false, 503: false} {
		if got := StatusRanges(rs).Contains(code); got != want {
			t.Errorf("Contains(%d) = %v, want %v", code, got, want)
		}
	}
	if s := StatusRanges(rs).String(); s != "200-204,301" {
		t.Errorf("String() = %q, want %q", s, "200-204,301")
	}
	if (StatusRanges{}).Contains(200) || StatusRanges(nil).Contains(200) {
		t.Error("an empty list contains 200")
	}
	// healthcheck matches every HTTP probe's status with it.
	if allocs := testing.AllocsPerRun(100, func() { StatusRanges(rs).Contains(301) }); allocs != 0 {
		t.Errorf("Contains allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkStatusRangesContains(b *testing.B) {
	rs := StatusRanges{{Min: 200, Max: 200}, {Min: 202, Max: 202}, {Min: 300, Max: 399}}
	for b.Loop() {
		rs.Contains(350)
	}
}
