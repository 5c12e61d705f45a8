package splice_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/zerocopy-go/zerocopy/splice"
)

// User memory into a pipe by reference, then out again.
func ExamplePipe_Vmsplice() {
	p, err := splice.NewPipe()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	msg := []byte("hello, pipe")
	if _, err := p.Vmsplice(msg); err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Len()) // msg must stay untouched while the bytes are in the pipe
	buf := make([]byte, p.Len())
	if _, err := io.ReadFull(p, buf); err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(buf), p.Len())
	// Output:
	// 11
	// hello, pipe 0
}

// One direction of a proxy: client to upstream until the client's EOF, then
// the half-close is passed on.
func ExampleSplice() {
	var client, upstream *net.TCPConn // accepted and dialled elsewhere
	n, err := splice.Splice(upstream, client, -1)
	if errors.Is(err, errors.ErrUnsupported) {
		var m int64
		m, err = io.Copy(upstream, client) // every byte Splice took has been delivered
		n += m
	}
	if err != nil {
		log.Printf("after %d bytes: %v", n, err)
	}
	_ = upstream.CloseWrite()
}
