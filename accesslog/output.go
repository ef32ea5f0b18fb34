package accesslog

import (
	"fmt"
	"io"
	"os"
)

// output is where a Logger's lines go: a file it owns and may reopen, or
// a writer it was given (stdout, stderr, Options.Writer).
type output struct {
	name string   // for log lines
	path string   // the file's path; "" when not a file of ours
	f    *os.File // the open file when path != ""
	w    io.Writer
}

// openOutput opens what Options.Output (or Writer) names.
func openOutput(path string, w io.Writer) (*output, error) {
	switch {
	case w != nil:
		return &output{name: "writer", w: w}, nil
	case path == "stdout":
		return &output{name: path, w: os.Stdout}, nil
	case path == "stderr":
		return &output{name: path, w: os.Stderr}, nil
	case path == "":
		return nil, fmt.Errorf("accesslog: no output")
	}
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	return &output{name: path, path: path, f: f, w: f}, nil
}

func openFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	return f, nil
}

// write writes p whole.
func (o *output) write(p []byte) error {
	_, err := o.w.Write(p)
	return err
}

// reopen opens the path again and closes the file open before, once the
// new one is open (a failure keeps the old one). Not a file: nothing.
func (o *output) reopen() error {
	if o.path == "" {
		return nil
	}
	f, err := openFile(o.path)
	if err != nil {
		return err
	}
	old := o.f
	o.f, o.w = f, f
	return old.Close()
}

// close closes the file, if it is one of ours.
func (o *output) close() {
	if o.f != nil {
		_ = o.f.Close()
	}
}
