package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lbtrust/lb/bench/nofile"
	"github.com/lbtrust/lb/internal/freeport"
)

// helperArg is the first argument that makes this program a backends
// helper: `checkcost serve-backends N` serves N backends and reports on
// stdout.
const helperArg = "serve-backends"

// A helper reports on its stdout: one line "addrs A1,A2,...\n" with the
// addresses of its backends, in index order, then one fixed-size record
// per request.
const (
	addrsPrefix = "addrs "
	recordSize  = 13 // int64 arrival (Unix ns), uint32 index, 1 probe flag
)

// flushEvery bounds how long a record waits in the helper's buffer.
const flushEvery = 20 * time.Millisecond

// encodeRecord writes one request's record into b (recordSize bytes).
func encodeRecord(b []byte, i int, at time.Time, probe bool) {
	binary.LittleEndian.PutUint64(b[0:8], uint64(at.UnixNano()))
	binary.LittleEndian.PutUint32(b[8:12], uint32(i))
	b[12] = 0
	if probe {
		b[12] = 1
	}
}

// decodeRecord reads a record written by encodeRecord.
func decodeRecord(b []byte) (i int, at time.Time, probe bool) {
	return int(binary.LittleEndian.Uint32(b[8:12])), time.Unix(0, int64(binary.LittleEndian.Uint64(b[0:8]))), b[12] == 1
}

// helper is a child process serving some of the backends.
type helper struct {
	cmd  *exec.Cmd
	read chan struct{} // closed when its output has been read to the end
}

// startHelper starts this program as a helper serving n backends, whose
// records it hands to record with their index moved up by base. It
// returns once the helper has said its addresses.
func startHelper(n, base int, record recordFunc) (*helper, []string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(self, helperArg, strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	h := &helper{cmd: cmd, read: make(chan struct{})}
	br := bufio.NewReaderSize(out, 64<<10)
	line, err := br.ReadString('\n')
	addrs := strings.Split(strings.TrimSpace(strings.TrimPrefix(line, addrsPrefix)), ",")
	if err != nil || !strings.HasPrefix(line, addrsPrefix) || len(addrs) != n {
		close(h.read)
		h.stop()
		return nil, nil, fmt.Errorf("no addresses from the helper (%v)", err)
	}
	go func() {
		defer close(h.read)
		var rec [recordSize]byte
		for {
			if _, err := io.ReadFull(br, rec[:]); err != nil {
				return
			}
			i, at, probe := decodeRecord(rec[:])
			record(base+i, at, probe)
		}
	}()
	return h, addrs, nil
}

// stop kills the helper and waits for it.
func (h *helper) stop() {
	_ = h.cmd.Process.Kill()
	_ = h.cmd.Wait()
	<-h.read
}

// helperMain is the helper's program: args are the count of backends.
// It runs until it is killed, or its stdout closes.
func helperMain(args []string) int {
	n := 0
	if len(args) == 1 {
		n, _ = strconv.Atoi(args[0])
	}
	if n < 1 {
		fmt.Fprintf(os.Stderr, "usage: checkcost %s N\n", helperArg)
		return 2
	}
	if err := helperServe(n, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "checkcost helper:", err)
		return 1
	}
	return 0
}

// helperServe serves n backends and reports on out until out fails or
// the process gets SIGTERM or SIGINT.
func helperServe(n int, out io.Writer) error {
	if _, err := nofile.Raise(uint64(fdsPerBackend*n + fdReserve)); err != nil {
		return err
	}
	lns, err := freeport.Listen(n)
	if err != nil {
		return err
	}
	addrs := make([]string, n)
	for i, ln := range lns {
		addrs[i] = ln.Addr().String()
	}
	w := bufio.NewWriterSize(out, 64<<10)
	if _, err := w.WriteString(addrsPrefix + strings.Join(addrs, ",") + "\n"); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	var mu sync.Mutex
	var werr error
	s := serve(lns, func(i int, at time.Time, probe bool) {
		var rec [recordSize]byte
		encodeRecord(rec[:], i, at, probe)
		mu.Lock()
		if werr == nil {
			_, werr = w.Write(rec[:])
		}
		mu.Unlock()
	})
	defer s.stop()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-sigs:
			return nil
		case <-t.C:
		}
		mu.Lock()
		if werr == nil {
			werr = w.Flush()
		}
		err := werr
		mu.Unlock()
		if err != nil {
			if errors.Is(err, syscall.EPIPE) || errors.Is(err, os.ErrClosed) {
				return nil // the tool has gone
			}
			return err
		}
	}
}
