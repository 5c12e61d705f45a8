//go:build go1.24

package main

import "os"

// openRoot opens dir as an os.Root: lookups cannot leave it, symlinks
// included, and the check and the open are one step.
func openRoot(dir string) (root, error) { return os.OpenRoot(dir) }
