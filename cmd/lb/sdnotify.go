package main

import (
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// The states lb reports to systemd (sd_notify(3)); a unit with
// Type=notify waits for the first READY=1 before it counts as started.
const (
	// sdReady: every listener is bound and the configuration is applied
	// (at start, and again after each reload).
	sdReady = "READY=1"
	// sdStopping: a stop signal arrived; the graceful shutdown has begun.
	sdStopping = "STOPPING=1"
)

// sdNotifier sends state changes to the service manager's notification
// socket, the unixgram socket named by $NOTIFY_SOCKET (a path, or an
// abstract name starting with "@"). With no socket it does nothing, so lb
// runs the same outside systemd. Each message is one datagram on its own
// connection, as sd_notify does. Safe for concurrent use (it holds no
// state but the address).
type sdNotifier struct {
	addr *net.UnixAddr // nil: not run under a service manager
}

// newSDNotifier returns the notifier for socket, the value of
// $NOTIFY_SOCKET ("" for none).
func newSDNotifier(socket string) sdNotifier {
	if socket == "" {
		return sdNotifier{}
	}
	return sdNotifier{addr: &net.UnixAddr{Name: socket, Net: "unixgram"}}
}

// sdNotifierFromEnv is newSDNotifier($NOTIFY_SOCKET).
func sdNotifierFromEnv() sdNotifier { return newSDNotifier(os.Getenv("NOTIFY_SOCKET")) }

// notify sends the newline-separated assignments in lines ("READY=1",
// "STATUS=..."), each on its own line, in one datagram. It returns nil
// at once when no service manager listens; an error is the send's and
// means the manager did not get the state (lb logs it and goes on).
func (n sdNotifier) notify(lines ...string) error {
	if n.addr == nil {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sd_notify %s: %w", n.addr.Name, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(strings.Join(lines, "\n"))); err != nil {
		return fmt.Errorf("sd_notify %s: %w", n.addr.Name, err)
	}
	return nil
}

// sdReloading is the message that opens a reload: RELOADING=1 with the
// CLOCK_MONOTONIC time in microseconds, which systemd asks to go with it
// (and which Type=notify-reload, systemd 253 and later, requires).
func sdReloading() string {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return "RELOADING=1"
	}
	return fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", ts.Nano()/1000)
}

// maxStatusRunes bounds a STATUS= text: systemctl status shows one line.
const maxStatusRunes = 200

// sdStatus is a STATUS= line: free text systemctl status shows, folded
// onto one line and cut to maxStatusRunes characters ("..." marks a cut).
func sdStatus(text string) string {
	r := []rune(strings.Join(strings.Fields(text), " "))
	if len(r) > maxStatusRunes {
		r = append(r[:maxStatusRunes-3], []rune("...")...)
	}
	return "STATUS=" + string(r)
}
