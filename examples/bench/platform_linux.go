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

// cgroupFS is where the cgroup hierarchies are mounted.
const cgroupFS = "/sys/fs/cgroup"

// memoryCgroup makes a fresh memory cgroup under fs limited to limit bytes
// (page cache included) and returns its directory and how to remove it.
// cgroup v2 (fs is the unified hierarchy, with cgroup.controllers): a
// child of the root with memory.max, after enabling the memory controller
// for the root's children if it is not yet. cgroup v1: a child of the
// memory hierarchy with memory.limit_in_bytes. skip says why neither is
// possible here.
func memoryCgroup(fs string, limit int64) (dir string, cleanup func(), skip string, err error) {
	name := fmt.Sprintf("zerocopy-bench-%d", os.Getpid())
	var limitFile string
	switch {
	case exists(filepath.Join(fs, "cgroup.controllers")): // v2
		if !hasWord(readText(filepath.Join(fs, "cgroup.controllers")), "memory") {
			return "", nil, "cgroup v2 without the memory controller", nil
		}
		ctl := filepath.Join(fs, "cgroup.subtree_control")
		if !hasWord(readText(ctl), "memory") {
			if err := os.WriteFile(ctl, []byte("+memory"), 0o644); err != nil {
				return "", nil, "cgroup v2: cannot enable the memory controller for child groups: " + err.Error(), nil
			}
		}
		dir, limitFile = filepath.Join(fs, name), "memory.max"
	case exists(filepath.Join(fs, "memory", "memory.limit_in_bytes")): // v1
		dir, limitFile = filepath.Join(fs, "memory", name), "memory.limit_in_bytes"
	default:
		return "", nil, "no memory cgroup: neither cgroup v2 (" + fs + "/cgroup.controllers) nor v1 (" + fs + "/memory)", nil
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", nil, "", err
	}
	cleanup = func() { _ = os.Remove(dir) }
	if err := os.WriteFile(filepath.Join(dir, limitFile), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
		cleanup()
		return "", nil, "", err
	}
	return dir, cleanup, "", nil
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// readText is the file's content, or "" if it cannot be read.
func readText(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

func setupHotSet(e *env) ([]contender, func(), string, error) {
	if os.Geteuid() != 0 {
		return nil, nil, "needs root to make a memory cgroup", nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, "", err
	}
	cg, cleanup, skip, err := memoryCgroup(cgroupFS, 512<<20)
	if skip != "" || err != nil {
		return nil, nil, skip, err
	}
	hot, err := makeFile(e, "hot", 200<<20)
	if err != nil {
		return nil, cleanup, "", err
	}
	hot.Close()
	big, err := makeFile(e, "big", 1<<30)
	if err != nil {
		return nil, cleanup, "", err
	}
	big.Close()
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
	check := func(err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	check(os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644))
	h, err := os.ReadFile(hot)
	check(err)
	_ = h
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	check(err)
	switch mode {
	case "sendfile":
		f, err := os.Open(big)
		check(err)
		_, err = zerocopy.SendFile(null, f, 0, -1)
		check(err)
	case "direct":
		f, err := directio.OpenFile(big, os.O_RDONLY, 0)
		check(err)
		r, err := directio.NewReader(f, nil)
		check(err)
		_, err = r.WriteTo(null)
		check(err)
	}
	res, err := resident(hot)
	check(err)
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

// kernel is "Linux" and the kernel's release.
func kernel() string {
	if r := strings.TrimSpace(readText("/proc/sys/kernel/osrelease")); r != "" {
		return "Linux " + r
	}
	return "Linux"
}

// loadAverage is the 1-minute load average (/proc/loadavg).
func loadAverage() (float64, bool) {
	f := strings.Fields(readText("/proc/loadavg"))
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}
