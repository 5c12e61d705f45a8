package mmap_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/zerocopy-go/zerocopy/mmap"
)

// At reads one byte, as golang.org/x/exp/mmap's ReaderAt.At does, with no
// system call.
func ExampleMapping_At() {
	f, err := os.CreateTemp("", "at")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString("hello, mapped world"); err != nil {
		log.Fatal(err)
	}
	f.Close()

	m, err := mmap.Open(f.Name())
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	var word []byte
	for i := 7; i < 13; i++ {
		word = append(word, m.At(i))
	}
	fmt.Printf("%d bytes, %q\n", m.Len(), word)
	// Output: 19 bytes, "mapped"
}

// A Reader gives a Mapping a position: Read and Seek for code written
// against an io.ReadSeeker, and WriteTo for io.Copy.
func ExampleNewReader() {
	f, err := os.CreateTemp("", "reader")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString("header;body of the file"); err != nil {
		log.Fatal(err)
	}
	f.Close()

	m, err := mmap.Open(f.Name())
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	r := mmap.NewReader(m)
	if _, err := r.Seek(int64(len("header;")), io.SeekStart); err != nil {
		log.Fatal(err)
	}
	var out strings.Builder
	if _, err := io.Copy(&out, r); err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.String())
	// Output: body of the file
}
