package load

import (
	"strings"
	"time"

	"github.com/lbtrust/lb/bench/record"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Convert makes a record of one vegeta result: start relative to began,
// the backend from the tag header (looked up in index), the failure kind.
func Convert(res *vegeta.Result, began time.Time, header string, index map[string]int16) record.Record {
	rec := record.Record{
		Start:   res.Timestamp.Sub(began),
		Latency: res.Latency,
		Code:    res.Code,
		Kind:    Classify(res.Code, res.Error),
		Backend: record.NoBackend,
	}
	if res.Headers != nil {
		if i, ok := index[res.Headers.Get(header)]; ok {
			rec.Backend = i
		}
	}
	return rec
}

// Classify names how a request ended from its status code (0: no answer)
// and error text.
func Classify(code uint16, errText string) record.Kind {
	switch {
	case code >= 200 && code < 300:
		return record.OK
	case code != 0:
		return record.HTTPError
	}
	e := strings.ToLower(errText)
	switch {
	case strings.Contains(e, "timeout") || strings.Contains(e, "deadline exceeded"):
		return record.Timeout
	case strings.Contains(e, "connection refused"):
		return record.Refused
	case strings.Contains(e, "connection reset") || strings.Contains(e, "broken pipe") ||
		strings.Contains(e, "eof") || strings.Contains(e, "server closed"):
		return record.Reset
	}
	return record.OtherError
}
