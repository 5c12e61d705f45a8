package directio_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"unsafe"

	"github.com/zerocopy-go/zerocopy/directio"
)

func ExampleAlignedBuffer() {
	b := directio.AlignedBuffer(5000, 512)
	fmt.Println(len(b), uintptr(unsafe.Pointer(&b[0]))%512)
	// Output: 5000 0
}

// Stream a file with direct I/O: aligned reads into aligned buffers, read
// ahead by goroutines, and an exact count at the unaligned end of file.
// Reader.WriteTo hands each block on without another copy.
func ExampleReader() {
	dir, err := os.MkdirTemp("", "directio-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "data")
	if err := os.WriteFile(name, bytes.Repeat([]byte("x"), 10000), 0o644); err != nil {
		log.Fatal(err)
	}

	f, err := directio.OpenFile(name, os.O_RDONLY, 0)
	if errors.Is(err, errors.ErrUnsupported) {
		f, err = os.Open(name) // no O_DIRECT here: the Reader still works, through the page cache
	}
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r, err := directio.NewReader(f, nil) // nil: the measured defaults
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	n, err := io.Copy(io.Discard, r)
	fmt.Println(n, err)
	// Output: 10000 <nil>
}

// Write a file with direct I/O: whole aligned blocks go straight to the
// device; Close writes the unaligned tail, so the file ends at exactly the
// bytes written. The Writer does not close f.
func ExampleWriter() {
	dir, err := os.MkdirTemp("", "directio-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "out")

	f, err := directio.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if errors.Is(err, errors.ErrUnsupported) {
		f, err = os.Create(name) // no O_DIRECT here: written through the page cache, then dropped
	}
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	w, err := directio.NewWriter(f)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("y"), 10000)); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil { // the tail: 10000 is not a multiple of the block
		log.Fatal(err)
	}
	fi, _ := os.Stat(name)
	fmt.Println(fi.Size())
	// Output: 10000
}
