package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/directio"
)

func TestCopy(t *testing.T) {
	noLeaks(t)
	for _, size := range []int{0, 1, 4095, 3<<20 + 17} {
		dir := t.TempDir()
		d := data(uint64(size), size)
		src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
		check(t, os.WriteFile(src, d, 0o640))
		var log bytes.Buffer
		start := time.Now()
		check(t, run(src, dst, &directio.ReaderOptions{BlockSize: 64 << 10, Depth: 2}, &log, true))
		el := time.Since(start)
		sameBytes(t, d, readFile(t, dst))
		mustContain(t, log.String(), fmt.Sprintf("\r%d bytes in ", size))
		// Progress lines: at most one per 100 ms (zerocopy.ProgressInterval)
		// plus the final one, which shows the whole file.
		var lines []string
		for _, l := range strings.Split(log.String(), "\r") {
			if strings.Contains(l, "MiB/s  ETA") {
				lines = append(lines, l)
			}
		}
		if most := int(el/zerocopy.ProgressInterval) + 2; len(lines) > most {
			t.Fatalf("%d progress lines in %v: want at most %d", len(lines), el, most)
		}
		if size > 0 {
			if len(lines) == 0 {
				t.Fatalf("no progress line: %q", log.String())
			}
			mustContain(t, lines[len(lines)-1], fmt.Sprintf("100.0%% %.1f MiB / %.1f MiB", float64(size)/(1<<20), float64(size)/(1<<20)))
		}
		fi, err := os.Stat(dst)
		check(t, err)
		sfi, err := os.Stat(src)
		check(t, err)
		// The source's permissions as this system keeps them: 0640 on
		// Unix; on Windows only a read-only attribute, so 0666 here.
		equal(t, sfi.Mode().Perm(), fi.Mode().Perm())
		direct := "false"
		if f, err := directio.OpenFile(src, os.O_RDONLY, 0); err == nil {
			direct = "true"
			check(t, f.Close())
		}
		if !regexp.MustCompile(`\d+ bytes in .*, direct I/O: read ` + direct + `, write ` + direct).MatchString(log.String()) {
			t.Fatalf("log: %q", log.String())
		}
	}
}

// TestBlockSizes: -block takes sizes as examples/bench -size does.
func TestBlockSizes(t *testing.T) {
	dir := t.TempDir()
	d := data(9, 1<<20+3)
	src := filepath.Join(dir, "src")
	check(t, os.WriteFile(src, d, 0o644))
	for _, block := range []string{"1M", "64k", "4096", "0"} {
		dst := filepath.Join(dir, "dst-"+block)
		var stderr bytes.Buffer
		equal(t, 0, cli([]string{"-block", block, "-depth", "2", src, dst}, &stderr, false), stderr.String())
		sameBytes(t, d, readFile(t, dst), "-block", block)
	}
	for in, want := range map[string]int64{"0": 0, "4096": 4096, "512K": 512 << 10, "256m": 256 << 20, "1G": 1 << 30} {
		got, err := parseSize(in)
		check(t, err, in)
		equal(t, want, got, in)
	}
}

// TestNeverDestroys: every refusal happens before the destination is
// created or truncated.
func TestNeverDestroys(t *testing.T) {
	noLeaks(t)
	dir := t.TempDir()
	d := data(5, 300000)
	f := filepath.Join(dir, "f")
	check(t, os.WriteFile(f, d, 0o644))
	links := symlink(t, "f", filepath.Join(dir, "link"))
	check(t, os.Link(f, filepath.Join(dir, "hard")))
	check(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	x := filepath.Join(dir, "x")
	for _, tc := range []struct {
		name string
		args []string
		want string // in the message
		code int
	}{
		{"same file", []string{f, f}, "are the same file", 1},
		{"same file through a symlink", []string{f, filepath.Join(dir, "link")}, "are the same file", 1},
		{"hard link", []string{f, filepath.Join(dir, "hard")}, "are the same file", 1},
		{"negative block", []string{"-block", "-5", f, x}, "-block", 2},
		{"bad block", []string{"-block", "1Q", f, x}, "-block", 2},
		{"negative depth", []string{"-depth", "-1", f, x}, "-depth", 2},
		{"directory source", []string{filepath.Join(dir, "sub"), x}, "not a regular file", 1},
		{"missing source", []string{filepath.Join(dir, "nope"), x}, notExistText(t), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.name, "symlink") && !links {
				t.Skip("no symlinks on this system (Windows without the privilege; Wine 8 makes none)")
			}
			var stderr bytes.Buffer
			equal(t, tc.code, cli(tc.args, &stderr, false), stderr.String())
			mustContain(t, stderr.String(), tc.want)
			sameBytes(t, d, readFile(t, f), "the source")
			if _, err := os.Lstat(x); !os.IsNotExist(err) {
				t.Fatalf("%s was created (%v)", x, err)
			}
		})
	}
}

func TestProgressLine(t *testing.T) {
	equal(t, " 45.0% 450.0 MiB / 1000.0 MiB  150.0 MiB/s  ETA 4s", progressLine(450<<20, 1000<<20, 3*time.Second))
	mustContain(t, progressLine(0, 0, 0), "100.0%")
}

func TestMissingSource(t *testing.T) {
	err := run(filepath.Join(t.TempDir(), "nope"), filepath.Join(t.TempDir(), "x"), nil, &bytes.Buffer{}, false)
	checkIs(t, err, os.ErrNotExist)
}
