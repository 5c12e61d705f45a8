// Command directcopy copies a large file with direct I/O on both sides, so
// neither file passes through the page cache and nothing else's cached
// pages are pushed out:
//
//	directcopy [-block SIZE] [-depth N] SRC DST
//
// On a terminal it shows a progress line (bytes, rate, ETA); at the end it
// prints the rate and whether direct I/O ran on each side. SIZE takes K, M
// and G suffixes. Like cp, it refuses to copy a file onto itself, and checks
// its flags and the source before it creates or truncates DST. A filesystem
// that refuses O_DIRECT gets buffered I/O with drop-behind instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/directio"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Stderr, isTerminal(os.Stderr)))
}

// cli runs directcopy with the given arguments and returns its exit status.
// Bad flags are refused before any file is opened.
func cli(args []string, stderr io.Writer, progress bool) int {
	fs := flag.NewFlagSet("directcopy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	block := fs.String("block", "0", "bytes per read, e.g. 64K, 1M (0: the Reader's default, 4 MiB)")
	depth := fs.Int("depth", 0, "reads in flight (0: the Reader's default, 4)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: directcopy [-block SIZE] [-depth N] SRC DST

directcopy copies a large file with direct I/O (O_DIRECT) on both sides,
so neither file passes through the page cache and nothing else's cached
pages are pushed out. On a terminal it shows progress; at the end it
prints the rate and whether direct I/O ran on each side.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // -h: the usage was asked for
		}
		return 2
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	bs, err := parseSize(*block)
	if err != nil || bs > math.MaxInt32 {
		fmt.Fprintf(stderr, "directcopy: -block %q: want a size such as 4096, 64K or 1M\n", *block)
		return 2
	}
	if *depth < 0 {
		fmt.Fprintf(stderr, "directcopy: -depth %d: want 0 or more\n", *depth)
		return 2
	}
	if err := run(fs.Arg(0), fs.Arg(1), &directio.ReaderOptions{BlockSize: int(bs), Depth: *depth}, stderr, progress); err != nil {
		fmt.Fprintln(stderr, "directcopy:", err)
		return 1
	}
	return 0
}

// parseSize reads "0", "4096", "512K", "256M", "1G" (either case), as
// examples/bench -size does. Each example keeps its own copy so that the
// folder can be copied out on its own: the duplication is on purpose.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch strings.ToUpper(s[len(s)-min(1, len(s)):]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n * mult, nil
}

func openOr(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := directio.OpenFile(name, flag, perm)
	if errors.Is(err, errors.ErrUnsupported) {
		return os.OpenFile(name, flag, perm) // buffered with drop-behind
	}
	return f, err
}

// openSource opens srcName, which must be a regular file and not the same
// file as dstName (also through a symlink or a hard link).
func openSource(srcName, dstName string) (*os.File, os.FileInfo, error) {
	src, err := openOr(srcName, os.O_RDONLY, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := src.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a regular file", srcName)
	}
	if dfi, serr := os.Stat(dstName); err == nil && serr == nil && os.SameFile(fi, dfi) {
		err = fmt.Errorf("%q and %q are the same file", srcName, dstName)
	}
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return src, fi, nil
}

// run copies srcName to dstName. Everything is checked before the
// destination is created or truncated: the options, that the source is a
// regular file, and that the two are not the same file (also through a
// symlink or a hard link), as cp(1) does.
func run(srcName, dstName string, opt *directio.ReaderOptions, log io.Writer, progress bool) error {
	if opt != nil && (opt.BlockSize < 0 || opt.Depth < 0) {
		return fmt.Errorf("block size %d, depth %d: want 0 (the default) or more", opt.BlockSize, opt.Depth)
	}
	src, fi, err := openSource(srcName, dstName)
	if err != nil {
		return err
	}
	defer src.Close()
	r, err := directio.NewReader(src, opt)
	if err != nil {
		return err
	}
	defer r.Close()
	dst, err := openOr(dstName, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	defer dst.Close()
	w, err := directio.NewWriter(dst)
	if err != nil {
		return err
	}
	start := time.Now()
	// zerocopy.Copy hands the Reader's WriteTo a stand-in for w, so whole
	// aligned blocks go from the Reader's buffers into the Writer's, as
	// r.WriteTo(w) would, and counts them on the way: Progress is called
	// at most once per zerocopy.ProgressInterval (100 ms), on this
	// goroutine, and once at the end.
	c := zerocopy.Copier{}
	if progress {
		c.Progress = func(done int64) {
			fmt.Fprintf(log, "\r%s", progressLine(done, fi.Size(), time.Since(start)))
		}
	}
	n, err := c.Copy(context.Background(), w, r)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if progress {
		fmt.Fprint(log, "\r"+strings.Repeat(" ", 72)+"\r")
	}
	if err != nil {
		return err
	}
	if err := dst.Sync(); err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(log, "%d bytes in %v, %.1f MiB/s, direct I/O: read %v, write %v\n",
		n, el.Round(time.Millisecond), float64(n)/(1<<20)/el.Seconds(), r.Direct(), w.Direct())
	return nil
}

// progressLine renders "45.0% 450.0 MiB / 1000.0 MiB  300.0 MiB/s  ETA 2s".
func progressLine(done, total int64, el time.Duration) string {
	rate := float64(done) / max(el.Seconds(), 1e-9)
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	eta := "?"
	if rate > 0 {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("%5.1f%% %.1f MiB / %.1f MiB  %.1f MiB/s  ETA %s", pct, float64(done)/(1<<20), float64(total)/(1<<20), rate/(1<<20), eta)
}
