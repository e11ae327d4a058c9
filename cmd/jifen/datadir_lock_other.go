//go:build !unix

package main

// lockDataDir does not lock where flock is missing: two serves on one
// data_dir are not detected there (see datadir_lock_unix.go).
func lockDataDir(string) (release func(), warn string, err error) { return func() {}, "", nil }
