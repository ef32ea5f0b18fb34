package main

import (
	"errors"
	"io"
	"os"
	"sync"
)

// logFile is an output file (a child process's log) safe for concurrent
// writers, whose end can be read back for error messages.
type logFile struct {
	mu sync.Mutex
	f  *os.File
}

func newLogFile(path string) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return &logFile{f: f}, nil
}

// Write appends p.
func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}

// Close closes the file.
func (l *logFile) Close() error { return l.f.Close() }

// tail returns up to the last n bytes written.
func (l *logFile) tail(n int64) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, err := l.f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-n, 0)
	b := make([]byte, st.Size()-off)
	if _, err := l.f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	return string(b)
}
