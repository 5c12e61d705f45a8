// Command proxy is a TCP proxy built on zerocopy.Relay: both directions
// at once, each spliced socket to socket through a pooled kernel pipe, so
// the payload never enters user memory (conns without a descriptor, such
// as TLS, are relayed through a buffer). With -record, the
// client->upstream stream is also written to a file with tee(2): the bytes
// are read once and duplicated inside the kernel.
//
//	proxy -listen 127.0.0.1:8080 -upstream 127.0.0.1:80 [-idle 5m] [-record FILE]
//
// -record FILE writes connection N's client->upstream bytes to FILE.N
// (FILE.1, FILE.2, ...). -idle ends a connection on which neither peer
// took or gave a byte for that long (a client still reading a large
// answer slowly is not idle).
//
// A half-close is passed on: when one side finishes sending (EOF), the
// proxy shuts down the write side of the other (CloseWrite) and keeps the
// opposite direction running until it ends too. A connection cut before
// both sides finished (an error, the idle timeout, a recording that fails
// or cannot be created, an upstream that cannot be dialed) is closed with
// a reset (RST), never a FIN: a peer never takes a cut stream for a
// complete one. An idle connection holds no pipe. Each connection logs its
// bytes and the method that moved them, per direction.
//
// SIGINT or SIGTERM shuts the proxy down gracefully: it stops accepting,
// lets the connections in flight finish for -grace (default 10s), then
// cuts the rest (with a reset) and exits. A second signal cuts them at once
// (resets too: a kill would close them with a FIN); a third kills.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zerocopy-go/zerocopy"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to accept clients on")
	upstream := flag.String("upstream", "", "address to forward to (required)")
	record := flag.String("record", "", "write each connection's client->upstream bytes to FILE.N (N: connection number)")
	idle := flag.Duration("idle", 0, "cut a connection after this long in which neither side took or gave a byte (0: never); a client draining its own full receive buffer slowly shows no progress here: keep it above that time")
	copier := flag.String("copy", "zerocopy", "how to move bytes, for comparisons: zerocopy (Relay), io.Copy, or plain (32 KiB buffer)")
	grace := flag.Duration("grace", 10*time.Second, "on SIGINT or SIGTERM, how long connections in flight may go on before they are cut")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), `usage: proxy -upstream HOST:PORT [-listen HOST:PORT] [-idle DURATION] [-grace DURATION] [-record FILE (writes FILE.1, FILE.2, ... one per connection)] [-copy zerocopy|io.Copy|plain]

proxy accepts TCP connections on -listen and relays each to -upstream with
zerocopy.Relay: both directions spliced socket to socket, a half-close
passed on, an optional idle timeout, and with -record a copy of what each
client sends, made with tee(2). It logs each connection's bytes and the
method that moved them. SIGINT or SIGTERM stops it gracefully: no new
connections, -grace for the ones in flight, then a cut (a reset); a
second signal cuts at once.

`)
		flag.PrintDefaults()
	}
	flag.Parse()
	if *upstream == "" {
		flag.Usage()
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	p := &Proxy{Upstream: *upstream, Record: *record, Idle: *idle, Log: log.New(os.Stderr, "", log.LstdFlags)}
	switch *copier {
	case "zerocopy":
	case "io.Copy":
		p.copy = func(dst io.Writer, src io.Reader) (int64, string, error) {
			n, err := io.Copy(dst, src)
			return n, "io.Copy", err
		}
	case "plain":
		p.copy = func(dst io.Writer, src io.Reader) (int64, string, error) {
			n, err := io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, make([]byte, 32<<10))
			return n, "plain", err
		}
	default:
		log.Fatalf("-copy %q: want zerocopy, io.Copy or plain", *copier)
	}
	p.Log.Printf("proxying %s -> %s", ln.Addr(), *upstream)
	// Graceful shutdown: on the first signal, stop accepting and give the
	// connections in flight -grace; a second signal cuts them at once.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	shutDown := make(chan struct{})
	go p.shutdownOnSignal(sigs, *grace, shutDown)
	if err := p.Serve(ln); err != nil {
		log.Fatal(err)
	}
	// Serve returns once Shutdown has closed the listener and the last
	// connection has ended; Shutdown may not have returned yet (nor said
	// whether it cut any): exiting now would lose its last word.
	<-shutDown
}

