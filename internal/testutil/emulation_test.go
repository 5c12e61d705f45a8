package testutil

import (
	"os"
	"strings"
	"testing"
)

const emulationChildEnv = "ZEROCOPY_TESTUTIL_EMULATION_CHILD"

// TestCommandRunsChild: Command starts this test binary again, natively or
// through the emulator running this one, and the child sees the same
// emulation.
func TestCommandRunsChild(t *testing.T) {
	if os.Getenv(emulationChildEnv) != "" {
		emulator, emulated := Emulation()
		t.Logf("child: emulator=%q emulated=%v", emulator, emulated)
		return
	}
	emulator, emulated := Emulation()
	cmd := Command(t, os.Args[0], "-test.run=^TestCommandRunsChild$", "-test.v")
	cmd.Env = append(os.Environ(), emulationChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child did not run: %v\n%s", err, out)
	}
	want := "child: emulator=\"" + emulator + "\" emulated=" + map[bool]string{true: "true", false: "false"}[emulated]
	if !strings.Contains(string(out), want) {
		t.Fatalf("the child did not say %q:\n%s", want, out)
	}
}
