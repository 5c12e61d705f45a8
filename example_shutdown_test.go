package zerocopy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zerocopy-go/zerocopy"
)

// relayer is the proxy's Relayer. Its methods take a pointer, so it is
// declared as one: with a value, `go zerocopy.Relayer{...}.Relay(ctx, a, b)`
// does not compile (cannot call pointer method Relay), as with http.Server.
var relayer = &zerocopy.Relayer{IdleTimeout: 10 * time.Minute}

// cutByShutdown counts the relays the shutdown cancelled.
var cutByShutdown atomic.Int64

// serveRelays accepts clients on ln until it is closed, relaying each to
// upstream with relayer until both ends are done or ctx is cancelled. live
// counts the relays still running.
func serveRelays(ctx context.Context, ln net.Listener, upstream string, live *sync.WaitGroup) error {
	for {
		client, err := ln.Accept()
		if err != nil {
			return err // ln closed: no new clients
		}
		live.Add(1)
		go func() {
			defer live.Done()
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				client.Close()
				return
			}
			_, _, err = relayer.Relay(ctx, client, up)
			switch {
			case errors.Is(err, context.Canceled): // the shutdown's
				cutByShutdown.Add(1)
			case err != nil:
				log.Printf("relay for %v: %v", client.RemoteAddr(), err)
			}
		}()
	}
}

// shutdownRelays waits up to grace for the live relays to end by
// themselves, then cancels the rest (cancel is their context's) and waits
// for them. It reports whether they all ended within grace.
func shutdownRelays(live *sync.WaitGroup, cancel context.CancelFunc, grace time.Duration) bool {
	done := make(chan struct{})
	go func() {
		live.Wait()
		close(done)
	}()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		cancel() // each relay still running ends promptly, its peers reset
		<-done
		return false
	}
}

// echoUntilEOF echoes every conn ln accepts, its EOF included, until ln
// is closed.
func echoUntilEOF(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 512)
			for {
				n, err := c.Read(buf)
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
				if err == io.EOF {
					c.(*net.TCPConn).CloseWrite() // EOF echoed too
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// A proxy shutting down gracefully (on SIGTERM, say: signal.NotifyContext):
// it stops accepting, lets the live relays finish for a grace period, then
// cancels the context of the ones still running.
func ExampleRelayer_shutdown() {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer up.Close()
	go echoUntilEOF(up)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	relays, cancelRelays := context.WithCancel(context.Background())
	defer cancelRelays()
	var live sync.WaitGroup
	served := make(chan error, 1)
	go func() { served <- serveRelays(relays, ln, up.Addr().String(), &live) }()

	// Two clients, each with a live relay: one will finish during the grace
	// period, the other stays open.
	var clients [2]net.Conn
	for i, hello := range []string{"quick", "idle"} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		echo := make([]byte, len(hello))
		if _, err := io.WriteString(c, hello); err != nil {
			log.Fatal(err)
		}
		if _, err := io.ReadFull(c, echo); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s client: echo %q\n", hello, echo)
		clients[i] = c
	}

	// Shut down: stop accepting first.
	ln.Close()
	<-served
	// The quick client ends its stream within the grace period: its relay
	// passes the EOF on and ends cleanly.
	quickDone := make(chan string)
	go func() {
		clients[0].(*net.TCPConn).CloseWrite()
		rest, err := io.ReadAll(clients[0])
		quickDone <- fmt.Sprintf("quick client: %q then EOF, err %v", rest, err)
	}()
	allEnded := shutdownRelays(&live, cancelRelays, time.Second)
	fmt.Println(<-quickDone)
	fmt.Println("all relays ended within the grace period:", allEnded)
	// The idle client's relay was cancelled: its stream was cut, so it
	// reads a reset (ECONNRESET), not an EOF it could take for a complete
	// stream.
	_, _ = io.ReadAll(clients[1])
	fmt.Println("relays cut by the shutdown:", cutByShutdown.Swap(0))
	// Output:
	// quick client: echo "quick"
	// idle client: echo "idle"
	// quick client: "" then EOF, err <nil>
	// all relays ended within the grace period: false
	// relays cut by the shutdown: 1
}
