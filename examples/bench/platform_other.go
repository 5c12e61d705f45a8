//go:build !linux

package main

import (
	"os"
	"time"
)

func processCPU() time.Duration { return 0 }
func isTerminal(*os.File) bool  { return false }
func canEvict() string          { return "dropping one file from the page cache is Linux-only here" }
func evict(string) error        { return nil }
func hotSetChild() bool         { return false }
func setupHotSet(*env) ([]contender, func(), string, error) {
	return nil, nil, "needs Linux memory cgroups", nil
}
