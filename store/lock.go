package store

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrLocked is returned when another run holds the store.
var ErrLocked = errors.New("another idgraph run holds the store")

// Lock takes the run lock of the store at path: an exclusive flock on
// path + ".lock", released when the process exits, even by SIGKILL, so a
// crashed run never leaves a stale lock. Two runs on one store would each
// be correct (SQLite serialises writers), but their drift and alerts would
// race; the second run is refused instead, with who holds the lock.
func Lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: opening the run lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path + ".lock")
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s): wait for it to finish, or check that no run is stuck", ErrLocked, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("store: taking the run lock: %w", err)
	}
	f.Truncate(0)
	f.WriteAt([]byte("pid "+strconv.Itoa(os.Getpid())+" since "+time.Now().UTC().Format(time.RFC3339)+"\n"), 0)
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
