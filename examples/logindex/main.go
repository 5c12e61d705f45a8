// Command logindex is a small Kafka-style log: records are appended to a
// segment file, a sparse offset index (record offset -> file position) is
// kept in a file that is memory-mapped and binary-searched, and a fetch by
// offset is served over TCP with zerocopy.SendFile straight from the
// segment. Kafka does the same: log data goes out with sendfile, indexes
// live in mmap'd files.
//
// Run with no arguments, it writes -n records, starts a server on
// loopback, fetches -fetches random offsets with a client and verifies
// every record:
//
//	go run ./examples/logindex -n 100000 -size 1024
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/mmap"
)

func main() {
	var cfg config
	flag.IntVar(&cfg.records, "n", 10000, "records to write")
	flag.IntVar(&cfg.size, "size", 512, "largest record payload in bytes (each record is size/2..size)")
	flag.IntVar(&cfg.fetches, "fetches", 2000, "random fetches to make and verify")
	flag.IntVar(&cfg.interval, "interval", 4096, "bytes of log between index entries (Kafka's index.interval.bytes)")
	flag.StringVar(&cfg.dir, "dir", "", "directory for the segment and index (default: a temp dir, removed after)")
	flag.Usage = func() {
		out := flag.CommandLine.Output()
		fmt.Fprint(out, `usage: logindex [-n N] [-size BYTES] [-fetches N] [-interval BYTES] [-dir DIR]

logindex is a small Kafka-style log: it writes -n records to a segment
file and a sparse offset index, serves fetches by offset over loopback
TCP (the index memory-mapped with the mmap package, each record sent
with zerocopy.SendFile), fetches -fetches random records with a client,
verifies every byte and prints the counts, the rate and the method that
sent the bodies.

`)
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "logindex:", err)
		os.Exit(1)
	}
}

type config struct {
	records, size, fetches, interval int
	dir                              string
	ln                               net.Listener // the server's (nil: a new one on loopback)
}

// fetchTimeout bounds each fetch (request, then the whole answer): a
// server that never answers ends the run with an error, never a hang.
const fetchTimeout = 10 * time.Second

// The record format in the segment: offset (8 bytes), payload length
// (4 bytes), payload.
const recordHeader = 12

// An index entry: record offset (8 bytes), file position (8 bytes).
const entrySize = 16

// payload is the deterministic content of record off, so a client can
// verify what it fetched.
func payload(off uint64, maxSize int) []byte {
	r := rand.New(rand.NewPCG(off, 0x5eed))
	n := maxSize/2 + r.IntN(maxSize/2+1)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func run(cfg config, out io.Writer) error {
	if cfg.records < 1 || cfg.size < 2 || cfg.fetches < 0 || cfg.interval < 1 {
		return errors.New("-n and -interval must be at least 1, -size at least 2, -fetches at least 0")
	}
	dir := cfg.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "logindex-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	start := time.Now()
	if err := writeLog(dir, cfg); err != nil {
		return err
	}
	lg, err := openLog(dir)
	if err != nil {
		return err
	}
	defer lg.Close()
	fmt.Fprintf(out, "wrote %d records, %d-byte segment, %d index entries (mmap'd, %d bytes) in %v\n",
		cfg.records, lg.segSize, lg.index.Len()/entrySize, lg.index.Len(), time.Since(start).Round(time.Millisecond))

	ln := cfg.ln
	if ln == nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return err
		}
	}
	srv := &server{log: lg}
	served := make(chan error, 1)
	go func() { served <- srv.serve(ln) }()

	start = time.Now()
	verified, err := fetchAll(ln.Addr().String(), cfg)
	ln.Close()
	if serr := <-served; serr != nil {
		// The server's failure is the cause of the client's (a reset, a
		// timeout): report it.
		return fmt.Errorf("server: %w", serr)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Fprintf(out, "fetched and verified %d random records in %v (%.0f fetches/s); bodies sent by %s\n",
		verified, elapsed.Round(time.Millisecond), float64(verified)/elapsed.Seconds(), srv.methods())
	return nil
}

// writeLog appends the records to the segment and an index entry every
// cfg.interval bytes, as a Kafka broker does.
func writeLog(dir string, cfg config) error {
	seg, err := os.Create(filepath.Join(dir, "00000000.log"))
	if err != nil {
		return err
	}
	defer seg.Close()
	idx, err := os.Create(filepath.Join(dir, "00000000.index"))
	if err != nil {
		return err
	}
	defer idx.Close()
	var pos, lastIndexed int64 = 0, -1
	var hdr [recordHeader]byte
	var entry [entrySize]byte
	for off := range uint64(cfg.records) {
		if lastIndexed < 0 || pos-lastIndexed >= int64(cfg.interval) {
			binary.BigEndian.PutUint64(entry[:8], off)
			binary.BigEndian.PutUint64(entry[8:], uint64(pos))
			if _, err := idx.Write(entry[:]); err != nil {
				return err
			}
			lastIndexed = pos
		}
		p := payload(off, cfg.size)
		binary.BigEndian.PutUint64(hdr[:8], off)
		binary.BigEndian.PutUint32(hdr[8:], uint32(len(p)))
		if _, err := seg.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := seg.Write(p); err != nil {
			return err
		}
		pos += int64(recordHeader + len(p))
	}
	return nil
}

type logSegment struct {
	seg     *os.File // shared by every connection: SendFile never moves its offset
	segSize int64
	index   *mmap.Mapping // the sparse offset index, binary-searched in memory
}

