package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestHelp: -h exits 0 and says what zcp does; the usage line names
// every flag. An unknown flag exits 2.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if code := cli([]string{"-h"}, &out); code != 0 {
		t.Fatalf("-h exited %d:\n%s", code, out.String())
	}
	checkUsage(t, "zcp", out.String(), "copies SRC to DST like cp(1), through zerocopy.Copy")
	out.Reset()
	if code := cli([]string{"-nope"}, &out); code != 2 {
		t.Fatalf("an unknown flag exited %d:\n%s", code, out.String())
	}
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
