package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/directio"
)

func processCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func isTerminal(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	_ = rc.Control(func(fd uintptr) { _, err := unix.IoctlGetTermios(int(fd), unix.TCGETS); ok = err == nil })
	return ok
}

func canEvict() string { return "" }

// evict drops a file from the page cache: fsync, then POSIX_FADV_DONTNEED
// (no root needed, unlike /proc/sys/vm/drop_caches).
func evict(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = unix.Fadvise(int(fd), 0, 0, unix.FADV_DONTNEED) }); err != nil {
		return err
	}
	return ferr
}

const cgroupRoot = "/sys/fs/cgroup/memory"

func setupHotSet(e *env) ([]contender, func(), string, error) {
	if os.Geteuid() != 0 {
		return nil, nil, "needs root to make a memory cgroup", nil
	}
	if _, err := os.Stat(filepath.Join(cgroupRoot, "memory.limit_in_bytes")); err != nil {
		return nil, nil, "no cgroup v1 memory controller at " + cgroupRoot, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, "", err
	}
	hot, err := makeFile(e, "hot", 200<<20)
	if err != nil {
		return nil, nil, "", err
	}
	hot.Close()
	big, err := makeFile(e, "big", 1<<30)
	if err != nil {
		return nil, nil, "", err
	}
	big.Close()
	cg := filepath.Join(cgroupRoot, fmt.Sprintf("zerocopy-bench-%d", os.Getpid()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		return nil, nil, "", err
	}
	cleanup := func() { _ = os.Remove(cg) }
	if err := os.WriteFile(filepath.Join(cg, "memory.limit_in_bytes"), []byte("536870912"), 0o644); err != nil {
		return nil, cleanup, "", err
	}
	child := func(mode string) func() (int64, string, error) {
		return func() (int64, string, error) {
			for _, p := range []string{hot.Name(), big.Name()} {
				if err := evict(p); err != nil {
					return 0, "", err
				}
			}
			cmd := exec.Command(self)
			cmd.Env = append(os.Environ(), "ZEROCOPY_BENCH_HOTSET="+strings.Join([]string{mode, cg, hot.Name(), big.Name()}, "|"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				return 0, "", fmt.Errorf("hot-set child: %v: %s", err, out)
			}
			return 1 << 30, "hot file resident afterwards: " + strings.TrimSpace(string(out)), nil
		}
	}
	cs := []contender{
		{name: "directio.Reader", role: "lib", ops: 1, run: child("direct"), noCPU: true},
		{name: "sendfile", role: "plain", ops: 1, run: child("sendfile"), noCPU: true},
	}
	return cs, cleanup, "", nil
}

// hotSetChild runs inside the cgroup: warm the hot file, stream the big one
// to /dev/null, print the hot file's residency. It returns false when this
// process is not such a child.
func hotSetChild() bool {
	spec := os.Getenv("ZEROCOPY_BENCH_HOTSET")
	if spec == "" {
		return false
	}
	p := strings.Split(spec, "|")
	mode, cg, hot, big := p[0], p[1], p[2], p[3]
	must := func(err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	must(os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644))
	h, err := os.ReadFile(hot)
	must(err)
	_ = h
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	must(err)
	switch mode {
	case "sendfile":
		f, err := os.Open(big)
		must(err)
		_, err = zerocopy.SendFile(null, f, 0, -1)
		must(err)
	case "direct":
		f, err := directio.OpenFile(big, os.O_RDONLY, 0)
		must(err)
		r, err := directio.NewReader(f, nil)
		must(err)
		_, err = r.WriteTo(null)
		must(err)
	}
	res, err := resident(hot)
	must(err)
	fmt.Printf("%.0f%%\n", res*100)
	return true
}

func resident(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return 0, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var m []byte
	var merr error
	if err := rc.Control(func(fd uintptr) { m, merr = unix.Mmap(int(fd), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED) }); err != nil {
		return 0, err
	}
	if merr != nil {
		return 0, merr
	}
	defer unix.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafePointer(m)), uintptr(len(m)), uintptr(unsafePointer(vec))); e != 0 {
		return 0, e
	}
	in := 0
	for _, v := range vec {
		in += int(v & 1)
	}
	return float64(in) / float64(len(vec)), nil
}
