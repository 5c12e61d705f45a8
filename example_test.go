package zerocopy_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"

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
	if _, err := c.Copy(bg, &dst, strings.NewReader("no descriptors here")); err != nil {
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
