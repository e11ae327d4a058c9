package domain

import (
	"sync"
	"testing"
)

// A Memo answers what it was told, from many goroutines at once, and
// starts again empty once it holds memoMax entries rather than growing.
func TestMemoRemembersAndStaysBounded(t *testing.T) {
	var m Memo[int, string]
	if _, ok := m.Get(1); ok {
		t.Fatal("an empty memo remembered something")
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				k := g*1000 + i
				m.Put(k, "v")
				if v, ok := m.Get(k); !ok || v != "v" {
					t.Errorf("key %d: %q %v right after Put", k, v, ok)
					return
				}
			}
		}()
	}
	wg.Wait()
	for k := range 8000 {
		if _, ok := m.Get(k); !ok {
			t.Fatalf("key %d forgotten below the bound", k)
		}
	}
	for k := 8000; k < memoMax; k++ {
		m.Put(k, "v")
	}
	m.Put(-1, "new") // the memo is full: it starts again with this one
	if _, ok := m.Get(0); ok {
		t.Fatal("a full memo kept its old entries")
	}
	if v, ok := m.Get(-1); !ok || v != "new" {
		t.Fatalf("the entry that started it again: %q %v", v, ok)
	}
}
