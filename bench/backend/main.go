package backend

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// ListeningPrefix starts the one line Main prints on stdout once it is
// bound: "listening on 127.0.0.1:9001". A parent process reads it to learn
// the port when it asked for port 0.
const ListeningPrefix = "listening on "

// closeTimeout bounds how long a stopping backend waits for in-flight
// requests.
const closeTimeout = 5 * time.Second

// Main runs one backend process with the given command-line arguments
// until SIGINT or SIGTERM and returns the exit code. On SIGTERM it drains
// first: /readyz answers 503 {"status":"shutting_down"} for -drain-period
// while traffic is still served, then it stops. A second signal, or
// SIGINT, stops at once.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on (port 0: a free one)")
	var o Options
	fs.StringVar(&o.Name, "name", "", "tag for the X-Backend header (default: the address)")
	fs.IntVar(&o.ResponseSize, "response-size", 128, "body size of a traffic answer, in `bytes`")
	fs.DurationVar(&o.Latency, "latency", time.Millisecond, "added to every traffic request")
	fs.DurationVar(&o.FlapPeriod, "flap-period", DefaultFlapPeriod, "each half of a readyz flap cycle")
	drain := fs.Duration("drain-period", 3*time.Second, "on SIGTERM, answer readyz 503 shutting_down this long before stopping")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	s, err := Start(*listen, o)
	if err != nil {
		fmt.Fprintln(stderr, "backend:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s%s\n", ListeningPrefix, s.Addr())
	if sig := <-sigs; sig == syscall.SIGTERM && *drain > 0 {
		s.Drain()
		t := time.NewTimer(*drain)
		select {
		case <-t.C:
		case <-sigs:
		}
		t.Stop()
	}
	s.Close(closeTimeout)
	return 0
}
