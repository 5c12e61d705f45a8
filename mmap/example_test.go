package mmap_test

import (
	"encoding/binary"
	"fmt"
	"log"
	"os"

	"github.com/zerocopy-go/zerocopy/mmap"
)

// An index of fixed-size entries, read through a mapping with no system
// call per lookup.
func ExampleOpen() {
	f, err := os.CreateTemp("", "index")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	var entry [8]byte
	for i := range 1000 {
		binary.BigEndian.PutUint64(entry[:], uint64(i*i))
		if _, err := f.Write(entry[:]); err != nil {
			log.Fatal(err)
		}
	}
	f.Close()

	m, err := mmap.Open(f.Name())
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	if _, err := m.ReadAt(entry[:], 8*42); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Len(), binary.BigEndian.Uint64(entry[:]))
	// Output: 8000 1764
}

// A copy-on-write mapping: this process sees its change, the file does not.
func ExampleMap() {
	f, err := os.CreateTemp("", "cow")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.WriteString("hello, world"); err != nil {
		log.Fatal(err)
	}
	m, err := mmap.Map(f, 7, 0, mmap.CopyOnWrite) // any offset; alignment is handled
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	if _, err := m.WriteAt([]byte("W"), 0); err != nil {
		log.Fatal(err)
	}
	onDisk, _ := os.ReadFile(f.Name())
	fmt.Printf("%s | %s\n", m.Bytes(), onDisk)
	// Output: World | hello, world
}
