//go:build !linux

package zerocopy_test

import "testing"

func openFDs(t *testing.T) int        { return 0 }
func pipeFDs(t *testing.T) int        { return 0 }
func requireNoPipesHeld(t *testing.T) {}
