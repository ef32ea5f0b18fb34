package metrics

import (
	"io"
	"strconv"
)

// textFlushAt is how much text a textWriter gathers before it hands it to
// its writer (bytes).
const textFlushAt = 32 << 10

// textWriter writes Prometheus text exposition format 0.0.4, as
// github.com/prometheus/common/expfmt writes it (the same HELP and TYPE
// lines, label and help escaping and number format), into one buffer
// that it hands to w whenever it holds textFlushAt bytes. It implements
// io.Writer so expfmt can write the registry's families through it. The
// first error of w is kept in err; later writes are dropped. Not safe
// for concurrent use.
type textWriter struct {
	buf []byte
	w   io.Writer
	err error
}

// newTextWriter returns a textWriter that writes to w.
func newTextWriter(w io.Writer) *textWriter {
	return &textWriter{buf: make([]byte, 0, textFlushAt+4<<10), w: w}
}

// Write appends p (already formatted text).
func (t *textWriter) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	t.maybeFlush()
	return len(p), t.err
}

// maybeFlush flushes once textFlushAt bytes are gathered.
func (t *textWriter) maybeFlush() {
	if len(t.buf) >= textFlushAt {
		t.flush()
	}
}

// flush hands what is gathered to w.
func (t *textWriter) flush() {
	if t.err == nil && len(t.buf) > 0 {
		_, t.err = t.w.Write(t.buf)
	}
	t.buf = t.buf[:0]
}

// header writes the HELP and TYPE lines of family name.
func (t *textWriter) header(name, help, typ string) {
	t.buf = append(t.buf, "# HELP "...)
	t.buf = append(t.buf, name...)
	t.buf = append(t.buf, ' ')
	t.buf = appendEscaped(t.buf, help, false)
	t.buf = append(t.buf, "\n# TYPE "...)
	t.buf = append(t.buf, name...)
	t.buf = append(t.buf, ' ')
	t.buf = append(t.buf, typ...)
	t.buf = append(t.buf, '\n')
	t.maybeFlush()
}

// sample1 writes one sample with one label.
func (t *textWriter) sample1(name, k1, v1 string, v float64) {
	t.buf = append(t.buf, name...)
	t.buf = appendLabel(t.buf, '{', k1, v1)
	t.end(v)
}

// sample2 writes one sample with two labels, in that order.
func (t *textWriter) sample2(name, k1, v1, k2, v2 string, v float64) {
	t.buf = append(t.buf, name...)
	t.buf = appendLabel(t.buf, '{', k1, v1)
	t.buf = appendLabel(t.buf, ',', k2, v2)
	t.end(v)
}

// sample3 writes one sample with three labels, in that order.
func (t *textWriter) sample3(name, k1, v1, k2, v2, k3, v3 string, v float64) {
	t.buf = append(t.buf, name...)
	t.buf = appendLabel(t.buf, '{', k1, v1)
	t.buf = appendLabel(t.buf, ',', k2, v2)
	t.buf = appendLabel(t.buf, ',', k3, v3)
	t.end(v)
}

// end closes the label set and writes the value and the newline.
func (t *textWriter) end(v float64) {
	t.buf = append(t.buf, "} "...)
	// expfmt's special cases (1, 0, -1, NaN, ±Inf) come out the same.
	t.buf = strconv.AppendFloat(t.buf, v, 'g', -1, 64)
	t.buf = append(t.buf, '\n')
	t.maybeFlush()
}

// appendLabel appends sep, k="v" with v escaped.
func appendLabel(b []byte, sep byte, k, v string) []byte {
	b = append(b, sep)
	b = append(b, k...)
	b = append(b, '=', '"')
	b = appendEscaped(b, v, true)
	return append(b, '"')
}

// appendEscaped appends s with backslash and newline escaped, and the
// double quote too when quoted (a label value; a HELP text keeps it).
func appendEscaped(b []byte, s string, quoted bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quoted:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}
