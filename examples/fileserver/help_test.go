package main

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	if mainChild() {
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestHelp: -h exits 0 and says what fileserver does; the usage line names
// every flag.
func TestHelp(t *testing.T) {
	out, code := runMain(t, "-h")
	if code != 0 {
		t.Fatalf("-h exited %d:\n%s", code, out)
	}
	checkUsage(t, "fileserver", out, "serves the files under -root over HTTP")
}

// mainArgs, in the environment, makes this test binary run main with
// these arguments (space-separated) instead of the tests: see runMain.
const mainArgs = "EXAMPLE_MAIN_ARGS"

// mainChild runs main when runMain started this binary, and reports
// whether it did. TestMain calls it first.
func mainChild() bool {
	v, ok := os.LookupEnv(mainArgs)
	if !ok {
		return false
	}
	os.Args = append(os.Args[:1], strings.Fields(v)...)
	// A flag set without the test binary's own -test.* flags.
	flag.CommandLine = flag.NewFlagSet(os.Args[0], flag.ExitOnError)
	flag.CommandLine.Usage = func() { flag.Usage() }
	main()
	return true
}

// runMain runs main with args in a child process (this test binary) and
// returns what it printed and its exit status.
func runMain(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if emu := emulator(); emu != "" {
		// The kernel cannot start a foreign binary by itself (without a
		// binfmt_misc handler): start it through the same emulator.
		cmd = exec.Command(emu, os.Args[0], "-test.run=^$")
	}
	cmd.Env = append(os.Environ(), mainArgs+"="+strings.Join(args, " "))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// emulator returns the path of the user-mode emulator running this test
// binary (GOARCH=s390x go test -exec qemu-s390x-static), or "" natively.
// qemu answers /proc/self/exe with the guest binary; the kernel's own link
// for the same process, /proc/PID/task/PID/exe, names the emulator.
func emulator() string {
	pid := strconv.Itoa(os.Getpid())
	self, err := os.Readlink("/proc/self/exe")
	task, terr := os.Readlink("/proc/" + pid + "/task/" + pid + "/exe")
	if err != nil || terr != nil || self == task {
		return ""
	}
	return task
}

// checkUsage holds what -h printed to the contract every example keeps:
// a first line "usage: NAME ..." naming every flag that the defaults list
// below it, and a description that says what the program does (says).
func checkUsage(t *testing.T, name, out, says string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "usage: "+name+" ") {
		t.Fatalf("-h begins %q, want \"usage: %s ...\"\n%s", lines[0], name, out)
	}
	if !strings.Contains(strings.Join(strings.Fields(out), " "), says) {
		t.Fatalf("-h does not say what %s does (%q):\n%s", name, says, out)
	}
	flags := 0
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "  -") {
			continue
		}
		f := strings.Fields(l)[0]
		flags++
		if !regexp.MustCompile(`(^|[\s\[])` + regexp.QuoteMeta(f) + `\b`).MatchString(lines[0]) {
			t.Errorf("the usage line does not name %s: %q", f, lines[0])
		}
	}
	if flags == 0 {
		t.Fatalf("-h lists no flags:\n%s", out)
	}
}
