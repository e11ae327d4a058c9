//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockDataDir takes the embedded default's data_dir for this serve: an
// exclusive flock on data_dir/serve.lock, held until release (or until the
// process ends, however it ends, so a killed serve leaves no stale lock).
//
// Two serves on one SQLite file would each run their own in-process Redis
// and WeChat simulator: a write through one would not drop the other's
// cached GET /me answers or copy its logouts to the other's denylist, and
// a login code of one simulator means nothing to the other. The second
// stops at start instead, naming the first.
//
// A filesystem without flock (some network mounts) is not a reason to
// stop: warn says so, and serve runs without the check.
func lockDataDir(dir string) (release func(), warn string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("data_dir: %w", err)
	}
	path := filepath.Join(dir, "serve.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, "", fmt.Errorf("data_dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		abs, _ := filepath.Abs(dir)
		holder := "another jifen serve"
		if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
			holder = fmt.Sprintf("another jifen serve (pid %d)", pid)
		}
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, "", fmt.Errorf("data_dir %s is in use by %s: the embedded default runs one serve per data_dir "+
				"(its Redis and WeChat simulator live in that process); stop the other, or give this one its own "+
				"data_dir (JIFEN_DATA_DIR). Several instances on one database need production mode (mysql.dsn, redis.addr)", abs, holder)
		}
		return func() {}, fmt.Sprintf("data_dir: cannot lock %s (%v): a second serve on this data_dir would not be stopped", path, err), nil
	}
	// The holder's pid, for the message of the next one that tries.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Close() }, "", nil
}