// shutdownOnSignal shuts p down gracefully when a signal arrives on sigs:
// -grace for the connections in flight, less if a second signal comes,
// which cuts them at once (each peer is reset, never left with a FIN it
// could take for a complete stream, as the default action, a kill, would
// leave it). A third signal has the default action. It closes done when
// the shutdown has ended.
func (p *Proxy) shutdownOnSignal(sigs chan os.Signal, grace time.Duration, done chan<- struct{}) {
	defer close(done)
	<-sigs
	p.Log.Printf("shutting down: no new connections; %v for the ones in flight (a second signal cuts them now)", grace)
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	go cutOnSignal(ctx, sigs, cancel, p.Log)
	if err := p.Shutdown(ctx); err != nil {
		p.Log.Printf("shutdown: %v: the connections left were cut", err)
	}
}

// cutOnSignal ends the grace period (cancel) when a second signal arrives
// on sigs before ctx is done, and gives the signals their default action
// back either way.
func cutOnSignal(ctx context.Context, sigs chan os.Signal, cancel context.CancelFunc, log *log.Logger) {
	select {
	case s := <-sigs:
		log.Printf("%v: cutting the connections in flight now", s)
		cancel()
	case <-ctx.Done():
	}
	signal.Stop(sigs)
}

// Proxy forwards every connection accepted on a listener to Upstream.
type Proxy struct {
	Upstream string
	Record   string        // if set, FILE.N receives connection N's client->upstream bytes
	Idle     time.Duration // if set, a connection idle this long in both directions ends
	Log      *log.Logger

	conns atomic.Int64
	wg    sync.WaitGroup
	copy  func(dst io.Writer, src io.Reader) (int64, string, error) // nil: zerocopy.Copy

	mu     sync.Mutex
	lns    map[net.Listener]bool
	down   bool               // Shutdown was called
	ctx    context.Context    // the relays' context: cancelled when Shutdown's grace runs out
	cancel context.CancelFunc //
}

// relayContext is the context every relay runs under. It is the proxy's
// own, not tied to any request: a relay lives as long as its connection,
// until Shutdown cuts it.
func (p *Proxy) relayContext() context.Context {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx == nil {
		p.ctx, p.cancel = context.WithCancel(context.Background())
	}
	return p.ctx
}

// Shutdown stops the proxy gracefully, as http.Server.Shutdown does: it
// closes the listeners (Serve returns once the connections are done), then
// waits for the connections in flight until ctx is done, then cuts the
// rest (each is reset) and waits for them. It returns ctx's error if it had
// to cut.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.relayContext() // makes p.cancel
	p.mu.Lock()
	p.down = true
	for ln := range p.lns {
		_ = ln.Close()
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	p.cancel()
	<-done
	return ctx.Err()
}

// Serve accepts until ln is closed, then waits for the open connections.
// Any net.Listener will do, wrapped ones included (a limiting or TLS
// listener): the fast path applies wherever the conn exposes SyscallConn.
//
// Running out of descriptors (EMFILE, ENFILE) or memory while accepting
// does not stop it: it logs, waits (5 ms, doubling up to 1 s, as net/http's
// Server does) and accepts again, so the connections in flight go on.
func (p *Proxy) Serve(ln net.Listener) error {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	if p.lns == nil {
		p.lns = map[net.Listener]bool{}
	}
	p.lns[ln] = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.lns, ln)
		p.mu.Unlock()
	}()
	ctx := p.relayContext()
	defer p.wg.Wait()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if temporary(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				p.Log.Printf("accept: %v; retrying in %v", err, delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(ctx, c, p.conns.Add(1))
		}()
	}
}

