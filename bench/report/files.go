package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lbtrust/lb/bench/record"
)

// File names written by WriteDir.
const (
	JSONFile      = "report.json"
	HTMLFile      = "report.html"
	ResponsesFile = "responses.csv"
)

// WriteDir writes report.json, report.html and responses.csv (every
// request) into dir, creating it if needed.
func WriteDir(dir string, r Report, recs []record.Record) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, JSONFile), append(js, '\n'), 0o644); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, HTMLFile), func(w io.Writer) error { return WriteHTML(w, r) }); err != nil {
		return err
	}
	names := make([]string, len(r.Backends))
	for i, b := range r.Backends {
		names[i] = b.Name
	}
	return writeFile(filepath.Join(dir, ResponsesFile), func(w io.Writer) error { return WriteCSV(w, recs, names) })
}

// Load reads a report.json.
func Load(path string) (Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Report{}, err
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return Report{}, fmt.Errorf("%s: %w", path, err)
	}
	if r.FormatVersion != FormatVersion {
		return Report{}, fmt.Errorf("%s: report format %d, want %d", path, r.FormatVersion, FormatVersion)
	}
	return r, nil
}

// WriteCSV writes one line per request: start and latency in
// microseconds, status code, outcome kind, backend name.
func WriteCSV(w io.Writer, recs []record.Record, backends []string) error {
	if _, err := fmt.Fprintln(w, "start_us,latency_us,code,kind,backend"); err != nil {
		return err
	}
	for _, r := range recs {
		b := ""
		if i := int(r.Backend); i >= 0 && i < len(backends) {
			b = backends[i]
		}
		if _, err := fmt.Fprintf(w, "%d,%d,%d,%s,%s\n", r.Start.Microseconds(), r.Latency.Microseconds(), r.Code, r.Kind, b); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes path through a buffer.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
