package stream

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// AppendEvent appends the PathSSE event seq, stamped sentUnixNano, to dst:
//
//	id: <seq>\ndata: {"seq":<seq>,"sent_unix_ns":<sentUnixNano>}\n\n
func AppendEvent(dst []byte, seq, sentUnixNano int64) []byte {
	dst = append(dst, "id: "...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, "\ndata: {\"seq\":"...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, ",\"sent_unix_ns\":"...)
	dst = strconv.AppendInt(dst, sentUnixNano, 10)
	return append(dst, "}\n\n"...)
}

// Event is one event read by an EventReader.
type Event struct {
	ID   string // the id field ("" if none)
	Data []byte // the data field(s), joined with "\n"
	// Seq and Sent are the seq and sent_unix_ns of a PathSSE event's data
	// (zero when the data is not such a document).
	Seq  int64
	Sent time.Time
	// Received is when the blank line ending the event was read.
	Received time.Time
}

// Delay is how long the event took from its writer to its reader
// (Received − Sent): meaningful when both ran on one machine's clock.
func (e Event) Delay() time.Duration { return e.Received.Sub(e.Sent) }

// EventReader reads Server-Sent Events (the text/event-stream format:
// "field: value" lines, events ended by a blank line; comments and
// unknown fields are skipped). Not safe for concurrent use.
type EventReader struct {
	br *bufio.Reader
}

// NewEventReader reads events from r (a response body).
func NewEventReader(r io.Reader) *EventReader {
	return &EventReader{br: bufio.NewReaderSize(r, 16<<10)}
}

// Next reads up to the end of the next event. At the end of the stream it
// returns io.EOF (io.ErrUnexpectedEOF inside an event).
func (er *EventReader) Next() (Event, error) {
	var e Event
	started := false
	for {
		line, err := er.br.ReadSlice('\n')
		if err != nil {
			if err == io.EOF && (started || len(line) > 0) {
				err = io.ErrUnexpectedEOF
			}
			return e, err
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(line) == 0 {
			if !started {
				continue
			}
			e.Received = time.Now()
			var d struct {
				Seq  *int64 `json:"seq"`
				Sent int64  `json:"sent_unix_ns"`
			}
			if json.Unmarshal(e.Data, &d) == nil && d.Seq != nil {
				e.Seq, e.Sent = *d.Seq, time.Unix(0, d.Sent)
			}
			return e, nil
		}
		if line[0] == ':' {
			continue
		}
		started = true
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "id":
			e.ID = string(value)
		case "data":
			if e.Data == nil {
				e.Data = make([]byte, 0, len(value))
			} else {
				e.Data = append(e.Data, '\n')
			}
			e.Data = append(e.Data, value...)
		}
	}
}

// String describes the event for messages.
func (e Event) String() string {
	return fmt.Sprintf("event %s (seq %d, delay %s)", e.ID, e.Seq, e.Delay())
}