func openLog(dir string) (*logSegment, error) {
	seg, err := os.Open(filepath.Join(dir, "00000000.log"))
	if err != nil {
		return nil, err
	}
	fi, err := seg.Stat()
	if err != nil {
		seg.Close()
		return nil, err
	}
	index, err := mmap.Open(filepath.Join(dir, "00000000.index"))
	if err != nil {
		seg.Close()
		return nil, err
	}
	_ = index.Advise(mmap.Random) // lookups jump around
	return &logSegment{seg: seg, segSize: fi.Size(), index: index}, nil
}

func (l *logSegment) Close() error {
	return errors.Join(l.index.Close(), l.seg.Close())
}

var errNotFound = errors.New("offset not in the log")

// locate finds record off: the index gives the greatest indexed offset at or
// below it, then a short scan of record headers (pread) reaches it.
func (l *logSegment) locate(off uint64) (pos int64, length int, err error) {
	idx := l.index.Bytes()
	n := len(idx) / entrySize
	i := sort.Search(n, func(i int) bool {
		return binary.BigEndian.Uint64(idx[i*entrySize:]) > off
	}) - 1
	if i < 0 {
		return 0, 0, errNotFound
	}
	pos = int64(binary.BigEndian.Uint64(idx[i*entrySize+8:]))
	var hdr [recordHeader]byte
	for pos < l.segSize {
		if _, err := l.seg.ReadAt(hdr[:], pos); err != nil {
			return 0, 0, err
		}
		got := binary.BigEndian.Uint64(hdr[:8])
		size := int(binary.BigEndian.Uint32(hdr[8:]))
		if got == off {
			return pos + recordHeader, size, nil
		}
		if got > off {
			break
		}
		pos += int64(recordHeader + size)
	}
	return 0, 0, errNotFound
}

type server struct {
	log *logSegment
	mu  sync.Mutex
	by  map[zerocopy.Method]int
}

// methods says how many bodies each method sent: "sendfile 2000".
func (s *server) methods() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.by) == 0 {
		return "none"
	}
	ms := make([]zerocopy.Method, 0, len(s.by))
	for m := range s.by {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("%s %d", m, s.by[m])
	}
	return strings.Join(parts, ", ")
}

// serve accepts connections until ln is closed (then it returns nil) or
// Accept fails. A failed Accept ends the demo with its error: running out
// of descriptors (EMFILE) cannot pass here, since the only connection is
// the client's own, waiting in the backlog. ln is closed then, which
// resets that connection, so the client never waits for an answer that
// cannot come. (A long-running server retries instead: see
// examples/proxy.) serve returns once every connection's handler has.
func (s *server) serve(ln net.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			ln.Close()
			return err
		}
		wg.Add(1)
		go func() { defer wg.Done(); defer c.Close(); s.handle(c) }()
	}
}

// handle answers fetches: request = offset (8 bytes); response = length
// (4 bytes, 0xffffffff if absent) followed by the record payload, which
// goes from the segment's page cache to the socket with sendfile.
func (s *server) handle(c net.Conn) {
	cp := zerocopy.Copier{Observe: func(r zerocopy.Report) {
		s.mu.Lock()
		if s.by == nil {
			s.by = map[zerocopy.Method]int{}
		}
		s.by[r.Method]++
		s.mu.Unlock()
	}}
	var req [8]byte
	var resp [4]byte
	for {
		if _, err := io.ReadFull(c, req[:]); err != nil {
			return
		}
		pos, length, err := s.log.locate(binary.BigEndian.Uint64(req[:]))
		if err != nil {
			binary.BigEndian.PutUint32(resp[:], 0xffffffff)
			if _, err := c.Write(resp[:]); err != nil {
				return
			}
			continue
		}
		binary.BigEndian.PutUint32(resp[:], uint32(length))
		if _, err := c.Write(resp[:]); err != nil {
			return
		}
		if _, err := cp.SendFile(context.Background(), c, s.log.seg, pos, int64(length)); err != nil {
			return
		}
	}
}

// fetchAll fetches cfg.fetches random offsets (and one past the end) and
// checks every payload against what was written.
func fetchAll(addr string, cfg config) (int, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	r := rand.New(rand.NewPCG(1, 2))
	var req [8]byte
	var resp [4]byte
	fetch := func(off uint64) ([]byte, bool, error) {
		if err := c.SetDeadline(time.Now().Add(fetchTimeout)); err != nil {
			return nil, false, err
		}
		binary.BigEndian.PutUint64(req[:], off)
		if _, err := c.Write(req[:]); err != nil {
			return nil, false, err
		}
		if _, err := io.ReadFull(c, resp[:]); err != nil {
			return nil, false, err
		}
		n := binary.BigEndian.Uint32(resp[:])
		if n == 0xffffffff {
			return nil, false, nil
		}
		b := make([]byte, n)
		_, err := io.ReadFull(c, b)
		return b, true, err
	}
	verified := 0
	for range cfg.fetches {
		off := r.Uint64N(uint64(cfg.records))
		got, ok, err := fetch(off)
		if err != nil {
			return verified, fmt.Errorf("fetch %d: %w", off, err)
		}
		if !ok {
			return verified, fmt.Errorf("fetch %d: not found", off)
		}
		if want := payload(off, cfg.size); string(got) != string(want) {
			return verified, fmt.Errorf("fetch %d: %d bytes differ from the %d written", off, len(got), len(want))
		}
		verified++
	}
	if _, ok, err := fetch(uint64(cfg.records)); err != nil || ok {
		return verified, fmt.Errorf("fetch past the end: found=%v err=%v, want not found", ok, err)
	}
	return verified, nil
}
