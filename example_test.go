package zerocopy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zerocopy-go/zerocopy"
)

func ExampleCopy() {
	dir, err := os.MkdirTemp("", "zerocopy-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("hello, zero-copy world\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(filepath.Join(dir, "dst"))
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()

	// On Linux this is one copy_file_range call; elsewhere a buffered copy.
	n, err := zerocopy.Copy(out, in)
	if err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(out.Name())
	fmt.Printf("%d bytes: %s", n, b)
	// Output: 23 bytes: hello, zero-copy world
}

func ExampleSendFile() {
	f, err := os.CreateTemp("", "zerocopy-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.WriteString("0123456789abcdef"); err != nil {
		log.Fatal(err)
	}

	// Serve bytes 10..15; f's own offset (now 16) is neither used nor
	// moved, so other goroutines may serve other ranges of f at once.
	var w bytes.Buffer
	n, err := zerocopy.SendFile(&w, f, 10, 6)
	if err != nil {
		log.Fatal(err)
	}
	off, _ := f.Seek(0, io.SeekCurrent)
	fmt.Println(n, w.String(), off)

	// Past the end: the bytes that exist, and io.ErrUnexpectedEOF.
	w.Reset()
	n, err = zerocopy.SendFile(&w, f, 12, 100)
	fmt.Println(n, w.String(), err != nil)
	// Output:
	// 6 abcdef 16
	// 4 cdef true
}

func ExampleCopier() {
	c := zerocopy.Copier{
		BufferSize: 4096,
		Observe: func(r zerocopy.Report) {
			fmt.Printf("%d bytes by %s, fallback: %v\n", r.Bytes, r.Method, r.Fallback)
		},
	}
	// Neither side has a descriptor: the buffered path, on every platform.
	var dst strings.Builder
	if _, err := c.Copy(context.Background(), &dst, strings.NewReader("no descriptors here")); err != nil {
		log.Fatal(err)
	}
	fmt.Println(dst.String())
	// Output:
	// 19 bytes by buffered, fallback: <nil>
	// no descriptors here
}

func ExampleMethod_Available() {
	for _, m := range []zerocopy.Method{zerocopy.MethodBuffered, zerocopy.MethodCopyFileRange, zerocopy.MethodSendfile, zerocopy.MethodSplice} {
		fmt.Printf("%s: %v\n", m, m.Available())
	}
}

// A copy that gives up when its context ends: here a deadline, against a
// peer that sends 5 bytes and then nothing. The count is exact, and the
// error says why it stopped.
func ExampleCopier_Copy() {
	conn, peer := net.Pipe()
	defer conn.Close()
	defer peer.Close()
	go peer.Write([]byte("hello")) //nolint:errcheck // the peer then falls silent

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var dst bytes.Buffer
	var c zerocopy.Copier
	n, err := c.Copy(ctx, &dst, conn) // the peer never closes: only ctx ends it
	fmt.Println(n, dst.String(), errors.Is(err, context.DeadlineExceeded))
	// Output: 5 hello true
}

// CopyN and SendFile take a context too, and keep their own contracts.
func ExampleCopier_SendFile() {
	f, err := os.CreateTemp("", "zerocopy-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.WriteString("0123456789"); err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var c zerocopy.Copier
	var w bytes.Buffer
	n, err := c.SendFile(ctx, &w, f, 8, 5) // only 2 bytes exist from offset 8
	fmt.Println(n, w.String(), errors.Is(err, io.ErrUnexpectedEOF))
	// Output: 2 89 true
}

// A backup of a huge file that neither evicts the page cache nor fills it:
// with DirectIOThreshold, a source at least that large is read with O_DIRECT
// and a regular-file destination is written with O_DIRECT too, its
// unaligned tail included. (Where a filesystem refuses O_DIRECT, the copy
// still succeeds and Report.Fallback says why.)
func ExampleCopier_directIO() {
	dir, err := os.MkdirTemp("", "zerocopy-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if err := os.WriteFile(filepath.Join(dir, "big"), append(data, "tail"...), 0o644); err != nil {
		log.Fatal(err)
	}
	src, err := os.Open(filepath.Join(dir, "big"))
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(filepath.Join(dir, "backup"))
	if err != nil {
		log.Fatal(err)
	}
	defer dst.Close()

	c := zerocopy.Copier{
		DirectIOThreshold: 1 << 20, // files of 1 MiB and more (nginx uses "directio 1024m")
		Observe: func(r zerocopy.Report) {
			if r.Method != zerocopy.MethodDirectIO {
				fmt.Println("no direct I/O here:", r.Fallback) // another platform, or tmpfs before Linux 6.6
			}
		},
	}
	n, err := c.Copy(context.Background(), dst, src)
	if err != nil {
		log.Fatal(err)
	}
	fi, _ := dst.Stat()
	fmt.Println(n, fi.Size())
}
