package formkey_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/formkey"
)

// memStore is formkey.Store in memory.
type memStore struct {
	mu   sync.Mutex
	keys map[formkey.Key]string // "" while worked
}

func (m *memStore) Claim(_ context.Context, k formkey.Key, _ time.Time) (bool, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if res, ok := m.keys[k]; ok {
		return false, res, nil
	}
	m.keys[k] = ""
	return true, "", nil
}

func (m *memStore) Finish(_ context.Context, k formkey.Key, res string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[k] = res
	return nil
}

func (m *memStore) Release(_ context.Context, k formkey.Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, k)
	return nil
}

func service() (*formkey.Service, *memStore) {
	st := &memStore{keys: map[formkey.Key]string{}}
	return &formkey.Service{Store: st, Clock: domain.NewFakeClock(time.Now()), Wait: 300 * time.Millisecond, Poll: 5 * time.Millisecond}, st
}

// A copy sent while the first is still writing waits for it and gets its
// result; a copy sent later gets it at once; neither writes.
func TestOnceWritesOncePerKey(t *testing.T) {
	s, _ := service()
	k := formkey.Key{Actor: "marketer", Form: "/console/rules", Key: formkey.New()}
	writes := 0
	started, finish := make(chan struct{}), make(chan struct{})
	go func() {
		<-started
		time.Sleep(50 * time.Millisecond)
		close(finish)
	}()
	first := make(chan string)
	go func() {
		res, _, _ := s.Once(context.Background(), k, func(context.Context) (string, error) {
			writes++
			close(started)
			<-finish
			return "/console/rules/1", nil
		})
		first <- res
	}()
	<-started
	res, replayed, err := s.Once(context.Background(), k, func(context.Context) (string, error) { writes++; return "/x", nil })
	if err != nil || !replayed || res != "/console/rules/1" || <-first != "/console/rules/1" {
		t.Fatalf("copy during the write: %q %v %v", res, replayed, err)
	}
	res, replayed, err = s.Once(context.Background(), k, func(context.Context) (string, error) { writes++; return "/x", nil })
	if err != nil || !replayed || res != "/console/rules/1" || writes != 1 {
		t.Fatalf("copy after the write: %q %v %v, %d writes", res, replayed, err, writes)
	}
}

// A failed write gives the key back; a key still being worked after Wait
// is refused (Conflict), not written again; a form without a key is
// Invalid.
func TestOnceFailuresAndWaits(t *testing.T) {
	s, st := service()
	k := formkey.Key{Actor: "marketer", Form: "/console/rules", Key: formkey.New()}
	bad := errors.New("refused")
	if _, _, err := s.Once(context.Background(), k, func(context.Context) (string, error) { return "", bad }); !errors.Is(err, bad) {
		t.Fatalf("failed write: %v", err)
	}
	if res, replayed, err := s.Once(context.Background(), k, func(context.Context) (string, error) { return "/ok", nil }); err != nil || replayed || res != "/ok" {
		t.Fatalf("the same key after a failure: %q %v %v", res, replayed, err)
	}
	stuck := formkey.Key{Actor: "marketer", Form: "/console/rules", Key: formkey.New()}
	st.keys[stuck] = "" // claimed by a process that died before it finished
	ran := false
	if _, _, err := s.Once(context.Background(), stuck, func(context.Context) (string, error) { ran = true; return "/dup", nil }); domain.ErrorCode(err) != domain.Conflict || ran {
		t.Fatalf("a key stuck being worked: %v (wrote: %v)", err, ran)
	}
	for _, key := range []string{"", "short", "../../etc", formkey.New() + "0"} {
		if _, _, err := s.Once(context.Background(), formkey.Key{Actor: "m", Form: "/f", Key: key}, nil); domain.ErrorCode(err) != domain.Invalid {
			t.Errorf("key %q: %v", key, err)
		}
	}
}
