package zerocopy_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"strings"

	"github.com/zerocopy-go/zerocopy"
)

// relayResult is what a relay returned.
type relayResult struct {
	aToB, bToA int64
	err        error
}

// serveConnect serves one client of a SOCKS-like proxy: the client's first
// line names the upstream ("CONNECT host:port\n"); everything after it is
// relayed. The proxy answers "OK\n" once the upstream is dialed.
func serveConnect(ctx context.Context, conn net.Conn) relayResult {
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil {
		conn.Close()
		return relayResult{err: err}
	}
	addr, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "CONNECT ")
	if !ok {
		conn.Close()
		return relayResult{err: fmt.Errorf("bad header %q", line)}
	}
	upstream, err := net.Dial("tcp", addr)
	if err != nil {
		conn.Close()
		return relayResult{err: err}
	}
	// A client that does not wait for an answer sends its first bytes with
	// the header, and br read them from conn along with it: they are in
	// br, no longer in conn. Relay(ctx, conn, upstream) would lose them.
	// WithReader puts them in front: Relay sends them first, exactly once,
	// then splices the rest from conn itself.
	fmt.Printf("header read; %d payload bytes already in the bufio.Reader\n", br.Buffered())
	if _, err := io.WriteString(conn, "OK\n"); err != nil {
		conn.Close()
		upstream.Close()
		return relayResult{err: err}
	}
	aToB, bToA, err := zerocopy.Relay(ctx, zerocopy.WithReader(conn, br), upstream)
	return relayResult{aToB, bToA, err}
}

// A SOCKS-like proxy reads its client's header with a bufio.Reader, which
// also reads the payload bytes sent with it. WithReader hands them to Relay
// with the conn, so the upstream receives every byte, in order.
func ExampleWithReader() {
	// The upstream: reads its client to EOF, then says what it got.
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer up.Close()
	go func() {
		c, err := up.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		got, _ := io.ReadAll(c)
		fmt.Fprintf(c, "upstream got %q", got)
	}()

	// The proxy.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	relayed := make(chan relayResult, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			relayed <- relayResult{err: err}
			return
		}
		relayed <- serveConnect(context.Background(), conn)
	}()

	// A client that does not wait for the answer: the header and its first
	// payload bytes in one write; the rest after the proxy's OK.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "CONNECT "+up.Addr().String()+"\nhello, "); err != nil {
		log.Fatal(err)
	}
	ok := make([]byte, 3)
	if _, err := io.ReadFull(c, ok); err != nil || string(ok) != "OK\n" {
		log.Fatalf("proxy answered %q, %v", ok, err)
	}
	if _, err := io.WriteString(c, "world"); err != nil {
		log.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite() // Relay passes the EOF on to the upstream
	answer, err := io.ReadAll(c)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(answer))
	r := <-relayed
	fmt.Printf("relayed %d bytes up, %d back, err %v\n", r.aToB, r.bToA, r.err)
	// Output:
	// header read; 7 payload bytes already in the bufio.Reader
	// upstream got "hello, world"
	// relayed 12 bytes up, 27 back, err <nil>
}