// temporary reports accept errors that pass: out of descriptors or
// memory, or a connection aborted before it was accepted.
func temporary(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Stats is what one connection moved.
type Stats struct {
	Up, Down             int64 // client->upstream, upstream->client bytes
	UpMethod, DownMethod string
	Err                  error
}

func (p *Proxy) handle(ctx context.Context, client net.Conn, id int64) Stats {
	var st Stats
	var rec *os.File
	if p.Record != "" && p.copy == nil {
		var err error
		rec, err = os.Create(fmt.Sprintf("%s.%d", p.Record, id))
		if err != nil {
			reset(client)
			p.Log.Printf("conn %d: record: %v", id, err)
			return st
		}
		defer rec.Close()
	}
	up, err := net.Dial("tcp", p.Upstream)
	if err != nil {
		reset(client)
		p.Log.Printf("conn %d: dial %s: %v", id, p.Upstream, err)
		return st
	}
	if p.copy != nil {
		st = p.handCopied(ctx, client, up)
	} else {
		st = p.relay(ctx, client, up, rec)
	}
	p.Log.Printf("conn %d: client->upstream %s, upstream->client %s%s",
		id, moved(st.Up, st.UpMethod), moved(st.Down, st.DownMethod), errNote(st.Err))
	return st
}

// relay runs zerocopy.Relay between the client and upstream. Relay closes
// both conns.
func (p *Proxy) relay(ctx context.Context, client, up net.Conn, rec *os.File) Stats {
	var st Stats
	var mu sync.Mutex
	r := zerocopy.Relayer{IdleTimeout: p.Idle, Observe: func(rep zerocopy.RelayReport) {
		mu.Lock()
		defer mu.Unlock()
		if rep.AToB { // client -> upstream
			st.UpMethod = rep.Method.String()
		} else {
			st.DownMethod = rep.Method.String()
		}
	}}
	if rec != nil {
		r.TeeAToB = rec
	}
	up2, down, err := r.Relay(ctx, client, up)
	mu.Lock()
	defer mu.Unlock()
	st.Up, st.Down, st.Err = up2, down, err
	if rec != nil && st.UpMethod == zerocopy.MethodSplice.String() {
		st.UpMethod = "splice+tee"
	}
	return st
}

// handCopied is the relay Go programs write by hand (two goroutines, a
// copy each way, CloseWrite on EOF), kept for -copy io.Copy and plain
// comparisons.
func (p *Proxy) handCopied(ctx context.Context, client, up net.Conn) Stats {
	defer client.Close()
	defer up.Close()
	stop := context.AfterFunc(ctx, func() { reset(client); reset(up) }) // Shutdown's cut
	defer stop()
	var st Stats
	var upErr, downErr error
	var wg sync.WaitGroup
	var closedClient atomic.Bool
	wg.Add(2)
	go func() {
		defer wg.Done()
		st.Up, st.UpMethod, upErr = p.copy(up, client)
		closeWrite(up)
	}()
	go func() {
		defer wg.Done()
		st.Down, st.DownMethod, downErr = p.copy(client, up)
		if !closeWrite(client) {
			closedClient.Store(true)
			_ = client.Close()
		}
	}()
	wg.Wait()
	if closedClient.Load() && errors.Is(upErr, net.ErrClosed) {
		upErr = nil
	}
	st.Err = errors.Join(upErr, downErr)
	return st
}

// moved says "N bytes by METHOD", or "0 bytes" when nothing moved (no
// method did anything worth naming).
func moved(n int64, method string) string {
	if n == 0 {
		return "0 bytes"
	}
	return fmt.Sprintf("%d bytes by %s", n, method)
}

// closeWrite shuts down c's write side where it has one (TCP, Unix and TLS
// conns, and wrappers that pass CloseWrite on, or that hand out the conn
// they wrap with NetConn). It reports false when c has none.
func closeWrite(c net.Conn) bool {
	for {
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
			return true
		}
		nc, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return false
		}
		c = nc.NetConn()
	}
}

// reset closes c with a reset (RST) where it can carry one: a client whose
// connection cannot be served must not read a clean end.
func reset(c net.Conn) {
	if l, ok := c.(interface{ SetLinger(int) error }); ok {
		_ = l.SetLinger(0)
	}
	_ = c.Close()
}

func errNote(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}
