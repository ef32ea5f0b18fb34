package accesslog

import (
	"crypto/tls"
	"encoding/json"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
)

func sampleRecord() Record {
	r := Record{
		Time:            time.Date(2026, 3, 4, 5, 6, 7, 891_000_000, time.UTC),
		Kind:            KindHTTP,
		Listener:        "public",
		Client:          netip.MustParseAddrPort("192.0.2.7:51234"),
		Method:          []byte("GET"),
		Host:            []byte("example.com"),
		Target:          []byte("/a?b=1"),
		Protocol:        []byte("HTTP/1.1"),
		Status:          200,
		BytesIn:         3,
		BytesOut:        1234,
		Duration:        12345 * time.Microsecond,
		BackendDuration: 2001 * time.Microsecond,
		Pool:            "web",
		Backend:         "10.0.0.1:80",
		RequestID:       []byte("abc"),
		UserAgent:       []byte("curl/8"),
		Referer:         []byte("http://x/"),
		TLSVersion:      tls.VersionTLS13,
		SNI:             "example.com",
	}
	r.Attempts = 1
	r.AddRetry("connect_failed")
	r.AddRetry("status_503")
	return r
}

// TestJSONFields: a line parses as JSON and carries every field.
func TestJSONFields(t *testing.T) {
	r := sampleRecord()
	line := AppendJSON(nil, &r)
	if !strings.HasSuffix(string(line), "}\n") {
		t.Fatalf("line does not end with a newline: %q", line)
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, line)
	}
	want := map[string]any{
		"time": "2026-03-04T05:06:07.891Z", "kind": "http", "listener": "public",
		"client": "192.0.2.7:51234", "method": "GET", "host": "example.com", "target": "/a?b=1",
		"protocol": "HTTP/1.1", "status": 200.0, "bytes_in": 3.0, "bytes_out": 1234.0,
		"duration_ms": 12.345, "backend_ms": 2.001, "pool": "web", "backend": "10.0.0.1:80",
		"attempts": 3.0, "rescued": false, "request_id": "abc", "user_agent": "curl/8",
		"referer": "http://x/", "tls_version": "1.3", "sni": "example.com", "end": "complete",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	retries, _ := m["retries"].([]any)
	if len(retries) != 2 || retries[0] != "connect_failed" || retries[1] != "status_503" {
		t.Errorf("retries = %#v", m["retries"])
	}
	if len(m) != len(want)+1 {
		t.Errorf("%d fields, want %d: %s", len(m), len(want)+1, line)
	}
}

// TestJSONEscaping: whatever bytes the client sent, the line stays one
// line of valid JSON with the text intact where it was valid.
func TestJSONEscaping(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "/a", "/a"},
		{"quote and backslash", `/a"b\c`, `/a"b\c`},
		{"newline", "/a\nb", "/a\nb"},
		{"control", "/a\x01\x7f", "/a\x01\x7f"},
		{"utf8", "/é€", "/é€"},
		{"invalid utf8", "/\xff\xfe", "/\ufffd\ufffd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Record{Target: []byte(tt.in), UserAgent: []byte(tt.in)}
			line := AppendJSON(nil, &r)
			if strings.Count(string(line), "\n") != 1 {
				t.Fatalf("not one line: %q", line)
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("not JSON: %v: %q", err, line)
			}
			if m["target"] != tt.want || m["user_agent"] != tt.want {
				t.Errorf("target = %q, want %q", m["target"], tt.want)
			}
		})
	}
}

// combinedRE is the Apache/NGINX combined layout.
var combinedRE = regexp.MustCompile(`^(\S+) - - \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "([^"]*)" (\d{3}) (\d+) "([^"]*)" "([^"]*)"\n$`)

// TestCombinedLayout: the combined line matches the layout log tools
// parse, field by field.
func TestCombinedLayout(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(r *Record)
		fields []string // client, request, status, bytes, referer, agent
	}{
		{"full", func(*Record) {}, []string{"192.0.2.7", "GET /a?b=1 HTTP/1.1", "200", "1234", "http://x/", "curl/8"}},
		{"no referer or agent", func(r *Record) { r.Referer, r.UserAgent = nil, nil },
			[]string{"192.0.2.7", "GET /a?b=1 HTTP/1.1", "200", "1234", "-", "-"}},
		{"escaped", func(r *Record) { r.Target = []byte("/\"x\\\n\xff"); r.UserAgent = []byte(`a"b`) },
			[]string{"192.0.2.7", `GET /\x22x\x5C\x0A\xFF HTTP/1.1`, "200", "1234", "http://x/", `a\x22b`}},
		{"ipv6 and 502", func(r *Record) {
			r.Client = netip.MustParseAddrPort("[2001:db8::1]:443")
			r.Status, r.BytesOut = 502, 0
		}, []string{"2001:db8::1", "GET /a?b=1 HTTP/1.1", "502", "0", "http://x/", "curl/8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sampleRecord()
			tt.edit(&r)
			line := string(AppendCombined(nil, &r))
			m := combinedRE.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("not the combined layout: %q", line)
			}
			got := []string{m[1], m[3], m[4], m[5], m[6], m[7]}
			for i := range got {
				if got[i] != tt.fields[i] {
					t.Errorf("field %d = %q, want %q", i, got[i], tt.fields[i])
				}
			}
			if _, err := time.Parse(combinedTime, m[2]); err != nil {
				t.Errorf("time %q: %v", m[2], err)
			}
		})
	}
}

// TestAppendAllocs: formatting into a buffer with room allocates nothing.
func TestAppendAllocs(t *testing.T) {
	r := sampleRecord()
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = AppendJSON(buf[:0], &r) }); n != 0 {
		t.Errorf("AppendJSON: %v allocs", n)
	}
	if n := testing.AllocsPerRun(100, func() { buf = AppendCombined(buf[:0], &r) }); n != 0 {
		t.Errorf("AppendCombined: %v allocs", n)
	}
}
