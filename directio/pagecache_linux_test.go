//go:build linux && !purego

package directio_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/directio"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// heavyEnv gates the tests that write gigabytes or need root.
const heavyEnv = "ZEROCOPY_HEAVY"

// TestPageCacheSurvives is the reason the package exists. In a child
// process confined to a 512 MiB memory cgroup (v1 memory.limit_in_bytes or
// v2 memory.max), a 200 MiB hot file is warmed, then a 1 GiB file is
// streamed to /dev/null (a) with sendfile and (b) with the direct Reader.
// (b) must leave at least 90% of the hot file resident; the test reports
// (a)'s figure. It writes 1.2 GiB and needs root: it runs only with
// ZEROCOPY_HEAVY=1.
func TestPageCacheSurvives(t *testing.T) {
	if os.Getenv("ZEROCOPY_PC_MODE") != "" {
		pageCacheChild(t)
		return
	}
	if os.Getenv(heavyEnv) != "1" {
		t.Skipf("writes 1.2 GiB and creates a memory cgroup (root): run it with %s=1 go test -run '^TestPageCacheSurvives$' -v ./directio", heavyEnv)
	}
	if testing.Short() {
		t.Skip("writes 1.2 GiB")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a memory cgroup")
	}
	cg, limitFile, err := makeMemCgroup(fmt.Sprintf("zerocopy-test-%d", os.Getpid()))
	if err != nil {
		t.Skipf("no memory cgroup: %v", err)
	}
	t.Cleanup(func() { _ = os.Remove(cg) })
	require.NoError(t, os.WriteFile(limitFile, []byte("536870912"), 0o644))
	t.Logf("memory cgroup %s (%s = 512 MiB)", cg, filepath.Base(limitFile))

	dir := t.TempDir()
	hot, big := filepath.Join(dir, "hot"), filepath.Join(dir, "big")
	testutil.WriteSized(t, hot, 200<<20)
	testutil.WriteSized(t, big, 1<<30)

	res := map[string]float64{}
	for _, mode := range []string{"sendfile", "direct"} {
		testutil.Evict(t, hot)
		testutil.Evict(t, big)
		cmd := testutil.Command(t, os.Args[0], "-test.run=^TestPageCacheSurvives$", "-test.v")
		cmd.Env = append(os.Environ(), "ZEROCOPY_PC_MODE="+mode, "ZEROCOPY_PC_HOT="+hot, "ZEROCOPY_PC_BIG="+big, "ZEROCOPY_PC_CGROUP="+cg)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		i := strings.Index(string(out), "RESIDENT ")
		require.GreaterOrEqual(t, i, 0, string(out))
		v, err := strconv.ParseFloat(strings.Fields(string(out)[i+len("RESIDENT "):])[0], 64)
		require.NoError(t, err)
		res[mode] = v
	}
	t.Logf("hot file resident after streaming 1 GiB in a 512 MiB cgroup: sendfile %.0f%%, direct %.0f%%", res["sendfile"]*100, res["direct"]*100)
	require.GreaterOrEqual(t, res["direct"], 0.9, "direct I/O must leave the hot set in the cache")
}

// makeMemCgroup creates a child memory cgroup named name and returns its
// directory and the file that sets its limit: under a cgroup v2 mount at
// /sys/fs/cgroup (the memory controller enabled for children), or under
// the v1 memory hierarchy at /sys/fs/cgroup/memory.
func makeMemCgroup(name string) (dir, limitFile string, err error) {
	const root = "/sys/fs/cgroup"
	if ctl, err := os.ReadFile(filepath.Join(root, "cgroup.controllers")); err == nil {
		if !slices.Contains(strings.Fields(string(ctl)), "memory") {
			return "", "", fmt.Errorf("cgroup v2 at %s has no memory controller (%q)", root, strings.TrimSpace(string(ctl)))
		}
		sub := filepath.Join(root, "cgroup.subtree_control")
		if on, _ := os.ReadFile(sub); !slices.Contains(strings.Fields(string(on)), "memory") {
			if err := os.WriteFile(sub, []byte("+memory"), 0o644); err != nil {
				return "", "", fmt.Errorf("cgroup v2: enabling memory for children: %w", err)
			}
		}
		dir = filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return "", "", err
		}
		return dir, filepath.Join(dir, "memory.max"), nil
	}
	v1 := filepath.Join(root, "memory")
	if _, err := os.Stat(filepath.Join(v1, "memory.limit_in_bytes")); err != nil {
		return "", "", fmt.Errorf("neither cgroup v2 at %s nor a v1 memory controller at %s", root, v1)
	}
	dir = filepath.Join(v1, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", "", err
	}
	return dir, filepath.Join(dir, "memory.limit_in_bytes"), nil
}

func pageCacheChild(t *testing.T) {
	// Join the cgroup before touching either file, so its pages are charged here.
	cg := os.Getenv("ZEROCOPY_PC_CGROUP")
	require.NoError(t, os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644))
	hot, big := os.Getenv("ZEROCOPY_PC_HOT"), os.Getenv("ZEROCOPY_PC_BIG")
	h, err := os.Open(hot)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, testutil.OnlyReader{R: h})
	require.NoError(t, err)
	require.NoError(t, h.Close())
	warm := testutil.Resident(t, hot)
	require.Greater(t, warm, 0.9, "the hot file is warm before streaming")

	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer null.Close()
	switch os.Getenv("ZEROCOPY_PC_MODE") {
	case "sendfile":
		f, err := os.Open(big)
		require.NoError(t, err)
		var rep zerocopy.Report
		c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
		n, err := c.SendFile(context.Background(), null, f, 0, -1)
		require.NoError(t, err)
		require.Equal(t, int64(1<<30), n)
		require.Equal(t, zerocopy.MethodSendfile, rep.Method)
		_ = f.Close()
	case "direct":
		f, err := directio.OpenFile(big, os.O_RDONLY, 0)
		require.NoError(t, err)
		r, err := directio.NewReader(f, nil)
		require.NoError(t, err)
		require.True(t, r.Direct())
		n, err := r.WriteTo(null)
		require.NoError(t, err)
		require.Equal(t, int64(1<<30), n)
		require.NoError(t, r.Close())
		_ = f.Close()
	}
	fmt.Printf("RESIDENT %.4f\n", testutil.Resident(t, hot))
}
